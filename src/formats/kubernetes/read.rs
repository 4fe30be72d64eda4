//! Typed reading of a [`tree`](super::tree): field access, type checks and shape problems.
//!
//! Every accessor treats a `null` value as absent (as the Kubernetes API does) and reports a
//! value of the wrong type as a [`Problem`] pointing at that node (in whichever file wrote it),
//! then carries on as if the field were absent, so one run shows every mistake.

use super::tree::{At, Resolved, Style, Value, parse_int, resolve_plain};
use crate::error::Problem;

/// What a problem message says about where a field is (`in Deployment `web``).
pub(super) struct Place {
    pub what: String,
}

impl Place {
    pub fn new(kind: &str, name: &str) -> Self {
        Place {
            what: if name.is_empty() {
                format!("in {kind}")
            } else {
                format!("in {kind} `{name}`")
            },
        }
    }
}

/// How a problem message names the type of a node.
fn type_name(at: At<'_>) -> &'static str {
    match &at.node.value {
        Value::Null => "null",
        Value::Seq(_) => "a list",
        Value::Map(_) => "a mapping",
        Value::Scalar(_, Style::Text) => "a string",
        Value::Scalar(_, Style::Int | Style::Float) => "a number",
        Value::Scalar(_, Style::Bool) => "a boolean",
        Value::Scalar(_, Style::Null) => "null",
        Value::Scalar(s, Style::Plain) => match resolve_plain(s) {
            Resolved::Null => "null",
            Resolved::Bool(_) => "a boolean",
            Resolved::Int(_) | Resolved::Float => "a number",
            Resolved::Str => "a string",
        },
    }
}

/// A boolean scalar's value.
pub(super) fn as_bool(at: At<'_>) -> Option<bool> {
    match &at.node.value {
        Value::Scalar(s, Style::Plain | Style::Bool) => match resolve_plain(s) {
            Resolved::Bool(b) => Some(b),
            _ => None,
        },
        _ => None,
    }
}

/// An integer scalar's value.
pub(super) fn as_int(at: At<'_>) -> Option<i64> {
    match &at.node.value {
        Value::Scalar(s, Style::Int) => parse_int(s),
        Value::Scalar(s, Style::Plain) => match resolve_plain(s) {
            Resolved::Int(n) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

/// The shape problems found while reading objects.
#[derive(Default)]
pub(super) struct Reader {
    pub problems: Vec<Problem>,
}

impl Reader {
    /// Records a problem about a node.
    pub fn problem(&mut self, at: At<'_>, message: String, label: &str) {
        self.problems.push(at.problem(message, label));
    }

    fn wrong_type(&mut self, at: At<'_>, path: &str, place: &Place, expected: &str) {
        let found = type_name(at);
        self.problem(
            at,
            format!("`{path}` {} must be {expected}, not {found}", place.what),
            &format!("expected {expected}"),
        );
    }

    /// `key` of `parent` when it is a mapping; a problem when it is something else.
    pub fn map<'a>(
        &mut self,
        parent: At<'a>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Option<At<'a>> {
        let at = parent.field(key)?;
        if at.node.is_map() {
            Some(at)
        } else {
            self.wrong_type(at, path, place, "a mapping");
            None
        }
    }

    /// The items of list `key` of `parent` (empty when absent; a problem when not a list).
    pub fn list<'a>(
        &mut self,
        parent: At<'a>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Vec<At<'a>> {
        let Some(at) = parent.field(key) else {
            return Vec::new();
        };
        if matches!(at.node.value, Value::Seq(_)) {
            at.items().collect()
        } else {
            self.wrong_type(at, path, place, "a list");
            Vec::new()
        }
    }

    /// String `key` of `parent`; a problem when it is not a string.
    pub fn string<'a>(
        &mut self,
        parent: At<'a>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Option<&'a str> {
        let at = parent.field(key)?;
        let s = at.node.as_str();
        if s.is_none() {
            self.wrong_type(at, path, place, "a string");
        }
        s
    }

    /// The strings of list `key` of `parent`; problems for items that are not strings.
    pub fn strings<'a>(
        &mut self,
        parent: At<'a>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Vec<&'a str> {
        let items = self.list(parent, key, path, place);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match item.node.as_str() {
                Some(s) => out.push(s),
                None => self.wrong_type(item, &format!("{path}[{i}]"), place, "a string"),
            }
        }
        out
    }

    /// Boolean `key` of `parent` (YAML 1.1 spellings such as `yes` accepted, as kubectl does).
    pub fn boolean(
        &mut self,
        parent: At<'_>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Option<bool> {
        let at = parent.field(key)?;
        let b = as_bool(at);
        if b.is_none() {
            self.wrong_type(at, path, place, "a boolean");
        }
        b
    }

    /// Boolean `key` of `parent` with the node that set it.
    pub fn boolean_at<'a>(
        &mut self,
        parent: At<'a>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Option<(bool, At<'a>)> {
        let at = parent.field(key)?;
        self.boolean(parent, key, path, place).map(|b| (b, at))
    }

    /// Integer `key` of `parent`.
    pub fn integer(&mut self, parent: At<'_>, key: &str, path: &str, place: &Place) -> Option<i64> {
        let at = parent.field(key)?;
        let n = as_int(at);
        if n.is_none() {
            self.wrong_type(at, path, place, "an integer");
        }
        n
    }
}
