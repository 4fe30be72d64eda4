//! An owned YAML tree whose every node remembers the file and byte range that wrote it.
//!
//! Kubernetes objects are read from this tree rather than from the parser's, because a rendered
//! object mixes files: a Kustomize overlay copies a base's object and a patch's values into it,
//! and a finding must still point at the line that wrote the value it is about. A node's file is
//! its own [`Node::origin`] when set, else its parent's (so only a grafted subtree pays for one).

use std::sync::{Arc, OnceLock};

use crate::error::Problem;
use crate::lines::LineIndex;
use crate::model::Span;

/// A source file nodes point into.
#[derive(Debug)]
pub struct Origin {
    /// Path relative to the scanned root.
    pub path: String,
    pub text: Arc<str>,
    lines: OnceLock<LineIndex>,
}

impl Origin {
    /// An origin for `path` with `text`.
    pub fn new(path: &str, text: Arc<str>) -> Arc<Origin> {
        Arc::new(Origin {
            path: path.to_owned(),
            text,
            lines: OnceLock::new(),
        })
    }

    /// The span of a byte range in this file.
    pub fn span(&self, pos: Pos) -> Span {
        self.lines.get_or_init(|| LineIndex::new(&self.text)).span(
            &self.path,
            &self.text,
            pos.offset as usize,
            pos.len as usize,
        )
    }

    /// A parse problem at a byte range of this file, labelling the range's first line.
    pub fn problem(&self, pos: Pos, message: String, label: &str) -> Problem {
        let offset = pos.offset as usize;
        let len = self
            .text
            .get(offset..offset + pos.len as usize)
            .and_then(|s| s.find('\n'))
            .map_or(pos.len as usize, |nl| nl.max(1));
        Problem::parse(&self.path, &self.text, offset, len, message, label)
    }
}

/// A byte range in a file (files over 4 GiB are never read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    pub offset: u32,
    pub len: u32,
}

impl Pos {
    /// The range `start..end` (saturating at 4 GiB).
    pub fn range(start: usize, end: usize) -> Pos {
        let offset = u32::try_from(start).unwrap_or(u32::MAX);
        let len = u32::try_from(end.saturating_sub(start)).unwrap_or(u32::MAX);
        Pos { offset, len }
    }
}

/// How a scalar resolves, as go-yaml (Kubernetes' YAML reader) decides from its style and tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Plain: `true`, `10`, `yes`, `null` resolve to their YAML 1.1 types.
    Plain,
    /// Quoted, block, or tagged `!!str` (or an unknown tag): always a string.
    Text,
    /// Tagged with a core type (`!!int "5"`): resolved as that type.
    Int,
    Bool,
    Float,
    Null,
}

/// A node's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Scalar(Box<str>, Style),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` of a mapping (keys are scalars; Kubernetes objects are JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Box<str>,
    pub key_pos: Pos,
    pub value: Node,
}

/// A node of the tree.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
    /// The file this node (and, unless they say otherwise, its children) comes from; `None`:
    /// its parent's.
    pub origin: Option<Arc<Origin>>,
}

impl PartialEq for Node {
    /// Values and positions; two nodes from different files at the same range compare equal
    /// (only tests compare trees).
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.pos == other.pos
    }
}

impl Node {
    /// A node without its own origin.
    pub fn new(value: Value, pos: Pos) -> Node {
        Node {
            value,
            pos,
            origin: None,
        }
    }

    /// A string scalar written at `pos` of `origin` (a value a transformer sets).
    pub fn text(s: &str, pos: Pos, origin: &Arc<Origin>) -> Node {
        Node {
            value: Value::Scalar(s.into(), Style::Text),
            pos,
            origin: Some(Arc::clone(origin)),
        }
    }

    /// This node with `origin` as its file unless it already names one.
    pub fn rooted(mut self, origin: &Arc<Origin>) -> Node {
        if self.origin.is_none() {
            self.origin = Some(Arc::clone(origin));
        }
        self
    }

    /// The value of `key` in a mapping (null counts as present here).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| &*e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// The mutable value of `key` in a mapping.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.value {
            Value::Map(entries) => entries
                .iter_mut()
                .find(|e| &*e.key == key)
                .map(|e| &mut e.value),
            _ => None,
        }
    }

    /// Sets `key` of a mapping (replacing its value, or appending it).
    pub fn set(&mut self, key: &str, key_pos: Pos, value: Node) {
        if let Value::Map(entries) = &mut self.value {
            match entries.iter_mut().find(|e| &*e.key == key) {
                Some(e) => e.value = value,
                None => entries.push(Entry {
                    key: key.into(),
                    key_pos,
                    value,
                }),
            }
        }
    }

    /// Removes `key` from a mapping; true when it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        if let Value::Map(entries) = &mut self.value {
            let before = entries.len();
            entries.retain(|e| &*e.key != key);
            return entries.len() != before;
        }
        false
    }

    /// The string of a scalar that reads as a string (plain or quoted), else `None`.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, Style::Text) => Some(s),
            Value::Scalar(s, Style::Plain) if resolve_plain(s) == Resolved::Str => Some(s),
            _ => None,
        }
    }

    /// The scalar's text whatever it resolves to (`8080`, `true`), for names and values that
    /// Kubernetes reads as strings after a YAML-to-JSON round trip would not (labels, images).
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// True for a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// True for null (`~`, `null`, empty, `!!null`).
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Number of nodes in this subtree (for alias-expansion budgets).
    pub fn size(&self) -> usize {
        let mut n = 0;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            n += 1;
            match &node.value {
                Value::Seq(items) => stack.extend(items),
                Value::Map(entries) => stack.extend(entries.iter().map(|e| &e.value)),
                _ => {}
            }
        }
        n
    }
}

