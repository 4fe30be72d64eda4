//! Policy documents as read: statements whose elements (`Action`, `Resource`, `Principal`,
//! `Condition`, …) may each be partly unknown.
//!
//! A document comes from JSON text, from an account export, or from Terraform (a `jsonencode`
//! string or a `data "aws_iam_policy_document"`). [`read`] works on any value tree through
//! [`Node`], so an unknown leaf (a Terraform variable without a value) makes only its own element
//! unknown, with the reason, and never the whole document.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// A value tree a document can be read from (JSON, or Terraform's evaluated values).
pub trait Node {
    /// What the value is.
    fn view(&self) -> View<'_, Self>;
}

/// One node of a value tree.
pub enum View<'a, N: ?Sized> {
    Null,
    Text(Cow<'a, str>),
    /// A boolean or a number, as text.
    Scalar(String),
    List(Vec<&'a N>),
    Map(Vec<(&'a str, &'a N)>),
    /// A value that cannot be known, with the reason.
    Unknown(&'a str),
}

impl Node for serde_json::Value {
    fn view(&self) -> View<'_, Self> {
        use serde_json::Value as J;
        match self {
            J::Null => View::Null,
            J::Bool(b) => View::Scalar(b.to_string()),
            J::Number(n) => View::Scalar(n.to_string()),
            J::String(s) => View::Text(Cow::Borrowed(s)),
            J::Array(a) => View::List(a.iter().collect()),
            J::Object(o) => View::Map(o.iter().map(|(k, v)| (k.as_str(), v)).collect()),
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

/// A list element (`Action`/`NotAction`, `Resource`/`NotResource`): its known entries and the
/// reasons of the entries that are not known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Elem {
    /// `NotAction` / `NotResource`.
    pub negated: bool,
    pub items: Vec<String>,
    pub unknown: Vec<String>,
}

impl Elem {
    /// A fully known element.
    pub fn known(negated: bool, items: Vec<String>) -> Self {
        Elem {
            negated,
            items,
            unknown: Vec::new(),
        }
    }

    /// True when nothing in it is unknown.
    pub fn is_known(&self) -> bool {
        self.unknown.is_empty()
    }
}

/// `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principals {
    pub negated: bool,
    /// `"Principal": "*"`.
    pub anyone: bool,
    /// `AWS`, `Service`, `Federated`, `CanonicalUser` → identifiers.
    pub by_kind: BTreeMap<String, Vec<String>>,
    pub unknown: Vec<String>,
}

/// One condition: `"StringEquals": {"aws:SourceAccount": ["1"]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// As written (`ForAnyValue:StringLikeIfExists`).
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
    /// Why some of its values are not known.
    pub unknown: Option<String>,
}

/// A statement's `Condition` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    pub list: Vec<Condition>,
    /// Why the block (or an operator's map) is not known.
    pub unknown: Option<String>,
}

impl Conditions {
    /// True when there is no condition at all.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.unknown.is_none()
    }
}

/// Where a statement comes from, for findings: `statement `Sid` (file:line)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    /// The policy: a Terraform address, a policy name or ARN, a file.
    pub policy: String,
    pub file: String,
    pub line: u32,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    /// 1-based position in the document.
    pub index: usize,
    /// `Err(reason)` when the effect is not known.
    pub effect: Result<Effect, String>,
    pub action: Elem,
    /// `None` when absent (trust policies).
    pub resource: Option<Elem>,
    pub principal: Option<Principals>,
    pub condition: Conditions,
    pub origin: Origin,
}

impl Statement {
    /// `statement `Sid` (file:line)` or `statement 2 (file:line)`.
    pub fn label(&self) -> String {
        let name = match &self.sid {
            Some(s) if !s.is_empty() => format!("statement `{s}`"),
            _ => format!("statement {}", self.index),
        };
        if self.origin.file.is_empty() {
            name
        } else {
            format!("{name} ({}:{})", self.origin.file, self.origin.line)
        }
    }
}

/// A policy document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    pub statements: Vec<Statement>,
    /// Why the statement list itself is not known (then nothing about the document is).
    pub unknown: Option<String>,
    pub origin: Origin,
}

impl Document {
    /// The document without its `Allow` statements whose time window has ended by
    /// `as_of_days` ([`super::condition::ended`]): for trust policies, read statement by
    /// statement, where an ended statement lets nobody in.
    pub fn without_ended_allows(mut self, as_of_days: Option<i64>) -> Document {
        if let Some(day) = as_of_days {
            self.statements.retain(|s| {
                s.effect != Ok(Effect::Allow)
                    || super::condition::ended(&s.condition, day).is_none()
            });
        }
        self
    }

    /// A document that cannot be known at all.
    pub fn unknown(origin: Origin, reason: impl Into<String>) -> Self {
        Document {
            statements: Vec::new(),
            unknown: Some(reason.into()),
            origin,
        }
    }
}

