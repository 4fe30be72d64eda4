//! Reading `.tf` and `.tfvars` files with hcl-edit into blocks of [`Expr`]s.
//!
//! Block labels are checked as Terraform checks them (a `resource` has a type and a name, a
//! `variable` one name, `locals` none): a wrong count is an error at the block.

use std::collections::BTreeMap;

use hcl_edit::Span as _;
use hcl_edit::structure::{Body as HclBody, Structure};

use super::expr::Expr;
use super::raw::Lines;
use super::{Body, TfBlock, TfFile};
use crate::error::{Problem, lowercase_first};
use crate::source::SourceFile;

/// Prefix given to a repeated object key so that hcl-edit, which rejects repeated keys, parses
/// what Terraform accepts (`{ port = 80, port = 81 }`: the later one wins). [`Expr::from_hcl`]
/// removes it again.
pub const DUPLICATE_KEY_MARK: &str = "__vouch_duplicate_";

/// Most repeated object keys renamed in one file before giving up.
const MAX_DUPLICATE_KEYS: usize = 1_000;

/// Parses a body as Terraform does: a repeated key in an object constructor is allowed (the
/// later value wins), which hcl-edit rejects, so each one is renamed with a marker and parsed
/// again. Returns the body and the text it was parsed from (columns after a renamed key on its
/// line shift; lines do not).
fn parse_body(text: &str) -> Result<(HclBody, std::borrow::Cow<'_, str>), hcl_edit::parser::Error> {
    let mut text = std::borrow::Cow::Borrowed(text);
    for n in 0..MAX_DUPLICATE_KEYS {
        match hcl_edit::parser::parse_body(&text) {
            Ok(b) => return Ok((b, text)),
            Err(e) => {
                let repeated = e.message().contains("redefined object key");
                let offset = error_offset(&text, &e);
                match repeated.then(|| rename_key(&text, offset, n)).flatten() {
                    Some(renamed) => text = std::borrow::Cow::Owned(renamed),
                    None => return Err(e),
                }
            }
        }
    }
    hcl_edit::parser::parse_body(&text).map(|b| (b, text))
}

/// The byte offset a parse error points at.
fn error_offset(text: &str, e: &hcl_edit::parser::Error) -> usize {
    let loc = e.location();
    if loc.offset() > 0 || loc.line() <= 1 {
        loc.offset()
    } else {
        crate::formats::offset_of(text, loc.line(), loc.column())
    }
}

/// `text` with the object key at `offset` (an identifier or a quoted string) prefixed by the
/// duplicate mark; `None` when there is no such key there.
fn rename_key(text: &str, offset: usize, n: usize) -> Option<String> {
    let rest = text.get(offset..)?;
    let mark = format!("{DUPLICATE_KEY_MARK}{n}_");
    let at = if rest.starts_with('"') {
        offset + 1
    } else if rest
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
    {
        offset
    } else {
        return None;
    };
    let mut out = String::with_capacity(text.len() + mark.len());
    out.push_str(text.get(..at)?);
    out.push_str(&mark);
    out.push_str(text.get(at..)?);
    Some(out)
}

/// Parses one file into its top-level blocks.
pub fn parse(file: &SourceFile) -> Result<TfFile, Vec<Problem>> {
    let (body, text) = match parse_body(&file.text) {
        Ok(b) => b,
        Err(e) => {
            let message = lowercase_first(e.message().trim());
            let message = message.lines().next().unwrap_or("").trim().to_owned();
            let offset = error_offset(&file.text, &e);
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
    let lines = Lines::new(&text);
    let mut blocks = Vec::new();
    let mut assignments = BTreeMap::new();
    let tfvars = file.path.ends_with(".tfvars");
    let mut problems = Vec::new();
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
            if let Some(expected) = label_count(b.ident.value())
                && b.labels.len() != expected
            {
                problems.push(Problem::parse(
                    &file.path,
                    &file.text,
                    range.start,
                    b.ident.value().len(),
                    format!(
                        "a `{}` block needs {} in `{}`, this one has {}",
                        b.ident.value(),
                        match expected {
                            0 => "no label".to_owned(),
                            1 => "one label (its name)".to_owned(),
                            _ => "two labels (a type and a name)".to_owned(),
                        },
                        file.path,
                        b.labels.len()
                    ),
                    "this block",
                ));
                continue;
            }
            blocks.push(TfBlock {
                kind: b.ident.value().to_string(),
                labels: b.labels.iter().map(|l| l.as_str().to_owned()).collect(),
                body: convert(&b.body),
                span: lines.span(
                    &file.path,
                    &text,
                    range.start,
                    range.end.saturating_sub(range.start),
                ),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(TfFile {
        path: file.path.clone(),
        blocks,
        assignments,
        installed: BTreeMap::new(),
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

/// How many labels Terraform requires on a top-level block, for the kinds it knows.
fn label_count(kind: &str) -> Option<usize> {
    match kind {
        "resource" | "data" | "ephemeral" => Some(2),
        "variable" | "output" | "module" | "provider" | "check" => Some(1),
        "locals" | "terraform" | "moved" | "import" | "removed" => Some(0),
        _ => None,
    }
}
