//! The format-neutral "raw resource": what HCL and plan JSON both produce before normalisation.
//!
//! A [`Raw`] value is a Terraform value tree with two extra leaves: [`Raw::Ref`], a reference to
//! another resource's attribute (known to be set, value unknown), and [`Raw::Unknown`], a value a
//! static file cannot know. Nested blocks are lists of maps, as in plan JSON.

use std::collections::BTreeMap;

use crate::model::{Span, Value};

/// A Terraform value as far as a static reader knows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    List(Vec<Raw>),
    Map(BTreeMap<String, Raw>),
    /// A reference to another object's attribute (`aws_kms_key.k.arn`): set, value unknown.
    Ref(String),
    /// A value that cannot be known statically, with the reason.
    Unknown(String),
}

impl Raw {
    /// The raw value of a JSON value (plan values, `jsondecode`).
    pub fn from_json(v: &serde_json::Value) -> Raw {
        match v {
            serde_json::Value::Null => Raw::Null,
            serde_json::Value::Bool(b) => Raw::Bool(*b),
            serde_json::Value::Number(n) => Raw::Number(n.clone()),
            serde_json::Value::String(s) => Raw::String(s.clone()),
            serde_json::Value::Array(a) => Raw::List(a.iter().map(Raw::from_json).collect()),
            serde_json::Value::Object(o) => Raw::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Raw::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The JSON value (as `jsonencode` renders it): references become `${ref}` strings, an
    /// unknown part makes the whole value unknown.
    pub fn to_json(&self) -> Result<serde_json::Value, String> {
        Ok(match self {
            Raw::Null => serde_json::Value::Null,
            Raw::Bool(b) => serde_json::Value::Bool(*b),
            Raw::Number(n) => serde_json::Value::Number(n.clone()),
            Raw::String(s) => serde_json::Value::String(s.clone()),
            Raw::Ref(r) => serde_json::Value::String(format!("${{{r}}}")),
            Raw::List(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(Raw::to_json)
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Raw::Map(m) => {
                let mut o = serde_json::Map::new();
                for (k, v) in m {
                    o.insert(k.clone(), v.to_json()?);
                }
                serde_json::Value::Object(o)
            }
            Raw::Unknown(why) => return Err(why.clone()),
        })
    }

    /// True when the value or anything inside it is unknown.
    pub fn has_unknown(&self) -> bool {
        match self {
            Raw::Unknown(_) => true,
            Raw::List(items) => items.iter().any(Raw::has_unknown),
            Raw::Map(m) => m.values().any(Raw::has_unknown),
            _ => false,
        }
    }

    /// The first unknown reason inside the value.
    pub fn unknown_reason(&self) -> Option<String> {
        match self {
            Raw::Unknown(why) => Some(why.clone()),
            Raw::List(items) => items.iter().find_map(Raw::unknown_reason),
            Raw::Map(m) => m.values().find_map(Raw::unknown_reason),
            _ => None,
        }
    }

    /// The value as text when it is a scalar (references render as their text).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Raw::String(s) | Raw::Ref(s) => Some(s.clone()),
            Raw::Number(n) => Some(n.to_string()),
            Raw::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// One resource (or data source) before normalisation.
#[derive(Debug, Clone)]
pub struct RawResource {
    /// The resource type (`aws_s3_bucket`).
    pub rtype: String,
    /// `aws_s3_bucket.logs`, `data.aws_iam_policy_document.x`, `module.m.aws_s3_bucket.y`.
    pub address: String,
    /// True for a data source.
    pub data: bool,
    pub attrs: BTreeMap<String, Raw>,
    /// Addresses of the objects each top-level attribute refers to (plan `configuration`).
    pub refs: BTreeMap<String, Vec<String>>,
    pub span: Span,
    /// Why the instance may not exist (an unknown `count` or `for_each`), or `None`.
    pub presence: Option<String>,
}

/// What a path lookup found.
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    Absent,
    Known(&'a Raw),
    Unknown(&'a str),
}

const REF_UNKNOWN: &str = "the value comes from another resource and is known only after apply";

/// Follows `path` through maps; a list (a block) is entered through its first element.
pub fn field<'a>(attrs: &'a BTreeMap<String, Raw>, path: &[&str]) -> Field<'a> {
    let Some((first, rest)) = path.split_first() else {
        return Field::Absent;
    };
    let mut cur = match attrs.get(*first) {
        Some(v) => v,
        None => return Field::Absent,
    };
    for key in rest {
        cur = match first_of(cur) {
            Ok(Some(Raw::Map(m))) => match m.get(*key) {
                Some(v) => v,
                None => return Field::Absent,
            },
            Ok(_) => return Field::Absent,
            Err(why) => return Field::Unknown(why),
        };
    }
    match cur {
        Raw::Null => Field::Absent,
        Raw::Unknown(why) => Field::Unknown(why),
        v => Field::Known(v),
    }
}

/// A block value's first element (a single block is a map or a one-element list).
fn first_of(v: &Raw) -> Result<Option<&Raw>, &str> {
    match v {
        Raw::List(items) => match items.first() {
            Some(Raw::Unknown(why)) => Err(why),
            other => Ok(other),
        },
        Raw::Unknown(why) => Err(why),
        Raw::Ref(_) => Err(REF_UNKNOWN),
        Raw::Null => Ok(None),
        other => Ok(Some(other)),
    }
}

/// Every block named `key` (a map, a list of maps, or absent).
pub fn blocks<'a>(
    attrs: &'a BTreeMap<String, Raw>,
    key: &str,
) -> Result<Vec<&'a BTreeMap<String, Raw>>, String> {
    let mut out = Vec::new();
    match attrs.get(key) {
        None | Some(Raw::Null) => {}
        Some(Raw::Map(m)) => out.push(m),
        Some(Raw::List(items)) => {
            for item in items {
                match item {
                    Raw::Map(m) => out.push(m),
                    Raw::Null => {}
                    Raw::Unknown(why) => return Err(why.clone()),
                    _ => return Err(format!("`{key}` is not a block")),
                }
            }
        }
        Some(Raw::Unknown(why)) => return Err(why.clone()),
        Some(Raw::Ref(_)) => return Err(REF_UNKNOWN.to_owned()),
        Some(_) => return Err(format!("`{key}` is not a block")),
    }
    Ok(out)
}

/// A boolean attribute, `default` when absent.
pub fn bool_of(f: Field<'_>, default: bool) -> Value {
    match f {
        Field::Absent => Value::Bool(default),
        Field::Unknown(why) => Value::unknown(why),
        Field::Known(Raw::Bool(b)) => Value::Bool(*b),
        Field::Known(Raw::String(s)) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        Field::Known(Raw::String(s)) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        Field::Known(Raw::Ref(_)) => Value::unknown(REF_UNKNOWN),
        Field::Known(_) => Value::unknown("the value is not a boolean"),
    }
}

/// A string attribute (`None` when absent); a reference is its text.
pub fn str_of(f: Field<'_>) -> Option<Value> {
    match f {
        Field::Absent => None,
        Field::Unknown(why) => Some(Value::unknown(why)),
        Field::Known(v) => Some(v.as_text().map_or_else(
            || Value::unknown("the value is not a string"),
            Value::String,
        )),
    }
}

/// A literal string attribute: `Ok(None)` when absent, `Err(reason)` when not literal.
pub fn literal_of(f: Field<'_>) -> Result<Option<String>, String> {
    match f {
        Field::Absent => Ok(None),
        Field::Unknown(why) => Err(why.to_owned()),
        Field::Known(Raw::Ref(_)) => Err(REF_UNKNOWN.to_owned()),
        Field::Known(v) => v
            .as_text()
            .map(Some)
            .ok_or_else(|| "the value is not a string".to_owned()),
    }
}

/// A whole-number attribute (`default` when absent).
pub fn long_of(f: Field<'_>, default: Option<i64>) -> Option<Value> {
    match f {
        Field::Absent => default.map(Value::Long),
        Field::Unknown(why) => Some(Value::unknown(why)),
        Field::Known(v) => Some(match number(v) {
            Some(n) => Value::Long(n),
            None if matches!(v, Raw::Ref(_)) => Value::unknown(REF_UNKNOWN),
            None => Value::unknown("the value is not a number"),
        }),
    }
}

/// A raw value as a whole number, when it is one (or a string holding one).
pub fn number(v: &Raw) -> Option<i64> {
    match v {
        Raw::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Raw::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string or list of strings (references as their text); `Err` when something is unknown.
pub fn strings_of(f: Field<'_>) -> Result<Vec<String>, String> {
    match f {
        Field::Absent => Ok(Vec::new()),
        Field::Unknown(why) => Err(why.to_owned()),
        Field::Known(Raw::List(items)) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    Raw::Null => {}
                    Raw::Unknown(why) => return Err(why.clone()),
                    v => out.push(
                        v.as_text()
                            .ok_or_else(|| "a list item is not a string".to_owned())?,
                    ),
                }
            }
            Ok(out)
        }
        Field::Known(v) => v
            .as_text()
            .map(|s| vec![s])
            .ok_or_else(|| "the value is not a string".to_owned()),
    }
}

