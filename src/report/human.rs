//! Human output: a miette code frame per finding, then a summary per framework.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity as MietteSeverity,
};

use crate::assessment::{Assessment, CheckResult, Status};
use crate::error::{Excerpt, NamedProblem, Problem};
use crate::library::{Library, Severity};
use crate::lines::LineIndex;
use rayon::prelude::*;

/// How to draw.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Colours and unicode (a terminal) or plain text.
    pub color: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    pub fn stdout() -> Style {
        use std::io::IsTerminal;
        Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// Colour when stderr is a terminal and `NO_COLOR` is not set.
    pub fn stderr() -> Style {
        use std::io::IsTerminal;
        Style {
            color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// The report's width in columns.
const WIDTH: usize = 100;

/// Lines break at spaces (and long words at their hyphens), not wherever Unicode allows: a path
/// or an id stays whole, and finding the break points costs a fifth of what the Unicode
/// line-break rules do (60,000 findings are drawn on a large inventory).
const BREAKS: textwrap::WordSeparator = textwrap::WordSeparator::AsciiSpace;

fn theme(style: Style) -> GraphicalTheme {
    if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    }
}

fn handler(style: Style) -> GraphicalReportHandler {
    GraphicalReportHandler::new_themed(theme(style))
        .with_width(WIDTH)
        .with_word_separator(BREAKS)
}

/// Findings' help lines, drawn as miette draws a report's help (its last part here) but
/// wrapped once per distinct text: the findings of one control share theirs, and wrapping
/// was most of the time spent drawing 60,000 findings. One is used per window of findings, so
/// what it holds stays small.
struct Footers {
    /// `  help: `, styled by the theme.
    lead: String,
    drawn: std::sync::Mutex<std::collections::HashMap<String, Arc<str>>>,
}

impl Footers {
    fn new(style: Style) -> Footers {
        use owo_colors::OwoColorize as _;
        Footers {
            lead: "  help: ".style(theme(style).styles.help).to_string(),
            drawn: std::sync::Mutex::default(),
        }
    }

    /// `help` wrapped with miette's options for a report's help (and the handler's).
    fn of(&self, help: &str) -> Arc<str> {
        let cached = |drawn: &std::collections::HashMap<String, Arc<str>>| drawn.get(help).cloned();
        let lock = || {
            self.drawn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(hit) = cached(&lock()) {
            return hit;
        }
        let options = textwrap::Options::new(WIDTH.saturating_sub(2))
            .initial_indent(&self.lead)
            .subsequent_indent("        ")
            .break_words(true)
            .word_separator(BREAKS);
        let text: Arc<str> = format!("{}\n", textwrap::fill(help, options)).into();
        lock().insert(help.to_owned(), Arc::clone(&text));
        text
    }
}

/// A finding as a diagnostic pointing into its file.
#[derive(Debug)]
struct Finding<'a> {
    result: &'a CheckResult,
    source: Option<Excerpt>,
    label: Option<(usize, usize, String)>,
}

impl std::fmt::Display for Finding<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self.result;
        let what = match r.status {
            Status::Error => "could not be evaluated",
            Status::Waived => "waived",
            _ => "failed",
        };
        match r.status {
            Status::Fail => write!(
                f,
                "[{}] {}: {}",
                r.severity.as_str(),
                r.control,
                r.about.title
            ),
            _ => write!(
                f,
                "[{}] {} {what}: {}",
                r.severity.as_str(),
                r.control,
                r.about.title
            ),
        }
    }
}

impl std::error::Error for Finding<'_> {}

impl Diagnostic for Finding<'_> {
    fn severity(&self) -> Option<MietteSeverity> {
        Some(match (self.result.status, self.result.severity) {
            (Status::Error, _) | (_, Severity::Critical | Severity::High) => MietteSeverity::Error,
            (_, Severity::Info) => MietteSeverity::Advice,
            _ => MietteSeverity::Warning,
        })
    }
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(format!("vouch::{}", self.result.control)))
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (offset, len, label) = self.label.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(label.clone()),
            *offset,
            *len,
        ))))
    }
}

