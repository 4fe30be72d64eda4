//! Problems: everything that makes a run fail (as opposed to findings, which are results).
//!
//! A [`Problem`] is a miette diagnostic carrying the named source file and a labelled span when
//! there is one, so the terminal shows a code frame pointing at the mistake. The run collects
//! every problem and carries on; any problem makes the final exit code 2.

use std::sync::Arc;

use crate::lines::LineIndex;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

/// What kind of failure a problem is (stable strings in JSON output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A recognised input file that could not be parsed or has wrong values.
    Parse,
    /// A file or directory that could not be read.
    Io,
    /// `vouch.toml` or command-line configuration is wrong.
    Config,
    /// The control library (controls, policies, schema) does not load or validate.
    Library,
    /// Cedar could not evaluate a request.
    Evaluation,
    /// A git revision or object could not be read.
    Git,
}

/// One failure, with enough context to render a code frame.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The file it concerns (relative path), if any.
    pub file: Option<String>,
    /// One lowercase sentence, no trailing period.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Byte range in the file and its label.
    pub span: Option<(usize, usize, String)>,
    /// The file's text, for the code frame.
    pub source: Option<Excerpt>,
    /// 1-based line of the span (for plain and JSON output).
    pub line: Option<u32>,
}

impl Problem {
    /// A problem of `kind` with a message and nothing else.
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Self {
        Problem {
            kind,
            file: None,
            message: message.into(),
            help: None,
            span: None,
            source: None,
            line: None,
        }
    }

    /// A parse problem in `file` at byte `offset` (length `len`) of `text`.
    pub fn parse(
        file: &str,
        text: &Arc<str>,
        offset: usize,
        len: usize,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Problem::new(ProblemKind::Parse, message).with_span(file, text, offset, len, label)
    }

    /// A configuration problem, optionally in a file.
    pub fn config(message: impl Into<String>, file: Option<&str>) -> Self {
        let mut p = Problem::new(ProblemKind::Config, message);
        p.file = file.map(str::to_owned);
        p
    }

    /// A file that could not be read.
    pub fn io(path: impl Into<String>, err: &std::io::Error) -> Self {
        let path = path.into();
        let mut p = Problem::new(
            ProblemKind::Io,
            format!(
                "cannot read `{path}`: {}",
                lowercase_first(&err.to_string())
            ),
        );
        p.file = Some(path);
        p
    }

    /// A file that could not be written (or its directory created).
    pub fn write(path: impl Into<String>, err: &std::io::Error) -> Self {
        let path = path.into();
        let mut p = Problem::new(
            ProblemKind::Io,
            format!(
                "cannot write `{path}`: {}",
                lowercase_first(&err.to_string())
            ),
        )
        .with_help("check that the directory is writable, or pass another path");
        p.file = Some(path);
        p
    }

    /// A directory walk failure (permission denied, a symlink loop, …).
    pub fn walk(path: impl Into<String>, err: String) -> Self {
        let path = path.into();
        let mut p = Problem::new(ProblemKind::Io, format!("cannot walk `{path}`: {err}"));
        p.file = Some(path);
        p
    }

    /// Attaches a labelled span into `text` (the offset is clamped to the text).
    pub fn with_span(
        mut self,
        file: &str,
        text: &Arc<str>,
        offset: usize,
        len: usize,
        label: impl Into<String>,
    ) -> Self {
        let offset = offset.min(text.len());
        let len = len.min(text.len() - offset);
        // Many problems in one large file share one index of its lines.
        let lines = crate::lines::shared(text);
        let span = lines.span(file, text, offset, len);
        self.file = Some(file.to_owned());
        self.line = Some(span.line);
        self.span = Some((offset, len, label.into()));
        self.source = Some(Excerpt::indexed(file, Arc::clone(text), lines));
        self
    }

    /// Attaches the file name only.
    pub fn in_file(mut self, file: &str) -> Self {
        self.file = Some(file.to_owned());
        self
    }

    /// Attaches a line number (when there is no text to point into).
    pub fn at_line(mut self, line: u32) -> Self {
        self.line = Some(line);
        self
    }

    /// Attaches a help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sort key: file, line, message.
    pub fn sort_key(&self) -> (Option<&str>, Option<u32>, &str) {
        (self.file.as_deref(), self.line, self.message.as_str())
    }

    /// The problem as a miette report (owned, for rendering).
    pub fn to_report(&self) -> miette::Report {
        miette::Report::new(self.clone())
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) if self.source.is_none() => {
                write!(f, "{file}:{line}: {}", self.message)
            }
            (Some(file), None) if !self.message.contains(file.as_str()) => {
                write!(f, "{file}: {}", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let code = match self.kind {
            ProblemKind::Parse => "vouch::parse",
            ProblemKind::Io => "vouch::io",
            ProblemKind::Config => "vouch::config",
            ProblemKind::Library => "vouch::library",
            ProblemKind::Evaluation => "vouch::evaluation",
            ProblemKind::Git => "vouch::git",
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (offset, len, label) = self.span.as_ref()?;
        let (offset, len) = match &self.source {
            Some(excerpt) => framed(&excerpt.text, *offset, *len),
            None => (*offset, *len),
        };
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(label.clone()),
            offset,
            len,
        ))))
    }
}

