//! Problems: everything that makes a run fail (as opposed to findings, which are results).
//!
//! A [`Problem`] is a miette diagnostic carrying the named source file and a labelled span when
//! there is one, so the terminal shows a code frame pointing at the mistake. The run collects
//! every problem and carries on; any problem makes the final exit code 2.

use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
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
    pub source: Option<Arc<str>>,
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
        let span = crate::model::Span::at(file, text, offset, len);
        self.file = Some(file.to_owned());
        self.line = Some(span.line);
        self.span = Some((offset, len, label.into()));
        self.source = Some(Arc::clone(text));
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
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(label.clone()),
            *offset,
            *len,
        ))))
    }
}

/// A problem rendered with its file name attached to the source (miette `NamedSource`).
#[derive(Debug, thiserror::Error)]
#[error("{inner}")]
pub struct NamedProblem {
    inner: Problem,
    named: Option<NamedSource<String>>,
}

impl NamedProblem {
    /// Wraps a problem so the code frame shows the file name.
    pub fn new(inner: Problem) -> Self {
        let named = match (&inner.file, &inner.source) {
            (Some(f), Some(s)) => Some(NamedSource::new(f.clone(), s.to_string())),
            _ => None,
        };
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

/// "did you mean `a`, `b`?" for the known names closest to `wanted`; `None` when none is close.
pub fn did_you_mean(wanted: &str, known: &[&str]) -> Option<String> {
    let mut scored: Vec<(f64, &str)> = known
        .iter()
        .map(|k| (strsim::jaro_winkler(wanted, k), *k))
        .filter(|(s, _)| *s > 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let close: Vec<String> = scored
        .into_iter()
        .take(3)
        .map(|(_, k)| format!("`{k}`"))
        .collect();
    (!close.is_empty()).then(|| format!("did you mean {}?", close.join(", ")))
}

/// Lowercases the first letter of a message (std and crate errors start uppercase).
pub fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