/// Byte offset of 1-based `line` and `column` (lines counted by `\n`, as `lines` counts
/// them) and the length of the rest of that line.
fn line_span(text: &str, lines: &LineIndex, line: u32, column: u32) -> (usize, usize) {
    let start = (line as usize)
        .checked_sub(1)
        .and_then(|l| lines.start(l))
        .filter(|&s| s < text.len());
    let Some(start) = start else {
        return (text.len(), 0);
    };
    let l = text[start..]
        .find('\n')
        .map_or(&text[start..], |p| &text[start..=start + p]);
    let col = l
        .char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(0, |(b, _)| b);
    let trimmed = l.trim_end_matches(['\n', '\r']);
    (start + col, trimmed.len().saturating_sub(col))
}

fn framework_line(r: &CheckResult, lib: &Library) -> String {
    r.about
        .frameworks
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(fw, ids)| format!("{} {}", lib.catalogs.name(fw), ids.join(", ")))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Renders the findings (fail, error, waived) and the summary.
pub fn render(
    a: &Assessment,
    lib: &Library,
    sources: &BTreeMap<String, Arc<str>>,
    threshold: Severity,
    style: Style,
) -> String {
    let mut out = Vec::new();
    // Writing into a vector cannot fail.
    let _ = write(a, lib, sources, threshold, style, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Findings drawn per window (in parallel), then written: a large inventory's 60,000 findings
/// (45 MB of text) are never all held at once.
const WINDOW: usize = 2_048;

/// [`render`], written to `out` window by window.
pub fn write(
    a: &Assessment,
    lib: &Library,
    sources: &BTreeMap<String, Arc<str>>,
    threshold: Severity,
    style: Style,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let h = handler(style);
    let mut ordered: Vec<&CheckResult> = a
        .results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Error | Status::Waived))
        .collect();
    ordered.sort_by(|x, y| {
        let kx = x.resource.as_ref().map(|r| (&r.file, r.line));
        let ky = y.resource.as_ref().map(|r| (&r.file, r.line));
        (kx, &x.control).cmp(&(ky, &y.control))
    });
    // One line index per file, shared by every frame drawn in it.
    let indexes: BTreeMap<&str, Arc<LineIndex>> = ordered
        .iter()
        .filter_map(|r| r.resource.as_ref())
        .map(|res| res.file.as_str())
        .collect::<std::collections::BTreeSet<&str>>()
        .into_iter()
        .filter_map(|file| Some((file, Arc::new(LineIndex::new(sources.get(file)?)))))
        .collect();
    // Each finding drawn on its own, in order.
    for window in ordered.chunks(WINDOW) {
        let footers = Footers::new(style);
        let drawn: Vec<String> = window
            .par_iter()
            .map(|r| draw(r, lib, sources, &indexes, &h, &footers))
            .collect();
        for text in drawn {
            out.write_all(text.as_bytes())?;
        }
    }
    out.write_all(summary(a, lib, threshold).as_bytes())
}

/// One finding as a code frame (or a message when its file is not at hand), with a blank line.
fn draw(
    r: &CheckResult,
    lib: &Library,
    sources: &BTreeMap<String, Arc<str>>,
    indexes: &BTreeMap<&str, Arc<LineIndex>>,
    h: &GraphicalReportHandler,
    footers: &Footers,
) -> String {
    let control = lib.controls.get(&*r.control);
    let mut help = String::new();
    if r.status == Status::Waived {
        if let Some(w) = &r.waiver {
            let _ = write!(
                help,
                "waived until {} by {}: {}",
                w.expires, w.approver, w.reason
            );
        }
    } else if let Some(c) = control {
        help.push_str(&c.remediation);
    }
    let fw = framework_line(r, lib);
    if !fw.is_empty() {
        if !help.is_empty() {
            help.push('\n');
        }
        help.push_str(&fw);
    }
    let mut message = r.messages().join("; ");
    if !r.determined && r.status == Status::Fail {
        // Fails closed, but asserts nothing: the message says what could not be known.
        message = format!("undetermined: {message}");
    }
    let framed = r.resource.as_ref().and_then(|res| {
        let text = sources.get(&res.file)?;
        let lines = indexes.get(res.file.as_str())?;
        Some((res, text, lines))
    });
    let (source, label) = match (&r.resource, framed) {
        (_, Some((res, text, lines))) => {
            let (offset, len) = line_span(text, lines, res.line, res.column);
            let (offset, len) = crate::error::framed(text, offset, len);
            (
                Some(Excerpt::indexed(
                    &res.file,
                    Arc::clone(text),
                    Arc::clone(lines),
                )),
                Some((
                    offset,
                    len,
                    super::text::escape(&format!("{}: {message}", res.address)).into_owned(),
                )),
            )
        }
        (Some(res), None) => {
            if !message.is_empty() {
                let _ = write!(
                    help,
                    "\n{}",
                    super::text::escape(&format!("{}: {message}", res.address))
                );
            }
            (None, None)
        }
        (None, None) => {
            if !message.is_empty() {
                help = format!("{message}\n{help}");
            }
            (None, None)
        }
    };
    // The help, a report's last part, is drawn after miette draws the rest.
    let finding = Finding {
        result: r,
        source,
        label,
    };
    let mut out = String::new();
    let _ = h.render_report(&mut out, &finding);
    if !help.is_empty() {
        out.push_str(&footers.of(&help));
    }
    out.push('\n');
    out
}

