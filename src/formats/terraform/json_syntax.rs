//! Terraform's JSON configuration syntax (`.tf.json`, `.tfvars.json`) read into the same blocks
//! as HCL files.
//!
//! Strings are templates (`"${var.x}"` is the expression `var.x`); objects and arrays are
//! object and tuple constructors; a `"//"` property is a comment. Nested blocks cannot be told
//! from object attributes without the provider's schema, so both are kept as values, which is
//! what the normalisers read either way (a block is a map or a list of maps). A `dynamic`
//! property holds dynamic blocks, as in HCL. Block spans point at the block's name in the text.

use serde_json::{Map, Value as Json};

use super::expr::Expr;
use super::raw::Lines;
use super::{Body, TfBlock, TfFile};
use crate::error::Problem;
use crate::source::SourceFile;

/// Parses a `.tf.json` (or `.tfvars.json`) file.
pub fn parse(file: &SourceFile) -> Result<TfFile, Vec<Problem>> {
    let root: Json = serde_json::from_str(&file.text)
        .map_err(|e| vec![crate::formats::json_problem(file, &e)])?;
    let Json::Object(top) = root else {
        return Err(vec![problem(file, 0, "the top level is not a JSON object")]);
    };
    let lines = Lines::new(&file.text);
    let mut out = TfFile {
        path: file.path.clone(),
        ..TfFile::default()
    };
    let mut problems = Vec::new();
    if file.path.ends_with(".tfvars.json") {
        for (k, v) in &top {
            out.assignments.insert(k.clone(), literal(v));
        }
        return Ok(out);
    }
    let mut cursor = Cursor {
        text: &file.text,
        at: 0,
    };
    for (kind, v) in &top {
        if kind == "//" {
            continue;
        }
        let labels = match kind.as_str() {
            "resource" | "data" => 2,
            "variable" | "output" | "module" | "provider" => 1,
            "locals" | "terraform" => 0,
            _ => continue,
        };
        let start = cursor.find(kind);
        let mut found = Vec::new();
        collect(v, labels, &mut Vec::new(), &mut found);
        for (labels, body) in found {
            let offset = labels
                .last()
                .map_or(start, |l: &String| cursor.find_from(start, l));
            let body = match body {
                Some(b) => b,
                None => {
                    problems.push(problem(
                        file,
                        offset,
                        &format!("a `{kind}` block's body is not a JSON object"),
                    ));
                    continue;
                }
            };
            match block_body(body) {
                Ok(body) => out.blocks.push(TfBlock {
                    kind: kind.clone(),
                    labels,
                    body,
                    span: lines.span(&file.path, &file.text, offset, 0),
                }),
                Err(why) => problems.push(problem(file, offset, &why)),
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A block's labels and its body (`None` when the body is not an object).
type Labelled<'j> = (Vec<String>, Option<&'j Map<String, Json>>);

/// Finds label paths: `{"aws_s3_bucket": {"b": {body}}}` with two labels gives
/// `(["aws_s3_bucket","b"], body)`. A value may also be an array of such objects.
fn collect<'j>(
    v: &'j Json,
    labels_left: usize,
    path: &mut Vec<String>,
    out: &mut Vec<Labelled<'j>>,
) {
    match v {
        Json::Array(items) => {
            for i in items {
                collect(i, labels_left, path, out);
            }
        }
        Json::Object(o) if labels_left == 0 => out.push((path.clone(), Some(o))),
        Json::Object(o) => {
            for (k, inner) in o {
                if k == "//" {
                    continue;
                }
                path.push(k.clone());
                collect(inner, labels_left - 1, path, out);
                path.pop();
            }
        }
        _ => out.push((path.clone(), None)),
    }
}

fn block_body(o: &Map<String, Json>) -> Result<Body, String> {
    let mut body = Body::default();
    for (k, v) in o {
        match k.as_str() {
            "//" => {}
            "dynamic" => {
                let mut found = Vec::new();
                collect(v, 1, &mut Vec::new(), &mut found);
                for (labels, inner) in found {
                    let inner = inner.ok_or("a `dynamic` block's body is not a JSON object")?;
                    let mut dynamic = block_body(inner)?;
                    // `content` is a block, not an attribute.
                    if let Some(Expr::Object(_)) = dynamic.attrs.get("content")
                        && let Some(Json::Object(c)) = inner.get("content")
                    {
                        dynamic.attrs.remove("content");
                        dynamic
                            .blocks
                            .push(("content".to_owned(), Vec::new(), block_body(c)?));
                    }
                    body.blocks.push(("dynamic".to_owned(), labels, dynamic));
                }
            }
            "lifecycle" | "provisioner" | "connection" => {}
            _ => {
                body.attrs.insert(k.clone(), expression(v)?);
            }
        }
    }
    Ok(body)
}

/// A JSON value as an expression: strings are templates.
fn expression(v: &Json) -> Result<Expr, String> {
    Ok(match v {
        Json::Null => Expr::Null,
        Json::Bool(b) => Expr::Bool(*b),
        Json::Number(n) => Expr::Number(n.clone()),
        Json::String(s) => {
            Expr::from_json_string(s).map_err(|e| format!("`{s}` is not a valid template: {e}"))?
        }
        Json::Array(items) => Expr::Array(items.iter().map(expression).collect::<Result<_, _>>()?),
        Json::Object(o) => Expr::Object(
            o.iter()
                .filter(|(k, _)| *k != "//")
                .map(|(k, v)| Ok((Expr::Str(k.clone()), expression(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// A `.tfvars.json` value: literal, never a template.
fn literal(v: &Json) -> Expr {
    match v {
        Json::Null => Expr::Null,
        Json::Bool(b) => Expr::Bool(*b),
        Json::Number(n) => Expr::Number(n.clone()),
        Json::String(s) => Expr::Str(s.clone()),
        Json::Array(items) => Expr::Array(items.iter().map(literal).collect()),
        Json::Object(o) => Expr::Object(
            o.iter()
                .map(|(k, v)| (Expr::Str(k.clone()), literal(v)))
                .collect::<Vec<_>>(),
        ),
    }
}

fn problem(file: &SourceFile, offset: usize, message: &str) -> Problem {
    Problem::parse(
        &file.path,
        &file.text,
        offset,
        0,
        format!(
            "`{}` is not a valid Terraform JSON file: {message}",
            file.path
        ),
        "here",
    )
}

/// Finds quoted keys in the text, moving forward, so spans land near their block.
struct Cursor<'t> {
    text: &'t str,
    at: usize,
}

impl Cursor<'_> {
    fn find(&mut self, key: &str) -> usize {
        let at = self.find_from(self.at, key);
        self.at = at;
        at
    }

    fn find_from(&self, from: usize, key: &str) -> usize {
        let needle = serde_json::Value::String(key.to_owned()).to_string();
        self.text
            .get(from..)
            .and_then(|t| t.find(&needle))
            .map_or(from, |i| from + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_blocks_and_templates() {
        let text = r#"{
  "variable": {"pub": {"default": true}},
  "resource": {"aws_db_instance": {"db": {"publicly_accessible": "${var.pub}", "count": 1}}},
  "//": "a comment"
}"#;
        let f = parse(&SourceFile::new("main.tf.json", text)).unwrap_or_default();
        assert_eq!(f.blocks.len(), 2);
        let db = &f.blocks[1];
        assert_eq!(db.labels, vec!["aws_db_instance", "db"]);
        assert_eq!(db.span.line, 3);
        assert!(matches!(
            db.body.attrs.get("publicly_accessible"),
            Some(Expr::Template(_))
        ));
    }
}
