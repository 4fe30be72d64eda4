//! YAML text to [`tree`](super::tree) documents, read the way Kubernetes' reader (go-yaml v2)
//! reads them.
//!
//! - Each document of a multi-document file is parsed on its own: the text is cut at `---`
//!   lines (a document marker at column 0 ends any scalar, so the cut is exact), and a document
//!   that does not parse is a problem at its error while the others are still read.
//! - Anchors and aliases are expanded, within a budget (a "billion laughs" file is a problem,
//!   as go-yaml refuses it too); merge keys (`<<: *base`, `<<: [*a, *b]`) are resolved with
//!   go-yaml v2's precedence: entries are applied in order, a merge overrides the keys before
//!   it, and in a merged list earlier maps win. A repeated key keeps its last value.
//! - A quoted scalar whose continuation line is indented less than its mapping is accepted
//!   (go-yaml and libyaml accept it; saphyr does not): such lines are re-indented, which does
//!   not change the scalar's value (line folding drops leading blanks), and offsets are mapped
//!   back to the original text.
//!
//! The builder is iterative (saphyr's event parser is too), so nesting costs no stack; a
//! document nesting deeper than [`MAX_DEPTH`] is refused.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};

use super::tree::{Entry, Node, Origin, Pos, Style, Value};
use crate::error::{Problem, lowercase_first};

/// Documents nesting deeper than this are refused (no Kubernetes object comes near it; trees
/// are cloned and dropped recursively).
pub const MAX_DEPTH: usize = 512;

/// Alias expansion may add this many nodes to a document, plus ten per node written.
const ALIAS_BUDGET: usize = 100_000;

/// Re-indenting passes tried on one document before its error is reported.
const MAX_RELAXATIONS: usize = 64;

/// The documents of a file and the problems of those that did not load.
#[derive(Debug, Default)]
pub struct Documents {
    /// Root nodes (each carries the file as its origin); empty documents are left out.
    pub roots: Vec<Node>,
    pub problems: Vec<Problem>,
}

/// Parses every document of `origin`'s text.
pub fn documents(origin: &Arc<Origin>) -> Documents {
    documents_in(&origin.text, origin)
}

/// Parses every document of `text`, a same-length view of `origin`'s text (an inline patch
/// with the rest of its kustomization blanked): nodes and problems point into `origin`.
pub fn documents_in(text: &str, origin: &Arc<Origin>) -> Documents {
    let mut out = Documents::default();
    for (start, end) in chunks(text) {
        let Some(chunk) = text.get(start..end) else {
            continue;
        };
        if chunk.trim().is_empty() {
            continue;
        }
        match load_chunk(chunk) {
            Ok(roots) => out.roots.extend(roots.into_iter().map(|mut r| {
                shift(&mut r, start);
                r.origin = Some(Arc::clone(origin));
                r
            })),
            Err(err) => out.problems.push(err.into_problem(origin, start)),
        }
    }
    out
}

/// Byte ranges of the text between document-start lines (`---` at column 0).
fn chunks(text: &str) -> Vec<(usize, usize)> {
    let mut cuts = vec![0];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset > 0 && is_document_start(line) {
            cuts.push(offset);
        }
        offset += line.len();
    }
    cuts.push(text.len());
    cuts.windows(2)
        .filter_map(|w| match w {
            [a, b] => Some((*a, *b)),
            _ => None,
        })
        .collect()
}

fn is_document_start(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\n', '\r']))
}

/// Adds `by` to every position of a tree (chunk offsets to file offsets).
fn shift(node: &mut Node, by: usize) {
    let by = u32::try_from(by).unwrap_or(u32::MAX);
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        n.pos.offset = n.pos.offset.saturating_add(by);
        match &mut n.value {
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for e in entries.iter_mut() {
                    e.key_pos.offset = e.key_pos.offset.saturating_add(by);
                    stack.push(&mut e.value);
                }
            }
            _ => {}
        }
    }
}

