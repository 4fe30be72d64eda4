//! AWS IAM files: standalone policy documents, `aws iam get-policy-version` output and
//! `aws iam get-account-authorization-details` exports (documents as JSON or URL-encoded).
//!
//! A document becomes an `Aws::IamPolicy`; an export's users, groups, roles and customer managed
//! and inline policies become `Aws::IamUser`, `Aws::IamGroup`, `Aws::IamRole` and
//! `Aws::IamPolicy` entities with per-principal facts (see [`crate::iam`]). A recognised file
//! that is not valid is a problem at its location, never a silent skip.

mod export;
mod spans;

use std::sync::Arc;

use serde_json::Value as Json;

use crate::error::Problem;
use crate::iam::document::{self, Document, Origin};
use crate::iam::eval::compile_on;
use crate::iam::principals;
use crate::iam::trust;
use crate::lines::LineIndex;
use crate::model::{Resource, Span, Value};
use crate::source::SourceFile;

/// What kind of IAM file a JSON value is, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A policy document (`{"Statement": …}`).
    Document,
    /// `aws iam get-policy-version` output (`{"PolicyVersion": {"Document": …}}`).
    PolicyVersion,
    /// `aws iam get-account-authorization-details` output.
    AuthorizationDetails,
}

/// Keys only an authorization-details export has at its top level.
const EXPORT_KEYS: &[&str] = &[
    "UserDetailList",
    "GroupDetailList",
    "RoleDetailList",
    "Policies",
];

/// True when the text may be an IAM file (a cheap test before parsing JSON).
pub fn looks_like(text: &str) -> bool {
    text.contains("\"Statement\"")
        || text.contains("\"PolicyVersion\"")
        || EXPORT_KEYS[..3]
            .iter()
            .any(|k| text.contains(&format!("\"{k}\"")))
}

/// The shape of a parsed JSON value.
pub fn shape(v: &Json) -> Option<Shape> {
    let o = v.as_object()?;
    if o.contains_key("Statement") {
        Some(Shape::Document)
    } else if o
        .get("PolicyVersion")
        .is_some_and(|p| p.get("Document").is_some())
    {
        Some(Shape::PolicyVersion)
    } else if EXPORT_KEYS[..3].iter().any(|k| o.contains_key(*k)) {
        Some(Shape::AuthorizationDetails)
    } else {
        None
    }
}

/// Reads an IAM file of a known shape.
/// Time conditions are judged as of `as_of_days` (days since 1970-01-01).
pub fn parse_file(
    file: &SourceFile,
    v: &Json,
    shape: Shape,
    as_of_days: Option<i64>,
) -> Result<Vec<Resource>, Vec<Problem>> {
    match shape {
        Shape::Document => standalone(
            file,
            v,
            &spans::top_level(&file.text, "Statement"),
            as_of_days,
        ),
        Shape::PolicyVersion => {
            let doc = v.pointer("/PolicyVersion/Document").unwrap_or(&Json::Null);
            match decode(doc) {
                Ok(d) => standalone(file, &d, &[], as_of_days),
                Err(why) => Err(vec![problem(file, find(&file.text, "\"Document\""), why)]),
            }
        }
        Shape::AuthorizationDetails => export::parse(file, v, as_of_days),
    }
}

/// One document file → one `Aws::IamPolicy`.
fn standalone(
    file: &SourceFile,
    doc: &Json,
    stmt_offsets: &[usize],
    as_of_days: Option<i64>,
) -> Result<Vec<Resource>, Vec<Problem>> {
    let lines = LineIndex::new(&file.text);
    let stmt_lines: Vec<u32> = stmt_offsets
        .iter()
        .map(|o| lines.span(&file.path, &file.text, *o, 0).line)
        .collect();
    let address = format!("iam:{}", file.path);
    let origin = Origin {
        policy: address.clone(),
        file: file.path.clone(),
        line: 1,
    };
    match document::read(doc, &origin, &stmt_lines) {
        Ok(d) => {
            let mut r = Resource::new(
                "Aws::IamPolicy",
                address.clone(),
                Span::file_start(&file.path),
            );
            let compiled = Arc::new(compile_on(&address, &d, as_of_days));
            principals::policy_facts(&mut r, &d, &compiled);
            r.set("attached_to_user", Value::Bool(false));
            Ok(vec![r])
        }
        Err(why) => {
            let offset = statement_number(&why)
                .and_then(|n| stmt_offsets.get(n - 1).copied())
                .unwrap_or_else(|| find(&file.text, "\"Statement\""));
            Err(vec![problem(file, offset, why)])
        }
    }
}

/// `statement 2: …` → 2.
fn statement_number(why: &str) -> Option<usize> {
    why.strip_prefix("statement ")?
        .split(':')
        .next()?
        .parse()
        .ok()
}

fn find(text: &str, needle: &str) -> usize {
    text.find(needle).unwrap_or(0)
}

fn problem(file: &SourceFile, offset: usize, why: String) -> Problem {
    Problem::parse(
        &file.path,
        &file.text,
        offset,
        0,
        format!("`{}` is not a valid IAM policy: {why}", file.path),
        "here",
    )
    .with_help("an IAM policy document has `Version` and `Statement`; each statement has `Effect` (`Allow` or `Deny`), `Action` or `NotAction`, and `Resource` or `NotResource` (see docs/iam.md)")
}

/// A document as an export holds it: a JSON object, or a URL-encoded JSON string (the raw API's
/// form).
pub fn decode(v: &Json) -> Result<Json, String> {
    match v {
        Json::Object(_) => Ok(v.clone()),
        Json::String(s) => {
            let text = if s.trim_start().starts_with('{') {
                s.clone()
            } else {
                percent_decode(s)?
            };
            serde_json::from_str(&text)
                .map_err(|e| format!("the policy document is not valid JSON: {e}"))
        }
        _ => {
            Err("the policy document is neither a JSON object nor a URL-encoded string".to_owned())
        }
    }
}

/// Decodes `%XX` escapes (and `+` as a space, as form encoding writes it).
fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        format!("a bad `%` escape at byte {i} of a URL-encoded policy")
                    })?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "a URL-encoded policy is not UTF-8".to_owned())
}

/// Reads a document from JSON for the other readers (Terraform bucket policies).
pub fn read_json(doc: &Json, origin: &Origin) -> Result<Document, String> {
    document::read(doc, origin, &[])
}

/// True when a resource policy (a bucket policy) lets any principal in: `*`, `{"AWS": "*"}` or
/// `NotPrincipal`, with no condition that narrows who calls (transport or MFA conditions do not).
pub fn public_principal(doc: &Json) -> Result<bool, String> {
    let d = read_json(doc, &Origin::default())?;
    // A JSON document has no unknown part, so the answer is never undetermined.
    Ok(trust::public(&d).state != crate::iam::eval::Tri::No)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_documents() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            decode(&Json::String(enc.into())).ok(),
            Some(serde_json::json!({"Version": "2012-10-17", "Statement": []}))
        );
        assert!(decode(&Json::String("%7".into())).is_err());
        assert!(decode(&Json::Bool(true)).is_err());
    }

    #[test]
    fn shapes() {
        assert_eq!(
            shape(&serde_json::json!({"Statement": []})),
            Some(Shape::Document)
        );
        assert_eq!(
            shape(&serde_json::json!({"PolicyVersion": {"Document": {}}})),
            Some(Shape::PolicyVersion)
        );
        assert_eq!(
            shape(&serde_json::json!({"RoleDetailList": []})),
            Some(Shape::AuthorizationDetails)
        );
        assert_eq!(shape(&serde_json::json!({"Roles": []})), None);
    }
}