/// Renders run problems (unparseable files, library errors) as code frames.
pub fn render_problems(problems: &[Problem], style: Style) -> String {
    let h = handler(style);
    let mut out = String::new();
    for p in problems {
        let _ = h.render_report(&mut out, &NamedProblem::new(p.clone()));
        out.push('\n');
    }
    out
}

/// Kubernetes units and workloads, and every chart or kustomization part not rendered.
fn kubernetes_lines(out: &mut String, k: &crate::formats::kubernetes::KubernetesSummary) {
    let _ = writeln!(
        out,
        "kubernetes: {} units, {} workloads; helm charts: {} rendered, {} not rendered",
        k.units,
        k.workloads,
        k.charts_rendered.len(),
        k.charts_not_rendered.len()
    );
    for c in &k.charts_not_rendered {
        let _ = writeln!(out, "  not rendered: {} ({})", c.path, c.reason);
    }
    for p in &k.kustomizations_partial {
        let _ = writeln!(out, "  partly rendered: {} ({})", p.path, p.reason);
    }
}

/// The closing summary: files, per-framework status, counts and verdict.
pub fn summary(a: &Assessment, lib: &Library, threshold: Severity) -> String {
    let mut out = String::new();
    let s = &a.summary;
    let _ = writeln!(
        out,
        "checked {} resources in {} files against {} controls (as of {})",
        s.resources, s.files, s.controls, a.provenance.as_of
    );
    if s.unrecognised_files > 0 {
        let _ = writeln!(
            out,
            "skipped {} files that no parser recognised",
            s.unrecognised_files
        );
    }
    if !a.submodules.is_empty() {
        let subs: Vec<&str> = a.submodules.iter().map(|m| m.path.as_str()).collect();
        let _ = writeln!(out, "scanned git submodules: {}", subs.join(", "));
    }
    if let Some(k) = &s.kubernetes {
        kubernetes_lines(&mut out, k);
    }
    if let Some(tf) = &s.terraform {
        let plans = match tf.plans {
            0 => String::new(),
            1 => "1 plan, ".to_owned(),
            n => format!("{n} plans, "),
        };
        let _ = writeln!(
            out,
            "terraform: {} roots, {plans}{} module instances expanded, {} module calls not expanded",
            tf.roots.len(),
            tf.modules_expanded,
            tf.modules_not_expanded.len()
        );
        for n in tf.modules_not_expanded.iter().take(20) {
            let root = if n.root.is_empty() {
                "."
            } else {
                n.root.as_str()
            };
            let _ = writeln!(
                out,
                "  not expanded: {} in {root} (source `{}`, {}:{}): {}",
                n.call, n.source, n.file, n.line, n.reason
            );
        }
        if tf.modules_not_expanded.len() > 20 {
            let _ = writeln!(
                out,
                "  … and {} more (the JSON output lists them all)",
                tf.modules_not_expanded.len() - 20
            );
        }
        if !tf.types_not_covered.is_empty() {
            let total: usize = tf.types_not_covered.values().sum();
            let mut by_count: Vec<(&String, &usize)> = tf.types_not_covered.iter().collect();
            by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let shown: Vec<String> = by_count
                .iter()
                .take(8)
                .map(|(t, n)| format!("{t} ({n})"))
                .collect();
            let more = if by_count.len() > 8 { ", …" } else { "" };
            let _ = writeln!(
                out,
                "  {total} resources of {} type(s) no control reads (not evidence of anything): {}{more}",
                by_count.len(),
                shown.join(", ")
            );
        }
    }
    let undetermined = a
        .results
        .iter()
        .filter(|r| r.status == Status::Fail && !r.determined)
        .count();
    if undetermined > 0 {
        let _ = writeln!(
            out,
            "{undetermined} failures are undetermined: they rest on values vouch could not know \
             (each says which and why); they fail closed"
        );
    }
    if !s.frameworks.is_empty() {
        out.push_str("\nframeworks\n");
        let width = s
            .frameworks
            .values()
            .map(|f| f.name.len())
            .max()
            .unwrap_or(0);
        for f in s.frameworks.values() {
            let _ = write!(
                out,
                "  {:width$}  {} requirements checked, {} failing",
                f.name, f.requirements_checked, f.requirements_failing
            );
            if !f.failing.is_empty() {
                let shown: Vec<&str> = f.failing.iter().take(12).map(String::as_str).collect();
                let more = f.failing.len().saturating_sub(shown.len());
                let _ = write!(out, ": {}", shown.join(", "));
                if more > 0 {
                    let _ = write!(out, " and {more} more");
                }
            }
            out.push('\n');
        }
        if s.frameworks.keys().any(|k| k == "soc2" || k == "soc3") {
            out.push_str(
                "  (SOC 2 and SOC 3 count the criteria of every trust services category here;\n   \
                 `vouch roadmap` counts those of the categories in scope: security, and any\n   \
                 `[roadmap] soc2_categories` adds)\n",
            );
        }
    }
    for w in a.waivers.iter().filter(|w| w.matched == 0 || w.expired) {
        let why = if w.expired {
            format!("expired on {}", w.expires)
        } else {
            "matched nothing; remove it".to_owned()
        };
        let _ = writeln!(
            out,
            "waiver of `{}` on `{}` (vouch.toml:{}) {why}",
            w.control, w.resource, w.line
        );
    }
    let c = &s.results;
    let _ = writeln!(
        out,
        "\nresults: {} pass, {} fail, {} error, {} waived, {} not applicable",
        c.pass, c.fail, c.error, c.waived, c.not_applicable
    );
    out.push_str(&crate::basis::coverage_words(a));
    let failing = a.failures_at(threshold).count();
    let verdict = if a.run_failed() {
        format!(
            "the run failed: {} problems, {} evaluation errors (exit 2)",
            a.problems.len(),
            c.error
        )
    } else if failing > 0 {
        format!(
            "{failing} findings at or above `{}` severity (exit 1)",
            threshold.as_str()
        )
    } else {
        format!("no findings at or above `{}` severity", threshold.as_str())
    };
    let _ = writeln!(out, "{verdict}");
    let _ = lib;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A diagnostic with a message and, perhaps, a help.
    #[derive(Debug)]
    struct Plain(Option<String>);

    impl std::fmt::Display for Plain {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("[high] some-control: a title")
        }
    }

    impl std::error::Error for Plain {}

    impl Diagnostic for Plain {
        fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
            self.0
                .as_ref()
                .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
        }
    }

    /// The help drawn after the report is what miette draws as the report's help: wrapped
    /// the same way, styled the same way, in colour and without.
    #[test]
    fn footers_are_drawn_as_miette_draws_a_help() {
        let helps = [
            "short".to_owned(),
            "Remediation: set `access-active-accounts-only` on every grant whose holder left; see docs/access.md#deprovisioning for the steps, then re-run vouch gate on the pull request.\nHIPAA Security Rule 164.308(a)(3)(ii)(C), 164.308(a)(4)(ii)(C) · ISO/IEC 27001 A.5.18, A.6.5 · SOC 2 CC6.2, CC6.3".to_owned(),
            format!("{}\n\n  indented line\n", "a-very-long-hyphenated-identifier-".repeat(6)),
        ];
        for style in [Style { color: false }, Style { color: true }] {
            let h = handler(style);
            let footers = Footers::new(style);
            for help in &helps {
                let mut expected = String::new();
                h.render_report(&mut expected, &Plain(Some(help.clone())))
                    .expect("renders");
                let mut got = String::new();
                h.render_report(&mut got, &Plain(None)).expect("renders");
                got.push_str(&footers.of(help));
                // Twice: the second comes from the cache.
                assert_eq!(got, expected, "{help}");
                assert_eq!(&*footers.of(help), &*footers.of(help));
            }
        }
    }
}