/// Why a document did not load, at a byte offset of its chunk.
struct LoadError {
    offset: usize,
    message: String,
    help: &'static str,
}

impl LoadError {
    fn into_problem(self, origin: &Origin, chunk_start: usize) -> Problem {
        let offset = chunk_start + self.offset;
        let pos = Pos::range(offset, offset);
        origin
            .problem(pos, format!("`{}` {}", origin.path, self.message), "here")
            .with_help(self.help)
    }
}

/// Loads one chunk, re-indenting under-indented quoted scalars as go-yaml would accept them.
fn load_chunk(chunk: &str) -> Result<Vec<Node>, LoadError> {
    // Offsets (in the chunk) of quoted scalars whose continuation lines are re-indented.
    let mut relaxed: Vec<usize> = Vec::new();
    loop {
        let (text, inserted) = relax_all(chunk, &relaxed);
        let offsets = Offsets::new(&text);
        match build(&text, &offsets) {
            Ok(mut roots) => {
                if !inserted.is_empty() {
                    for r in &mut roots {
                        unrelax(r, &inserted);
                    }
                }
                return Ok(roots);
            }
            Err(Failure::Scan(e)) => {
                let at = original_offset(offsets.byte(&text, e.marker().index()), &inserted);
                if e.info() == "invalid indentation in quoted scalar"
                    && relaxed.len() < MAX_RELAXATIONS
                    && !relaxed.contains(&at)
                    && !continuations(chunk, at).is_empty()
                {
                    relaxed.push(at);
                    continue;
                }
                return Err(LoadError {
                    offset: at,
                    message: format!("is not valid YAML: {}", lowercase_first(e.info())),
                    help: if chunk.contains("{{") {
                        "this looks like a template (`{{ … }}`); vouch reads a Helm chart's templates only through `helm template` (a chart is a directory with `Chart.yaml` and `templates/`); render other templates before checking them"
                    } else {
                        "fix the YAML syntax; `kubectl apply --dry-run=client -f` shows the same error; the file's other documents are still read"
                    },
                });
            }
            Err(Failure::Shape(at, message)) => {
                return Err(LoadError {
                    offset: original_offset(at, &inserted),
                    message,
                    help: if chunk.contains("{{") {
                        "this looks like a template (`{{ … }}`), which Kubernetes cannot read either; render it before checking it (a Helm chart is a directory with `Chart.yaml` and `templates/`)"
                    } else {
                        "Kubernetes cannot read this document either; the file's other documents are still read"
                    },
                });
            }
        }
    }
}

/// The chunk with the continuation lines of the quoted scalars at `starts` re-indented, and
/// the insertions made as (offset in the new text, blanks inserted), in order.
fn relax_all<'c>(chunk: &'c str, starts: &[usize]) -> (Cow<'c, str>, Vec<(usize, usize)>) {
    let mut at: Vec<(usize, usize)> = starts
        .iter()
        .flat_map(|s| continuations(chunk, *s))
        .collect();
    if at.is_empty() {
        return (Cow::Borrowed(chunk), Vec::new());
    }
    at.sort_unstable();
    at.dedup_by_key(|(offset, _)| *offset);
    let mut out = String::with_capacity(chunk.len() + at.iter().map(|(_, n)| n).sum::<usize>());
    let mut inserted = Vec::with_capacity(at.len());
    let mut last = 0;
    for (offset, n) in at {
        out.push_str(chunk.get(last..offset).unwrap_or(""));
        inserted.push((out.len(), n));
        out.extend(std::iter::repeat_n(' ', n));
        last = offset;
    }
    out.push_str(chunk.get(last..).unwrap_or(""));
    (Cow::Owned(out), inserted)
}

/// Maps an offset of the relaxed text back to the original chunk.
fn original_offset(at: usize, inserted: &[(usize, usize)]) -> usize {
    let mut shift = 0;
    for (pos, n) in inserted {
        if *pos + n <= at {
            shift += n;
        } else if *pos < at {
            // Inside inserted blanks: the insertion point.
            return *pos - shift;
        } else {
            break;
        }
    }
    at - shift
}