const TOP_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Reads a policy document. `lines` gives each statement's line (by position) when the caller
/// knows it; otherwise statements carry the document's line. An element whose value is not
/// known is kept unknown with its reason; a document that is not a valid policy is an error.
pub fn read<N: Node + ?Sized>(doc: &N, origin: &Origin, lines: &[u32]) -> Result<Document, String> {
    let fields = match doc.view() {
        View::Map(m) => m,
        View::Unknown(why) => return Ok(Document::unknown(origin.clone(), why)),
        _ => return Err("the policy document is not a JSON object".to_owned()),
    };
    if let Some((k, _)) = fields.iter().find(|(k, _)| !TOP_KEYS.contains(k)) {
        return Err(format!("unknown policy element `{k}`"));
    }
    let Some((_, list)) = fields.iter().find(|(k, _)| *k == "Statement") else {
        return Err("the policy document has no `Statement`".to_owned());
    };
    let items: Vec<&N> = match list.view() {
        View::List(items) => items,
        View::Map(_) => vec![*list],
        View::Unknown(why) => return Ok(Document::unknown(origin.clone(), why)),
        _ => return Err("`Statement` must be an object or an array of objects".to_owned()),
    };
    let mut statements = Vec::with_capacity(items.len());
    for (i, s) in items.into_iter().enumerate() {
        let mut o = origin.clone();
        if let Some(l) = lines.get(i) {
            o.line = *l;
        }
        match s.view() {
            View::Unknown(why) => {
                return Ok(Document::unknown(
                    origin.clone(),
                    format!("statement {} is not known: {why}", i + 1),
                ));
            }
            View::Map(m) => statements.push(statement(&m, i + 1, o)?),
            _ => return Err("`Statement` must be an object or an array of objects".to_owned()),
        }
    }
    Ok(Document {
        statements,
        unknown: None,
        origin: origin.clone(),
    })
}

fn statement<N: Node + ?Sized>(
    m: &[(&str, &N)],
    index: usize,
    origin: Origin,
) -> Result<Statement, String> {
    let at = |e: String| format!("statement {index}: {e}");
    if let Some((k, _)) = m.iter().find(|(k, _)| !STATEMENT_KEYS.contains(k)) {
        return Err(at(format!("unknown statement element `{k}`")));
    }
    let get = |key: &str| m.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let sid = match get("Sid").map(|v| v.view()) {
        Some(View::Text(s)) => Some(s.into_owned()),
        _ => None,
    };
    let effect = match get("Effect").map(|v| v.view()) {
        Some(View::Text(e)) if e.eq_ignore_ascii_case("allow") => Ok(Effect::Allow),
        Some(View::Text(e)) if e.eq_ignore_ascii_case("deny") => Ok(Effect::Deny),
        Some(View::Text(e)) => {
            return Err(at(format!("`Effect` must be `Allow` or `Deny`, not `{e}`")));
        }
        Some(View::Unknown(why)) => Err(format!("the `Effect` is not known: {why}")),
        Some(_) => return Err(at("`Effect` must be `Allow` or `Deny`".to_owned())),
        None => return Err(at("a statement has no `Effect`".to_owned())),
    };
    let action = match (get("Action"), get("NotAction")) {
        (Some(_), Some(_)) => {
            return Err(at(
                "a statement has both `Action` and `NotAction`".to_owned()
            ));
        }
        (Some(a), None) => list(a, "Action", false).map_err(at)?,
        (None, Some(a)) => list(a, "NotAction", true).map_err(at)?,
        (None, None) => {
            return Err(at(
                "a statement has neither `Action` nor `NotAction`".to_owned()
            ));
        }
    };
    let mut action = action;
    for a in &mut action.items {
        a.make_ascii_lowercase();
    }
    let resource = match (get("Resource"), get("NotResource")) {
        (Some(_), Some(_)) => {
            return Err(at(
                "a statement has both `Resource` and `NotResource`".to_owned()
            ));
        }
        (Some(r), None) => Some(list(r, "Resource", false).map_err(at)?),
        (None, Some(r)) => Some(list(r, "NotResource", true).map_err(at)?),
        (None, None) => None,
    };
    let principal = match (get("Principal"), get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(at(
                "a statement has both `Principal` and `NotPrincipal`".to_owned()
            ));
        }
        (Some(p), None) => Some(principals(p, false).map_err(at)?),
        (None, Some(p)) => Some(principals(p, true).map_err(at)?),
        (None, None) => None,
    };
    let condition = match get("Condition") {
        Some(c) => conditions(c).map_err(at)?,
        None => Conditions::default(),
    };
    Ok(Statement {
        sid,
        index,
        effect,
        action,
        resource,
        principal,
        condition,
        origin,
    })
}

