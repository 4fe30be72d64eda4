//! The gate's renderings: the terminal summary and the Markdown PR comment.

use std::fmt::Write as _;

use crate::assessment::CheckResult;
use crate::gate::{GateRun, Verdict};
use crate::library::Library;

/// PR comments are cut well below GitHub's 65,536-character limit.
pub const MARKDOWN_LIMIT: usize = 60_000;

fn verdict_line(run: &GateRun) -> String {
    let r = &run.report;
    let head = match &r.head {
        Some(h) => format!("`{}`", h.short_id),
        None => "the working tree (uncommitted changes)".to_owned(),
    };
    let what = match r.verdict {
        Verdict::Pass => "passes",
        Verdict::Fail => "fails",
        Verdict::Error => "could not run",
    };
    format!(
        "vouch gate {what}: {head} against base `{}`",
        r.base.short_id
    )
}

fn frameworks(r: &CheckResult, lib: &Library) -> String {
    r.frameworks
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(fw, ids)| format!("{} {}", lib.catalogs.name(fw), ids.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn location(r: &CheckResult) -> String {
    r.resource.as_ref().map_or_else(
        || "(organisation)".to_owned(),
        |res| format!("{}:{}", super::text::escape(&res.file), res.line),
    )
}

/// The terminal summary (new findings as code frames, then the rest as counts and lists).
pub fn human(run: &GateRun, style: super::human::Style) -> String {
    let r = &run.report;
    let mut out = String::new();
    let _ = writeln!(out, "{}", verdict_line(run));
    if r.uncommitted_changes {
        out.push_str("note: the head is the working tree, including uncommitted changes\n");
    }
    for reason in &r.reasons {
        let _ = writeln!(out, "  - {reason}");
    }
    out.push('\n');
    if !r.new.is_empty() {
        let mut shown = run.head.assessment.clone();
        shown.results = r.new.clone();
        shown.waivers.clear();
        let rendered = super::human::render(
            &shown,
            &run.head.library,
            &run.head.sources,
            r.threshold,
            style,
        );
        // Keep the code frames; the gate prints its own summary.
        let frames = rendered.split("checked ").next().unwrap_or_default();
        let _ = writeln!(out, "new findings ({}):\n", r.new.len());
        out.push_str(frames);
    }
    if !r.fixed.is_empty() {
        let _ = writeln!(out, "fixed by this change ({}):", r.fixed.len());
        for f in &r.fixed {
            let addr = f
                .resource
                .as_ref()
                .map_or("(organisation)", |x| x.address.as_str());
            let _ = writeln!(out, "  ✓ {} on {addr}", f.control);
        }
        out.push('\n');
    }
    if !r.changed_controls.is_empty() {
        out.push_str("controls changed by this change:\n");
        for c in &r.changed_controls {
            let _ = writeln!(out, "  {} ({})", c.control, c.change);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} new, {} fixed, {} already on the base{}, {} waived",
        r.new.len(),
        r.fixed.len(),
        r.existing.len(),
        if r.fail_on_existing {
            " (failing: --all)"
        } else {
            " (not failing)"
        },
        r.waived.len()
    );
    out
}

/// The Markdown PR comment: verdict first, then new findings, fixed ones, waivers; cut to
/// [`MARKDOWN_LIMIT`] characters with counts of what was left out.
pub fn markdown(run: &GateRun) -> String {
    let r = &run.report;
    let lib = &run.head.library;
    let icon = match r.verdict {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Error => "⚠️",
    };
    let mut head = String::new();
    let _ = writeln!(head, "## {icon} {}\n", verdict_line(run));
    if r.uncommitted_changes {
        head.push_str("_The head is the working tree, including uncommitted changes._\n\n");
    }
    for reason in &r.reasons {
        let _ = writeln!(head, "- {reason}");
    }
    let _ = writeln!(
        head,
        "\n**{}** new · **{}** fixed · **{}** already on the base · **{}** waived\n",
        r.new.len(),
        r.fixed.len(),
        r.existing.len(),
        r.waived.len()
    );
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    let md = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    if !r.new.is_empty() {
        let rows = r
            .new
            .iter()
            .map(|f| {
                let fix = lib
                    .controls
                    .get(&f.control)
                    .map_or(String::new(), |c| md(&c.remediation));
                format!(
                    "| `{}` | {} | `{}` {} | {} | {} |",
                    location(f),
                    f.severity.as_str(),
                    f.control,
                    md(&f.messages.join("; ")),
                    md(&frameworks(f, lib)),
                    fix
                )
            })
            .collect();
        sections.push((
            "### New findings\n\n| where | severity | control | frameworks | how to fix |\n| --- | --- | --- | --- | --- |\n".to_owned(),
            rows,
        ));
    }
    if !r.fixed.is_empty() {
        let rows = r
            .fixed
            .iter()
            .map(|f| format!("- `{}` on `{}`", f.control, location(f)))
            .collect();
        sections.push(("### Fixed by this change\n\n".to_owned(), rows));
    }
    if !r.waived.is_empty() {
        let rows = r
            .waived
            .iter()
            .map(|f| {
                let w = f.waiver.as_ref();
                format!(
                    "- `{}` on `{}`: {} (approved by {}, until {})",
                    f.control,
                    location(f),
                    w.map_or("", |w| w.reason.as_str()),
                    w.map_or("", |w| w.approver.as_str()),
                    w.map_or("", |w| w.expires.as_str())
                )
            })
            .collect();
        sections.push(("### Waived\n\n".to_owned(), rows));
    }
    if !r.changed_controls.is_empty() {
        let rows = r
            .changed_controls
            .iter()
            .map(|c| format!("- `{}` ({})", c.control, c.change))
            .collect();
        sections.push(("### Controls changed\n\n".to_owned(), rows));
    }
    let mut out = head;
    let footer_reserve = 200;
    for (title, rows) in sections {
        if out.len() + title.len() + footer_reserve > MARKDOWN_LIMIT {
            let _ = writeln!(
                out,
                "\n_… {} more rows not shown (comment size limit)._",
                rows.len()
            );
            continue;
        }
        out.push_str(&title);
        let mut shown = 0;
        for row in &rows {
            if out.len() + row.len() + footer_reserve > MARKDOWN_LIMIT {
                break;
            }
            out.push_str(row);
            out.push('\n');
            shown += 1;
        }
        if shown < rows.len() {
            let _ = writeln!(
                out,
                "\n_… and {} more not shown (comment size limit); see the SARIF or JSON output._",
                rows.len() - shown
            );
        }
        out.push('\n');
    }
    out
}