/// What a plain scalar resolves to under go-yaml's YAML 1.1 rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Float,
    Str,
}

/// Resolves a plain scalar as go-yaml v2 does (YAML 1.1 booleans, `0x`/`0o`/`0b`/leading-zero
/// octal and `_` separators in integers).
pub fn resolve_plain(s: &str) -> Resolved {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Resolved::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Resolved::Float,
        _ => {}
    }
    let first = s.as_bytes().first().copied().unwrap_or(b' ');
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Resolved::Str;
    }
    if let Some(n) = parse_int(s) {
        return Resolved::Int(n);
    }
    if s.replace('_', "").parse::<f64>().is_ok() && s.bytes().any(|b| b.is_ascii_digit()) {
        return Resolved::Float;
    }
    Resolved::Str
}

/// An integer as go-yaml reads one (Go's `strconv.ParseInt(s, 0, 64)` after removing `_`).
pub fn parse_int(s: &str) -> Option<i64> {
    let plain = s.replace('_', "");
    let (neg, digits) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    let (radix, body) = if let Some(rest) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, rest)
    } else if let Some(rest) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        (2, rest)
    } else if let Some(rest) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        (8, rest)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(body, radix).ok()?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// A position in the tree while reading it: the node and the file it comes from.
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub node: &'a Node,
    pub origin: &'a Arc<Origin>,
}

impl<'a> At<'a> {
    /// The root of a document from `origin`.
    pub fn root(node: &'a Node, fallback: &'a Arc<Origin>) -> At<'a> {
        At {
            node,
            origin: node.origin.as_ref().unwrap_or(fallback),
        }
    }

    /// A child node, with its file.
    pub fn child(self, node: &'a Node) -> At<'a> {
        At {
            node,
            origin: node.origin.as_ref().unwrap_or(self.origin),
        }
    }

    /// The value of `key`, `None` when absent or null (as the Kubernetes API reads it).
    pub fn field(self, key: &str) -> Option<At<'a>> {
        self.node
            .get(key)
            .filter(|n| !n.is_null())
            .map(|n| self.child(n))
    }

    /// The span of this node.
    pub fn span(self) -> Span {
        self.origin.span(self.node.pos)
    }

    /// A problem about this node.
    pub fn problem(self, message: String, label: &str) -> Problem {
        self.origin.problem(self.node.pos, message, label)
    }

    /// The items of a sequence (empty for anything else).
    pub fn items(self) -> impl Iterator<Item = At<'a>> + 'a {
        let items: &'a [Node] = match &self.node.value {
            Value::Seq(items) => items,
            _ => &[],
        };
        items.iter().map(move |n| self.child(n))
    }

    /// The entries of a mapping (empty for anything else).
    pub fn entries(self) -> impl Iterator<Item = (&'a str, At<'a>)> + 'a {
        let entries: &'a [Entry] = match &self.node.value {
            Value::Map(entries) => entries,
            _ => &[],
        };
        entries.iter().map(move |e| (&*e.key, self.child(&e.value)))
    }
}

#[cfg(test)]
mod tests {
    use super::{Resolved, parse_int, resolve_plain};

    #[test]
    fn plain_scalars_resolve_as_go_yaml_does() {
        assert_eq!(resolve_plain("yes"), Resolved::Bool(true));
        assert_eq!(resolve_plain("Off"), Resolved::Bool(false));
        assert_eq!(resolve_plain("~"), Resolved::Null);
        assert_eq!(resolve_plain("10_000"), Resolved::Int(10_000));
        assert_eq!(resolve_plain("0x10"), Resolved::Int(16));
        assert_eq!(resolve_plain("010"), Resolved::Int(8));
        assert_eq!(resolve_plain("0"), Resolved::Int(0));
        assert_eq!(resolve_plain("-5"), Resolved::Int(-5));
        assert_eq!(resolve_plain("1.5"), Resolved::Float);
        assert_eq!(resolve_plain("1e3"), Resolved::Float);
        assert_eq!(resolve_plain("500m"), Resolved::Str);
        assert_eq!(resolve_plain("1.2.3"), Resolved::Str);
        assert_eq!(resolve_plain("nginx"), Resolved::Str);
        assert_eq!(resolve_plain("-"), Resolved::Str);
        assert_eq!(parse_int("99999999999999999999"), None);
        assert_eq!(parse_int("08"), None);
    }
}