/// Maps every position of a tree back to the original chunk.
fn unrelax(root: &mut Node, inserted: &[(usize, usize)]) {
    let map = |pos: &mut Pos| {
        let start = original_offset(pos.offset as usize, inserted);
        let end = original_offset((pos.offset + pos.len) as usize, inserted);
        *pos = Pos::range(start, end);
    };
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        map(&mut n.pos);
        match &mut n.value {
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for e in entries.iter_mut() {
                    map(&mut e.key_pos);
                    stack.push(&mut e.value);
                }
            }
            _ => {}
        }
    }
}

/// The continuation lines of the quoted scalar starting at byte `at` that are indented less
/// than its opening quote, as (line start, blanks missing).
fn continuations(text: &str, at: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let Some(quote) = text.get(at..).and_then(|t| t.chars().next()) else {
        return out;
    };
    if quote != '"' && quote != '\'' {
        return out;
    }
    let line_start = text
        .get(..at)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let column = text.get(line_start..at).map_or(0, |t| t.chars().count());
    let base = at + 1;
    let mut chars = text.get(base..).unwrap_or("").char_indices().peekable();
    let mut push_line = |start: usize| {
        let rest = text.get(start..).unwrap_or("");
        let indent = rest.len() - rest.trim_start_matches(' ').len();
        let blank = rest[indent..].starts_with('\n') || rest[indent..].starts_with("\r\n");
        if indent < column && !blank {
            out.push((start, column - indent));
        }
    };
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if quote == '"' => {
                if let Some((j, '\n')) = chars.next() {
                    push_line(base + j + 1);
                }
            }
            '\'' if quote == '\'' => {
                if chars.peek().is_some_and(|(_, c)| *c == '\'') {
                    chars.next();
                } else {
                    break;
                }
            }
            '"' if quote == '"' => break,
            '\n' => push_line(base + i + 1),
            _ => {}
        }
    }
    out
}

/// Converts saphyr's character positions into byte offsets.
pub(super) struct Offsets {
    /// Byte offset of every [`Self::STEP`]-th character; empty when the text is ASCII.
    checkpoints: Vec<usize>,
}

impl Offsets {
    const STEP: usize = 64;

    pub(super) fn new(text: &str) -> Self {
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

    pub(super) fn byte(&self, text: &str, char_index: usize) -> usize {
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

enum Failure {
    Scan(ScanError),
    /// A document the parser accepts but Kubernetes cannot read (byte offset, message).
    Shape(usize, String),
}

/// A mapping entry as written: its key and position (`None` for a merge key) and value.
type RawEntry = (Option<(Box<str>, Pos)>, Node);

/// A collection being built.
enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    Map {
        /// Entries in order; `None` keys are merge keys.
        raw: Vec<RawEntry>,
        key: Option<Key>,
        start: usize,
        anchor: usize,
    },
}

/// A key read, waiting for its value.
enum Key {
    Named(Box<str>, Pos),
    Merge,
}

/// Builds the documents of one chunk from saphyr's events.
fn build(text: &str, offsets: &Offsets) -> Result<Vec<Node>, Failure> {
    let mut parser = Parser::new_from_str(text);
    let mut roots = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut written = 0usize;
    let mut expanded = 0usize;
    let byte = |i: usize| offsets.byte(text, i);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(Failure::Scan)?;
        let start = byte(span.start.index());
        let end = byte(span.end.index()).max(start);
        let done: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::Nothing => None,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                anchors.clear();
                written = 0;
                expanded = 0;
                None
            }
            Event::DocumentEnd => None,
            Event::Scalar(value, style, anchor, tag) => {
                written += 1;
                Some((scalar(value, style, tag.as_deref(), start, end), anchor))
            }
            Event::Alias(id) => {
                let Some(node) = anchors.get(&id) else {
                    return Err(Failure::Shape(
                        start,
                        "refers to an undefined anchor".into(),
                    ));
                };
                expanded += node.size();
                if expanded > ALIAS_BUDGET + 10 * written {
                    return Err(Failure::Shape(
                        start,
                        "expands aliases into too many nodes (excessive aliasing, refused as Kubernetes' YAML reader refuses it)".into(),
                    ));
                }
                let mut node = node.clone();
                node.pos = Pos::range(start, end);
                Some((node, 0))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Failure::Shape(
                        start,
                        format!("nests collections more than {MAX_DEPTH} levels deep"),
                    ));
                }
                written += 1;
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        start,
                        anchor,
                    }
                } else {
                    Frame::Map {
                        raw: Vec::new(),
                        key: None,
                        start,
                        anchor,
                    }
                });
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    start,
                    anchor,
                }) => Some((Node::new(Value::Seq(items), Pos::range(start, end)), anchor)),
                _ => None,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    raw, start, anchor, ..
                }) => {
                    let entries = merged(raw).map_err(|(at, m)| Failure::Shape(at, m))?;
                    Some((
                        Node::new(Value::Map(entries), Pos::range(start, end)),
                        anchor,
                    ))
                }
                _ => None,
            },
        };
        let Some((node, anchor)) = done else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => {
                if !node.is_null() {
                    roots.push(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { raw, key, .. }) => match key.take() {
                None => {
                    *key = Some(as_key(node)?);
                }
                Some(Key::Named(k, kpos)) => raw.push((Some((k, kpos)), node)),
                Some(Key::Merge) => raw.push((None, node)),
            },
        }
    }
    Ok(roots)
}

