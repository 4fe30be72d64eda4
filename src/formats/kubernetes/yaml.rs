//! Reading saphyr's marked YAML tree: byte spans, typed field access and shape problems.
//!
//! Every accessor treats a `null` value as absent (as the Kubernetes API does), looks through
//! YAML tags, and reports a value of the wrong type as a [`Problem`] pointing at that node, then
//! carries on as if the field were absent, so one run shows every mistake in a file.

use std::sync::Arc;

use saphyr::{MarkedYaml, Marker, Scalar, YamlData};

use crate::error::Problem;
use crate::model::Span;

/// One node of the tree.
pub(super) type Node<'i> = MarkedYaml<'i>;

/// Converts saphyr's character positions into byte offsets.
struct Offsets {
    /// Byte offset of every [`Self::STEP`]-th character; empty when the text is ASCII.
    checkpoints: Vec<usize>,
}

impl Offsets {
    const STEP: usize = 64;

    fn new(text: &str) -> Self {
        if text.is_ascii() {
            return Offsets {
                checkpoints: Vec::new(),
            };
        }
        let checkpoints = text
            .char_indices()
            .step_by(Self::STEP)
            .map(|(b, _)| b)
            .collect();
        Offsets { checkpoints }
    }

    fn byte(&self, text: &str, char_index: usize) -> usize {
        if self.checkpoints.is_empty() {
            return char_index.min(text.len());
        }
        let Some(start) = self.checkpoints.get(char_index / Self::STEP) else {
            return text.len();
        };
        let tail = text.get(*start..).unwrap_or("");
        tail.char_indices()
            .nth(char_index % Self::STEP)
            .map_or(text.len(), |(b, _)| start + b)
    }
}

/// The file being read, and the problems found in it.
pub(super) struct Source<'f> {
    pub path: &'f str,
    pub text: &'f Arc<str>,
    offsets: Offsets,
    pub problems: Vec<Problem>,
}

impl<'f> Source<'f> {
    pub fn new(path: &'f str, text: &'f Arc<str>) -> Self {
        Source {
            path,
            text,
            offsets: Offsets::new(text),
            problems: Vec::new(),
        }
    }

    /// Byte offset of a saphyr marker.
    pub fn offset(&self, marker: &Marker) -> usize {
        self.offsets.byte(self.text, marker.index())
    }

    /// Byte range `(offset, len)` of a node (an empty node gets the length of its line's rest).
    fn range(&self, node: &Node<'_>) -> (usize, usize) {
        let start = self.offset(&node.span.start);
        let end = self.offset(&node.span.end).max(start);
        (start, end - start)
    }

    /// The span of a resource declared by `node`.
    pub fn span(&self, node: &Node<'_>) -> Span {
        let (offset, len) = self.range(node);
        Span::at(self.path, self.text, offset, len)
    }

    /// Records a problem about `node`.
    pub fn problem(&mut self, node: &Node<'_>, message: String, label: &str) {
        let (offset, len) = self.range(node);
        // A collection's span runs to the start of whatever follows it; label its first line.
        let len = self
            .text
            .get(offset..offset + len)
            .and_then(|s| s.find('\n'))
            .map_or(len, |nl| nl.max(1));
        self.problems.push(Problem::parse(
            self.path, self.text, offset, len, message, label,
        ));
    }
}

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

/// The node under its tags.
pub(super) fn untag<'n, 'i>(node: &'n Node<'i>) -> &'n Node<'i> {
    let mut node = node;
    // Tags nest only as deep as the text is long; the loop ends.
    while let YamlData::Tagged(_, inner) = &node.data {
        node = inner;
    }
    node
}

/// True for `null`, `~` and an empty value.
pub(super) fn is_null(node: &Node<'_>) -> bool {
    matches!(
        untag(node).data,
        YamlData::Value(Scalar::Null) | YamlData::BadValue
    )
}

/// The value of `key` in a mapping node; `None` when absent or null (or not a mapping).
pub(super) fn field<'n, 'i>(node: &'n Node<'i>, key: &str) -> Option<&'n Node<'i>> {
    untag(node).data.as_mapping_get(key).filter(|v| !is_null(v))
}

/// True when `node` is a mapping that has `key` with a non-null value.
pub(super) fn has(node: &Node<'_>, key: &str) -> bool {
    field(node, key).is_some()
}

/// A plain string scalar.
pub(super) fn as_str<'n>(node: &'n Node<'_>) -> Option<&'n str> {
    match &untag(node).data {
        YamlData::Value(Scalar::String(s)) => Some(s.as_ref()),
        _ => None,
    }
}