/// The address of the object a reference names: `aws_kms_key.k.arn` → `aws_kms_key.k`,
/// `module.m.aws_s3_bucket.b.id` → `module.m.aws_s3_bucket.b`,
/// `data.aws_iam_policy_document.d.json` → `data.aws_iam_policy_document.d`.
pub fn ref_target(reference: &str) -> Option<String> {
    let reference = reference.trim_start_matches("${").trim_end_matches('}');
    let parts = split_ref(reference);
    let mut i = 0;
    let mut out: Vec<&str> = Vec::new();
    while parts.get(i).is_some_and(|p| *p == "module") {
        out.extend(parts.get(i..i + 2)?);
        i += 2;
    }
    let take = if parts.get(i).is_some_and(|p| *p == "data") {
        3
    } else {
        2
    };
    let tail = parts.get(i..i + take)?;
    if tail.iter().any(|p| p.is_empty()) {
        return None;
    }
    out.extend(tail);
    Some(out.join("."))
}

/// Splits a reference on dots outside brackets and quotes.
fn split_ref(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            '.' if !quoted && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The address without a trailing instance key (`aws_s3_bucket.b[0]` → `aws_s3_bucket.b`).
pub fn strip_index(address: &str) -> &str {
    if address.ends_with(']')
        && let Some(i) = address.rfind('[')
    {
        return &address[..i];
    }
    address
}

/// Line starts of a text (shared with the other parsers).
pub use crate::lines::LineIndex as Lines;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            ref_target("aws_kms_key.k.arn").as_deref(),
            Some("aws_kms_key.k")
        );
        assert_eq!(
            ref_target("module.m.aws_s3_bucket.b.id").as_deref(),
            Some("module.m.aws_s3_bucket.b")
        );
        assert_eq!(
            ref_target("data.aws_iam_policy_document.d.json").as_deref(),
            Some("data.aws_iam_policy_document.d")
        );
        assert_eq!(
            ref_target("aws_s3_bucket.b[0].id").as_deref(),
            Some("aws_s3_bucket.b[0]")
        );
        assert_eq!(ref_target("aws_s3_bucket"), None);
    }

    #[test]
    fn lines_match_span_at() {
        let text = "a\nbé\n\ncd";
        let lines = Lines::new(text);
        for off in [0, 1, 2, 3, 5, 6, 7, 8] {
            assert_eq!(
                lines.span("f", text, off, 0),
                Span::at("f", text, off, 0),
                "{off}"
            );
        }
    }
}