/// A string or list of strings, keeping unknown entries' reasons.
fn list<N: Node + ?Sized>(v: &N, key: &str, negated: bool) -> Result<Elem, String> {
    let mut e = Elem {
        negated,
        ..Elem::default()
    };
    let bad = || format!("`{key}` must be a string or an array of strings");
    match v.view() {
        View::Text(s) => e.items.push(s.into_owned()),
        View::Unknown(why) => e.unknown.push(why.to_owned()),
        View::List(items) => {
            for i in items {
                match i.view() {
                    View::Text(s) => e.items.push(s.into_owned()),
                    View::Unknown(why) => e.unknown.push(why.to_owned()),
                    View::Null => {}
                    _ => return Err(bad()),
                }
            }
        }
        _ => return Err(bad()),
    }
    Ok(e)
}

fn principals<N: Node + ?Sized>(v: &N, negated: bool) -> Result<Principals, String> {
    let mut p = Principals {
        negated,
        ..Principals::default()
    };
    let bad = "a principal must be `*` or an object of principal types";
    match v.view() {
        View::Text(s) if s == "*" => p.anyone = true,
        View::Unknown(why) => p.unknown.push(why.to_owned()),
        View::Map(kinds) => {
            for (kind, ids) in kinds {
                let e = list(ids, kind, false)?;
                p.unknown.extend(e.unknown);
                p.by_kind
                    .entry(kind.to_owned())
                    .or_default()
                    .extend(e.items);
            }
        }
        _ => return Err(bad.to_owned()),
    }
    Ok(p)
}

fn conditions<N: Node + ?Sized>(v: &N) -> Result<Conditions, String> {
    let mut c = Conditions::default();
    let ops = match v.view() {
        View::Map(ops) => ops,
        View::Unknown(why) => {
            c.unknown = Some(why.to_owned());
            return Ok(c);
        }
        View::Null => return Ok(c),
        _ => return Err("`Condition` must be an object".to_owned()),
    };
    for (op, keys) in ops {
        let keys = match keys.view() {
            View::Map(k) => k,
            View::Unknown(why) => {
                c.unknown = Some(format!("the `{op}` condition is not known: {why}"));
                continue;
            }
            _ => return Err(format!("the `{op}` condition must be an object")),
        };
        for (key, values) in keys {
            let mut cond = Condition {
                operator: op.to_owned(),
                key: key.to_owned(),
                values: Vec::new(),
                unknown: None,
            };
            let push = |n: &N, cond: &mut Condition| -> Result<(), String> {
                match n.view() {
                    View::Text(s) => cond.values.push(s.into_owned()),
                    View::Scalar(s) => cond.values.push(s),
                    View::Unknown(why) => cond.unknown = Some(why.to_owned()),
                    View::Null => {}
                    _ => return Err(format!("the values of `{key}` must be strings")),
                }
                Ok(())
            };
            match values.view() {
                View::List(items) => {
                    for i in items {
                        push(i, &mut cond)?;
                    }
                }
                _ => push(values, &mut cond)?,
            }
            c.list.push(cond);
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> Origin {
        Origin {
            policy: "p".into(),
            file: "f.json".into(),
            line: 1,
        }
    }

    #[test]
    fn reads_statements() {
        let d = read(
            &json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "A", "Effect": "Allow", "NotAction": "IAM:*", "NotResource": ["arn:x"],
                 "Condition": {"StringEquals": {"aws:SourceAccount": ["1", "2"]}, "Bool": {"aws:SecureTransport": true}}},
                {"Effect": "Deny", "Action": ["s3:GetObject"], "Principal": {"AWS": "*"}}
            ]}),
            &origin(),
            &[3, 9],
        )
        .unwrap_or_default();
        assert_eq!(d.statements.len(), 2);
        let a = &d.statements[0];
        assert!(a.action.negated);
        assert_eq!(a.action.items, vec!["iam:*"]);
        assert!(a.resource.as_ref().is_some_and(|r| r.negated));
        assert_eq!(a.condition.list.len(), 2);
        assert_eq!(a.label(), "statement `A` (f.json:3)");
        let b = &d.statements[1];
        assert_eq!(b.effect, Ok(Effect::Deny));
        assert_eq!(b.label(), "statement 2 (f.json:9)");
        assert!(
            b.principal
                .as_ref()
                .is_some_and(|p| p.by_kind["AWS"] == vec!["*"])
        );
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            json!({"Statement": "x"}),
            json!({"Statement": {"Action": "*"}}),
            json!({"Statement": {"Effect": "Maybe", "Action": "*"}}),
            json!({"Statement": {"Effect": "Allow", "Action": 3}}),
            json!({"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "*"}}),
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Comment": "x"}}),
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Condition": []}}),
            json!([1]),
            json!({"Version": "2012-10-17"}),
        ] {
            assert!(read(&bad, &origin(), &[]).is_err(), "{bad}");
        }
    }
}