/// A problem as a terminal shows it: its file name attached to the source (an [`Excerpt`]),
/// and the message with control characters escaped (a file name may hold a newline or an
/// escape sequence).
#[derive(Debug, thiserror::Error)]
#[error("{}", crate::report::text::escape(&inner.to_string()))]
pub struct NamedProblem {
    inner: Problem,
    named: Option<Excerpt>,
}

impl NamedProblem {
    /// Wraps a problem so the code frame shows the file name.
    pub fn new(inner: Problem) -> Self {
        let named = inner.source.clone();
        NamedProblem { inner, named }
    }
}

impl Diagnostic for NamedProblem {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.code()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.inner.help()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.named.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.inner.labels()
    }
}

/// The longest line a code frame shows whole; a longer one (a one-line plan JSON, a minified
/// manifest) is shown as a window around the span. miette cannot format a column past 65,535
/// and panics, and nobody reads a 100 KB line in a terminal anyway.
pub const MAX_FRAME_LINE: usize = 400;
/// Bytes of a long line shown on each side of the span.
const WINDOW_CONTEXT: usize = 60;
/// The longest label drawn on a long line.
const MAX_LABEL: usize = 120;

/// The largest char boundary of `text` at or before `i`.
fn floor_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The smallest char boundary of `text` at or after `i`.
fn ceil_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The byte range of the line holding byte `offset` (without its line ending).
fn line_around(text: &str, offset: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let offset = offset.min(bytes.len());
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let end = bytes[offset..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |p| offset + p);
    (start, end)
}

/// The span a code frame draws for (`offset`, `len`) in `text`: clamped to the text and to char
/// boundaries and, on a line longer than [`MAX_FRAME_LINE`], cut to that line and to
/// [`MAX_LABEL`] bytes, so no renderer is ever handed a span it cannot draw.
pub fn framed(text: &str, offset: usize, len: usize) -> (usize, usize) {
    let start = floor_boundary(text, offset);
    let end = ceil_boundary(text, offset.saturating_add(len)).max(start);
    let (ls, le) = line_around(text, start);
    if le - ls <= MAX_FRAME_LINE && !spans_long_line(text, start, end) {
        return (start, end - start);
    }
    let end = floor_boundary(text, end.min(le).min(start + MAX_LABEL)).max(start);
    (start, end - start)
}

/// True when a line touched by `start..end` is longer than [`MAX_FRAME_LINE`].
fn spans_long_line(text: &str, start: usize, end: usize) -> bool {
    let mut at = start;
    loop {
        let (ls, le) = line_around(text, at);
        if le - ls > MAX_FRAME_LINE {
            return true;
        }
        // Past the line ending to the next line, while the span goes on.
        match text.as_bytes()[le..].iter().position(|&b| b == b'\n') {
            Some(p) if le + p + 1 < end => at = le + p + 1,
            _ => return false,
        }
    }
}

/// The source of a code frame: a named file whose long lines are shown as a window around the
/// span (see [`framed`]); short lines get the usual context lines.
///
/// Frames are cut from the lines around the span (found in a [`LineIndex`], built on first
/// use or shared by the caller), never by scanning the text from its start.
#[derive(Debug, Clone)]
pub struct Excerpt {
    name: String,
    text: Arc<str>,
    lines: std::sync::OnceLock<Arc<LineIndex>>,
}

impl Excerpt {
    /// The frame source of file `name` (escaped for the terminal) with content `text`.
    pub fn new(name: &str, text: Arc<str>) -> Self {
        Excerpt {
            name: crate::report::text::escape(name).into_owned(),
            text,
            lines: std::sync::OnceLock::new(),
        }
    }

    /// Like [`Excerpt::new`], with the text's line index already built (shared by the many
    /// frames drawn in one file).
    pub fn indexed(name: &str, text: Arc<str>, lines: Arc<LineIndex>) -> Self {
        let excerpt = Excerpt::new(name, text);
        let _ = excerpt.lines.set(lines);
        excerpt
    }

