//! Reading `.tf` files with hcl-edit, and evaluating a module directory's blocks into raw
//! resources.

use std::collections::{BTreeMap, HashMap};

use hcl_edit::Span as _;
use hcl_edit::structure::{Body as HclBody, Structure};

use super::expr::{Env, Expr};
use super::raw::{Lines, Raw, RawResource};
use super::{Body, TfBlock, TfFile};
use crate::error::{Problem, lowercase_first};
use crate::source::SourceFile;

/// Parses one file into its top-level blocks.
pub fn parse(file: &SourceFile) -> Result<TfFile, Vec<Problem>> {
    let body = match hcl_edit::parser::parse_body(&file.text) {
        Ok(b) => b,
        Err(e) => {
            let loc = e.location();
            let message = lowercase_first(e.message().trim());
            let message = message.lines().next().unwrap_or("").trim().to_owned();
            let offset = if loc.offset() > 0 || loc.line() <= 1 {
                loc.offset()
            } else {
                crate::formats::offset_of(&file.text, loc.line(), loc.column())
            };
            return Err(vec![Problem::parse(
                &file.path,
                &file.text,
                offset,
                1,
                format!("`{}` is not valid HCL: {message}", file.path),
                "here",
            )]);
        }
    };
    let lines = Lines::new(&file.text);
    let mut blocks = Vec::new();
    let mut assignments = BTreeMap::new();
    let tfvars = file.path.ends_with(".tfvars");
    for s in body.iter() {
        if let Structure::Attribute(a) = s {
            assignments.insert(a.key.value().to_string(), Expr::from_hcl(&a.value));
        }
        if let Structure::Block(b) = s {
            let range = b.span().unwrap_or(0..0);
            if tfvars {
                // Terraform rejects it; read as configuration, it would add resources.
                return Err(vec![Problem::parse(
                    &file.path,
                    &file.text,
                    range.start,
                    b.ident.value().len(),
                    format!(
                        "`{}` declares a `{}` block; a .tfvars file only assigns variables",
                        file.path,
                        b.ident.value()
                    ),
                    "a block",
                )]);
            }
            blocks.push(TfBlock {
                kind: b.ident.value().to_string(),
                labels: b.labels.iter().map(|l| l.as_str().to_owned()).collect(),
                body: convert(&b.body),
                span: lines.span(
                    &file.path,
                    &file.text,
                    range.start,
                    range.end.saturating_sub(range.start),
                ),
            });
        }
    }
    Ok(TfFile {
        path: file.path.clone(),
        blocks,
        assignments,
    })
}

fn convert(body: &HclBody) -> Body {
    let mut out = Body::default();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                out.attrs
                    .insert(a.key.value().to_string(), Expr::from_hcl(&a.value));
            }
            Structure::Block(b) => out.blocks.push((
                b.ident.value().to_string(),
                b.labels.iter().map(|l| l.as_str().to_owned()).collect(),
                convert(&b.body),
            )),
        }
    }
    out
}

/// Evaluates the blocks of one module directory into raw resources (resources and data sources).
pub fn raw_resources(files: &[&TfFile]) -> Vec<RawResource> {
    let mut vars: HashMap<&str, Option<&Expr>> = HashMap::new();
    let mut locals: HashMap<&str, &Expr> = HashMap::new();
    for f in files {
        for b in &f.blocks {
            match (b.kind.as_str(), b.labels.as_slice()) {
                ("variable", [name]) => {
                    vars.insert(name.as_str(), b.body.attrs.get("default"));
                }
                ("locals", []) => {
                    for (k, v) in &b.body.attrs {
                        locals.insert(k.as_str(), v);
                    }
                }
                _ => {}
            }
        }
    }
    let mut env = Env::new(vars, locals);
    // Values files: Terraform loads `terraform.tfvars`, then `*.auto.tfvars` in name order (a
    // later one wins); any other `.tfvars` applies only when passed with `-var-file`, which
    // vouch cannot see, so what it sets is unknown (and overrides the automatic files).
    let mut values: Vec<&&TfFile> = files.iter().filter(|f| f.is_tfvars()).collect();
    values.sort_by_key(|f| {
        (
            !f.is_auto_tfvars(),
            f.name() != "terraform.tfvars",
            f.name(),
        )
    });
    for f in values {
        for (name, value) in &f.assignments {
            let set = if f.is_auto_tfvars() {
                Ok(value)
            } else {
                Err(format!(
                    "variable `{name}` is set in `{}`, which applies only when passed with -var-file",
                    f.path
                ))
            };
            env.assigned.insert(name.as_str(), set);
        }
    }
    let mut out = Vec::new();
    for f in files {
        for b in &f.blocks {
            let (data, rtype, name) = match (b.kind.as_str(), b.labels.as_slice()) {
                ("resource", [t, n]) => (false, t, n),
                ("data", [t, n]) => (true, t, n),
                _ => continue,
            };
            let address = if data {
                format!("data.{rtype}.{name}")
            } else {
                format!("{rtype}.{name}")
            };
            out.push(RawResource {
                rtype: rtype.clone(),
                address,
                data,
                attrs: eval_body(&env, &b.body),
                refs: BTreeMap::new(),
                span: b.span.clone(),
            });
        }
    }
    out
}

/// A body as a map: attributes evaluated, nested blocks as lists of maps, `dynamic` blocks
/// unknown.
fn eval_body(env: &Env<'_>, body: &Body) -> BTreeMap<String, Raw> {
    let mut m: BTreeMap<String, Raw> = body
        .attrs
        .iter()
        .map(|(k, e)| (k.clone(), env.eval(e)))
        .collect();
    let mut dynamic = Vec::new();
    for (kind, labels, inner) in &body.blocks {
        if kind == "dynamic" {
            if let Some(name) = labels.first() {
                dynamic.push(name.clone());
            }
            continue;
        }
        if matches!(kind.as_str(), "lifecycle" | "provisioner" | "connection") {
            continue;
        }
        let v = Raw::Map(eval_body(env, inner));
        match m.get_mut(kind) {
            Some(Raw::List(items)) => items.push(v),
            Some(_) => {}
            None => {
                m.insert(kind.clone(), Raw::List(vec![v]));
            }
        }
    }
    for name in dynamic {
        m.insert(
            name.clone(),
            Raw::Unknown(format!("`{name}` is generated by a `dynamic` block")),
        );
    }
    m
}
