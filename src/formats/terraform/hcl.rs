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
                    &file.text,
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