    fn lines(&self) -> &LineIndex {
        self.lines
            .get_or_init(|| Arc::new(LineIndex::new(&self.text)))
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &str = &self.text;
        if span.offset() > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let start = floor_boundary(text, span.offset());
        let end = ceil_boundary(text, start.saturating_add(span.len())).max(start);
        let (ls, le) = line_around(text, start);
        if le - ls > MAX_FRAME_LINE || spans_long_line(text, start, end) {
            // A window of the span's own line, no context lines.
            let lo = floor_boundary(text, start.saturating_sub(WINDOW_CONTEXT).max(ls));
            let hi = ceil_boundary(
                text,
                end.min(start + MAX_LABEL)
                    .saturating_add(WINDOW_CONTEXT)
                    .min(le),
            )
            .max(start);
            let line = self.lines().line_of(ls);
            return Ok(Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                &text.as_bytes()[lo..hi],
                SourceSpan::new(lo.into(), hi - lo),
                line,
                lo - ls,
                1,
            )));
        }
        // Short lines: the usual frame, but never a long context line.
        let mut before = context_lines_before;
        let mut after = context_lines_after;
        let lines = self.lines();
        let span_line = lines.line_of(span.offset());
        loop {
            // Read from the line before the first context line on: the same frame as reading
            // the whole text (miette looks at the byte before a span), without counting every
            // line before it.
            // (A text with a lone `\r`, a line break to miette only, is read whole.)
            let (first, from) = match span_line.checked_sub(before + 1) {
                Some(line) if lines.counts_as_miette() => (line, lines.start(line).unwrap_or(0)),
                _ => (0, 0),
            };
            // (An index always belongs to its text, so `from` never passes the span; were it
            // to, the frame would start at the span rather than panic.)
            let from = from.min(span.offset());
            let shifted = SourceSpan::new((span.offset() - from).into(), span.len());
            let contents = text.as_bytes()[from..].read_span(&shifted, before, after)?;
            let longest = contents
                .data()
                .split(|&b| b == b'\n')
                .map(<[u8]>::len)
                .max()
                .unwrap_or(0);
            if longest <= MAX_FRAME_LINE || (before == 0 && after == 0) {
                let at = contents.span();
                return Ok(Box::new(MietteSpanContents::new_named(
                    self.name.clone(),
                    contents.data(),
                    SourceSpan::new((at.offset() + from).into(), at.len()),
                    contents.line() + first,
                    contents.column(),
                    contents.line_count() + first,
                )));
            }
            before = 0;
            after = 0;
        }
    }
}

/// "did you mean `a`, `b`?" for the known names closest to `wanted`; `None` when none is close.
pub fn did_you_mean(wanted: &str, known: &[&str]) -> Option<String> {
    let close: Vec<String> = closest(wanted, known)
        .into_iter()
        .map(|k| format!("`{k}`"))
        .collect();
    (!close.is_empty()).then(|| format!("did you mean {}?", close.join(", ")))
}

/// The (at most three) known names closest to `wanted`, closest first.
pub fn closest<'a>(wanted: &str, known: &[&'a str]) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = known
        .iter()
        .map(|k| (strsim::jaro_winkler(wanted, k), *k))
        .filter(|(s, _)| *s > 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, k)| k).collect()
}

/// Lowercases the first letter of a message (std and crate errors start uppercase).
pub fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    /// The fields of a read span, to compare two reads.
    fn fields(c: &dyn SpanContents<'_>) -> (Vec<u8>, usize, usize, usize, usize, usize) {
        (
            c.data().to_vec(),
            c.span().offset(),
            c.span().len(),
            c.line(),
            c.column(),
            c.line_count(),
        )
    }

    /// Problems in one file share one index of its lines (a file with 20,000 problems took
    /// 75 s when each indexed the whole text again).
    #[test]
    fn problems_in_one_file_share_its_line_index() {
        let text: Arc<str> = Arc::from("a = 1\nb = 2\n");
        let first = Problem::parse("f.toml", &text, 0, 1, "one", "here");
        let second = Problem::parse("f.toml", &text, 6, 1, "two", "here");
        assert_eq!((first.line, second.line), (Some(1), Some(2)));
        let index = |p: &Problem| Arc::clone(p.source.as_ref().unwrap().lines.get().unwrap());
        assert!(Arc::ptr_eq(&index(&first), &index(&second)));
    }

    proptest! {
        /// On short lines, an excerpt's frame (read from the first context line on, found in
        /// its line index) is exactly miette's frame read from the whole text, whatever the
        /// line breaks (`\n`, `\r\n`, a lone `\r`) and wherever the span lies.
        #[test]
        fn an_excerpt_frames_as_miette_does_from_the_whole_text(
            lines in prop::collection::vec(("[a-zé ]{0,12}", prop::sample::select(vec!["\n", "\r\n", "\r"])), 0..30),
            at in 0usize..400,
            len in 0usize..20,
            before in 0usize..4,
            after in 0usize..4,
        ) {
            let text: String = lines.iter().map(|(l, brk)| format!("{l}{brk}")).collect();
            let at = (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap();
            let len = len.min(text.len() - at);
            let end = (at + len..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap();
            let span = SourceSpan::new(at.into(), end - at);
            let excerpt = Excerpt::new("f", Arc::from(text.as_str()));
            let ours = excerpt.read_span(&span, before, after).map(|c| fields(&*c));
            let whole = text.as_bytes().read_span(&span, before, after).map(|c| fields(&*c));
            prop_assert_eq!(ours.ok(), whole.ok());
        }
    }
}