/// A node in key position: a scalar (the merge key `<<` is recognised when plain).
fn as_key(node: Node) -> Result<Key, Failure> {
    match node.value {
        Value::Scalar(s, Style::Plain) if &*s == "<<" => Ok(Key::Merge),
        Value::Scalar(s, _) => Ok(Key::Named(s, node.pos)),
        Value::Null => Ok(Key::Named("".into(), node.pos)),
        Value::Seq(_) | Value::Map(_) => Err(Failure::Shape(
            node.pos.offset as usize,
            "has a mapping key that is not a scalar (Kubernetes objects have string keys)".into(),
        )),
    }
}

/// Applies a mapping's entries in order, merges included (go-yaml v2 precedence).
fn merged(raw: Vec<RawEntry>) -> Result<Vec<Entry>, (usize, String)> {
    let mut out: Vec<Entry> = Vec::with_capacity(raw.len());
    let upsert = |out: &mut Vec<Entry>, key: Box<str>, key_pos: Pos, value: Node| match out
        .iter_mut()
        .find(|e| e.key == key)
    {
        Some(e) => {
            e.value = value;
            e.key_pos = key_pos;
        }
        None => out.push(Entry {
            key,
            key_pos,
            value,
        }),
    };
    for (key, value) in raw {
        match key {
            Some((k, kpos)) => upsert(&mut out, k, kpos, value),
            None => {
                let maps: Vec<Node> = match value.value {
                    Value::Map(_) => vec![value],
                    // Earlier maps of a merged list take precedence: apply them last.
                    Value::Seq(items) => items.into_iter().rev().collect(),
                    _ => {
                        return Err((
                            value.pos.offset as usize,
                            "merges (`<<`) a value that is not a mapping".into(),
                        ));
                    }
                };
                for m in maps {
                    match m.value {
                        Value::Map(entries) => {
                            for e in entries {
                                upsert(&mut out, e.key, e.key_pos, e.value);
                            }
                        }
                        _ => {
                            return Err((
                                m.pos.offset as usize,
                                "merges (`<<`) a list item that is not a mapping".into(),
                            ));
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A scalar node, its style and tag resolved the way go-yaml resolves them.
fn scalar(
    value: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
    start: usize,
    end: usize,
) -> Node {
    let pos = Pos::range(start, end);
    let style = match tag {
        Some(t) if t.is_yaml_core_schema() => match t.suffix.as_str() {
            "int" => Style::Int,
            "bool" => Style::Bool,
            "float" => Style::Float,
            "null" => Style::Null,
            _ => Style::Text,
        },
        // An unknown tag: go-yaml decodes the value as a string.
        Some(_) => Style::Text,
        None if style == ScalarStyle::Plain => Style::Plain,
        None => Style::Text,
    };
    let null = match style {
        Style::Null => true,
        Style::Plain => super::tree::resolve_plain(&value) == super::tree::Resolved::Null,
        _ => false,
    };
    if null {
        return Node::new(Value::Null, pos);
    }
    Node::new(
        Value::Scalar(value.into_owned().into_boxed_str(), style),
        pos,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{continuations, documents};
    use crate::formats::kubernetes::tree::{Node, Origin, Value};

    fn load(text: &str) -> (Vec<Node>, Vec<String>) {
        let origin = Origin::new("t.yaml", Arc::from(text));
        let d = documents(&origin);
        (d.roots, d.problems.into_iter().map(|p| p.message).collect())
    }

    fn text_of<'a>(n: &'a Node, path: &[&str]) -> Option<&'a str> {
        let mut n = n;
        for k in path {
            n = n.get(k)?;
        }
        n.scalar_text()
    }

    #[test]
    fn merge_keys_resolve_with_go_yaml_precedence() {
        let (roots, problems) = load(
            "base: &b {privileged: true, user: 0}\nother: &o {user: 5, x: 1}\nc:\n  <<: [*b, *o]\n  extra: 1\nd:\n  user: 9\n  <<: *o\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let r = &roots[0];
        assert_eq!(text_of(r, &["c", "privileged"]), Some("true"));
        assert_eq!(text_of(r, &["c", "user"]), Some("0"), "earlier maps win");
        assert_eq!(text_of(r, &["c", "x"]), Some("1"));
        assert_eq!(
            text_of(r, &["d", "user"]),
            Some("5"),
            "a later merge overrides"
        );
    }

    #[test]
    fn a_bad_document_leaves_the_others() {
        let (roots, problems) = load("a: 1\n---\nb: [\n---\nc: 3\n");
        assert_eq!(roots.len(), 2);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("is not valid YAML"), "{problems:?}");
    }

    #[test]
    fn under_indented_quoted_continuations_are_accepted() {
        let text = "metadata:\n  annotations:\n    note: \"first\n  second\"\n    after: x\n";
        let (roots, problems) = load(text);
        assert!(problems.is_empty(), "{problems:?}");
        let r = &roots[0];
        assert_eq!(
            text_of(r, &["metadata", "annotations", "note"]),
            Some("first second")
        );
        let after = r
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get("after"))
            .expect("after");
        assert_eq!(&text[after.pos.offset as usize..][..1], "x");
        assert_eq!(continuations("a:\n  b: 'x\ny'", 8), vec![(11, 5)]);
    }

    #[test]
    fn aliases_expand_and_repeated_keys_keep_the_last() {
        let (roots, problems) = load("a: &x {k: v}\nb: *x\nc: 1\nc: 2\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(text_of(&roots[0], &["b", "k"]), Some("v"));
        assert_eq!(text_of(&roots[0], &["c"]), Some("2"));
        let (_, problems) = load("a: &x [*x]\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let (_, problems) = load(&format!("x: {}1{}\n", "[".repeat(5000), "]".repeat(5000)));
        // saphyr's own flow-nesting limit or ours: refused either way, without a crash.
        assert_eq!(problems.len(), 1, "{problems:?}");
        let mut block = String::new();
        for i in 0..1000 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        let (_, problems) = load(&block);
        assert!(problems[0].contains("levels deep"), "{problems:?}");
        let (roots, _) = load("a: ~\nb: !!str 5\n");
        assert!(matches!(
            roots[0].get("a").map(|n| &n.value),
            Some(Value::Null)
        ));
        assert_eq!(roots[0].get("b").and_then(Node::as_str), Some("5"));
    }
}