/// How a problem message names the type of a node.
fn type_name(node: &Node<'_>) -> &'static str {
    match &untag(node).data {
        YamlData::Value(Scalar::Null) | YamlData::BadValue => "null",
        YamlData::Value(Scalar::Boolean(_)) => "a boolean",
        YamlData::Value(Scalar::Integer(_) | Scalar::FloatingPoint(_)) => "a number",
        YamlData::Value(Scalar::String(_)) | YamlData::Representation(..) => "a string",
        YamlData::Sequence(_) => "a list",
        YamlData::Mapping(_) => "a mapping",
        YamlData::Tagged(..) | YamlData::Alias(_) => "a tagged value",
    }
}

/// A YAML 1.1 boolean spelling, as `kubectl` (go-yaml) reads plain scalars.
fn yaml11_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Some(false)
        }
        _ => None,
    }
}

impl Source<'_> {
    fn wrong_type(&mut self, node: &Node<'_>, path: &str, place: &Place, expected: &str) {
        let found = type_name(node);
        self.problem(
            node,
            format!("`{path}` {} must be {expected}, not {found}", place.what),
            &format!("expected {expected}"),
        );
    }

    /// `key` of `parent` when it is a mapping; a problem when it is something else.
    pub fn map<'n, 'i>(
        &mut self,
        parent: &'n Node<'i>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Option<&'n Node<'i>> {
        let node = field(parent, key)?;
        if matches!(untag(node).data, YamlData::Mapping(_)) {
            Some(untag(node))
        } else {
            self.wrong_type(node, path, place, "a mapping");
            None
        }
    }

    /// The items of list `key` of `parent` (empty when absent; a problem when not a list).
    pub fn list<'n, 'i>(
        &mut self,
        parent: &'n Node<'i>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> &'n [Node<'i>] {
        let Some(node) = field(parent, key) else {
            return &[];
        };
        match &untag(node).data {
            YamlData::Sequence(items) => items.as_slice(),
            _ => {
                self.wrong_type(node, path, place, "a list");
                &[]
            }
        }
    }

    /// String `key` of `parent`; a problem when it is not a string.
    pub fn string<'n>(
        &mut self,
        parent: &'n Node<'_>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Option<&'n str> {
        let node = field(parent, key)?;
        let s = as_str(node);
        if s.is_none() {
            self.wrong_type(node, path, place, "a string");
        }
        s
    }

    /// The strings of list `key` of `parent`; problems for items that are not strings.
    pub fn strings<'n>(
        &mut self,
        parent: &'n Node<'_>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Vec<&'n str> {
        let items = self.list(parent, key, path, place);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match as_str(item) {
                Some(s) => out.push(s),
                None => self.wrong_type(item, &format!("{path}[{i}]"), place, "a string"),
            }
        }
        out
    }

    /// Boolean `key` of `parent` (YAML 1.1 spellings such as `yes` accepted, as kubectl does).
    pub fn boolean(
        &mut self,
        parent: &Node<'_>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Option<bool> {
        let node = field(parent, key)?;
        match &untag(node).data {
            YamlData::Value(Scalar::Boolean(b)) => Some(*b),
            YamlData::Value(Scalar::String(s)) if yaml11_bool(s).is_some() => yaml11_bool(s),
            _ => {
                self.wrong_type(node, path, place, "a boolean");
                None
            }
        }
    }

    /// Integer `key` of `parent`.
    pub fn integer(
        &mut self,
        parent: &Node<'_>,
        key: &str,
        path: &str,
        place: &Place,
    ) -> Option<i64> {
        let node = field(parent, key)?;
        match &untag(node).data {
            YamlData::Value(Scalar::Integer(n)) => Some(*n),
            _ => {
                self.wrong_type(node, path, place, "an integer");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Offsets;

    #[test]
    fn offsets_follow_multibyte_text() {
        let text = "é".repeat(200) + "x";
        let offsets = Offsets::new(&text);
        assert_eq!(offsets.byte(&text, 0), 0);
        assert_eq!(offsets.byte(&text, 65), 130);
        assert_eq!(offsets.byte(&text, 200), 400);
        assert_eq!(offsets.byte(&text, 201), text.len());
        assert_eq!(offsets.byte(&text, 5000), text.len());
        let ascii = "abc";
        assert_eq!(Offsets::new(ascii).byte(ascii, 2), 2);
    }
}
