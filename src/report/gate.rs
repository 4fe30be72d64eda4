//! The gate's renderings: the terminal summary and the Markdown PR comment.
//!
//! Both lead with the verdict and, on a failed run, with why the gate could not run; then the
//! change's edits to the policy and what they would hide; then counts per severity and the new
//! findings, most severe first. The comment stays under [`MARKDOWN_LIMIT`] characters and says
//! exactly what it left out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::assessment::CheckResult;
use crate::gate::{GateRun, PolicySource, Verdict};
use crate::library::{Library, Severity};

/// PR comments are cut well below GitHub's 65,536-character limit.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Severities, most severe first.
const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

fn verdict_line(run: &GateRun) -> String {
    let r = &run.report;
    let head = match (&r.head, r.uncommitted_changes) {
        (Some(h), _) => format!("`{}`", h.short_id),
        (None, true) => "the working tree (uncommitted changes)".to_owned(),
        (None, false) => "the head".to_owned(),
    };
    let base = r.base.as_ref().map_or_else(
        || "the base".to_owned(),
        |b| format!("base `{}`", b.short_id),
    );
    match r.verdict {
        Verdict::Pass => format!("vouch gate passes: {head} against {base}"),
        Verdict::Fail => format!("vouch gate fails: {head} against {base}"),
        Verdict::Error => format!("vouch gate could not run: {head} against {base}"),
    }
}

/// A failing result is undetermined when it rests on values vouch could not know (the engine
/// then lists in `unknown` only the attributes a fired policy read).
fn undetermined(r: &CheckResult) -> bool {
    !r.determined
}

/// Inline code that survives any file name: control characters are shown escaped, and the
/// fence is longer than any run of backticks inside.
fn code(s: &str) -> String {
    let mut clean = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            clean.extend(c.escape_default());
        } else {
            clean.push(c);
        }
    }
    let mut longest = 0;
    let mut run = 0;
    for c in clean.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 || clean.starts_with(' ') || clean.ends_with(' ') {
        format!("{fence} {clean} {fence}")
    } else {
        format!("{fence}{clean}{fence}")
    }
}

/// Text for a Markdown paragraph, on one line: outside code spans, HTML-significant characters
/// are escaped (GitHub would read `<Type>` as a tag); inside them, nothing is (a code span shows
/// entities literally).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    for c in s.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            '&' if !in_code => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

fn location(r: &CheckResult) -> String {
    r.resource.as_ref().map_or_else(
        || "(organisation)".to_owned(),
        |res| format!("{}:{}", super::text::escape(&res.file), res.line),
    )
}

fn resource_name(r: &CheckResult) -> &str {
    r.resource
        .as_ref()
        .map_or("(organisation)", |x| x.address.as_str())
}

/// `SOC 2 CC6.1, CC6.6 · ISO/IEC 27001:2022 A.8.20`.
fn frameworks_full(r: &CheckResult, lib: &Library) -> String {
    r.about
        .frameworks
        .iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(fw, ids)| format!("{} {}", lib.catalogs.name(fw), ids.join(", ")))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The language of a block of remediation code, for the fence.
fn language(block: &str, r: &CheckResult) -> &'static str {
    let first = block.trim_start();
    if first.starts_with("[[") || first.starts_with('[') && !first.starts_with("[\"") {
        "toml"
    } else if first.starts_with('{') {
        "json"
    } else if ["resource ", "data ", "module ", "variable ", "provider "]
        .iter()
        .any(|k| first.starts_with(k))
    {
        "hcl"
    } else if first.starts_with("apiVersion") || first.starts_with("- ") {
        "yaml"
    } else {
        match r.resource.as_ref().map(|x| x.entity_type.as_str()) {
            Some(t) if t.starts_with("K8s::") => "yaml",
            Some(t) if t.starts_with("Aws::") => "hcl",
            _ => "",
        }
    }
}

/// A control's remediation as Markdown: prose paragraphs as text, code as fenced blocks.
fn remediation(fix: &str, r: &CheckResult) -> String {
    let mut out = String::new();
    for block in fix.trim().split("\n\n") {
        let block = block.trim_matches('\n');
        if block.trim().is_empty() {
            continue;
        }
        let prose = !block.contains('\n')
            && !["[", "{", "resource ", "data ", "module "]
                .iter()
                .any(|k| block.trim_start().starts_with(k));
        if prose {
            let _ = writeln!(out, "{}\n", block.replace('<', "&lt;"));
        } else {
            let mut fence = "```".to_owned();
            while block.contains(&fence) {
                fence.push('`');
            }
            let _ = writeln!(out, "{fence}{}\n{block}\n{fence}\n", language(block, r));
        }
    }
    out
}

/// One new finding: the resource, the control, where, why; the fix and the framework ids
/// under a collapsible `<details>`.
fn finding(r: &CheckResult, lib: &Library) -> String {
    let mut s = String::new();
    let marker = if undetermined(r) {
        " · **undetermined**"
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "**{}** · {} {} · {}{marker}  ",
        code(resource_name(r)),
        code(&r.control),
        text(&r.about.title),
        code(&location(r))
    );
    let _ = writeln!(s, "{}", text(&r.messages().join("; ")));
    if undetermined(r) {
        let _ = writeln!(
            s,
            "\n_Not known statically: {} — the finding fails closed on what vouch could not read._",
            r.unknown()
                .iter()
                .map(|u| code(u))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let fix = lib
        .controls
        .get(&*r.control)
        .map(|c| c.remediation.as_str());
    let fw = frameworks_full(r, lib);
    if fix.is_some() || !fw.is_empty() {
        s.push_str("\n<details><summary>How to fix</summary>\n\n");
        if let Some(fix) = fix {
            s.push_str(&remediation(fix, r));
        }
        if !fw.is_empty() {
            let _ = writeln!(s, "Frameworks: {}\n", text(&fw));
        }
        s.push_str("</details>\n");
    }
    s.push('\n');
    s
}

fn severity_heading(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "🔴 Critical",
        Severity::High => "🟠 High",
        Severity::Medium => "🟡 Medium",
        Severity::Low => "🔵 Low",
        Severity::Info => "⚪ Info",
    }
}

fn by_severity(
    results: &[CheckResult],
) -> BTreeMap<std::cmp::Reverse<Severity>, Vec<&CheckResult>> {
    let mut out: BTreeMap<std::cmp::Reverse<Severity>, Vec<&CheckResult>> = BTreeMap::new();
    for r in results {
        out.entry(std::cmp::Reverse(r.severity))
            .or_default()
            .push(r);
    }
    out
}

fn counts_line(counts: &BTreeMap<Severity, usize>) -> String {
    SEVERITIES
        .iter()
        .filter_map(|s| {
            counts
                .get(s)
                .filter(|n| **n > 0)
                .map(|n| format!("{n} {}", s.as_str()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn count_by_severity<'a>(rs: impl Iterator<Item = &'a CheckResult>) -> BTreeMap<Severity, usize> {
    let mut m = BTreeMap::new();
    for r in rs {
        *m.entry(r.severity).or_insert(0) += 1;
    }
    m
}

/// The per-severity table: new, already on the base, waived, fixed.
fn counts_table(run: &GateRun) -> String {
    let r = &run.report;
    let rows: [(&str, &[CheckResult]); 4] = [
        ("**new**", &r.new),
        ("already on the base", &r.existing),
        ("waived", &r.waived),
        ("fixed by this change", &r.fixed),
    ];
    let mut s = String::from(
        "| | critical | high | medium | low | info | total |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (name, list) in rows {
        let c = count_by_severity(list.iter());
        let _ = write!(s, "| {name} ");
        for sev in SEVERITIES {
            let _ = write!(s, "| {} ", c.get(&sev).copied().unwrap_or(0));
        }
        let _ = writeln!(s, "| {} |", list.len());
    }
    if !r.kept.is_empty() {
        let _ = writeln!(
            s,
            "\n{} base findings were kept as they were: the head could not be re-evaluated, so none is counted as fixed.",
            r.kept.len()
        );
    }
    s
}

/// Why the gate could not run, first thing in a failed run's comment.
fn problems_section(run: &GateRun, limit: usize) -> String {
    let mut s = String::from(
        "**The gate could not run**, so this change is not verified and the gate fails. Why:\n\n",
    );
    for p in run.problems.iter().take(limit) {
        let at = match (&p.file, p.line) {
            (Some(f), Some(l)) => format!(" ({})", code(&format!("{f}:{l}"))),
            (Some(f), None) => format!(" ({})", code(f)),
            _ => String::new(),
        };
        let _ = write!(s, "- {}{at}", text(&p.message));
        if let Some(h) = &p.help {
            let _ = write!(s, " — {}", text(h));
        }
        s.push('\n');
    }
    if run.problems.len() > limit {
        let _ = writeln!(
            s,
            "- … and {} more problems (the JSON output lists them all)",
            run.problems.len() - limit
        );
    }
    if run.problems.is_empty() {
        for reason in &run.report.reasons {
            let _ = writeln!(s, "- {}", text(reason));
        }
    }
    s.push('\n');
    s
}

/// The change's edits to the policy, each with what it would hide.
fn policy_section(run: &GateRun, hides_limit: usize) -> String {
    let r = &run.report;
    let mut s = String::new();
    if r.policy.trust_head_config {
        s.push_str("> [!WARNING]\n> **`--trust-head-config`**: this run applied the head's `vouch.toml` and custom controls, not the base's. Edits to them in this change take effect now.\n\n");
    }
    if r.policy.changes.is_empty() {
        return s;
    }
    let weakening = r.policy.weakening().count();
    let applied = match r.policy.source {
        PolicySource::Base => {
            "The gate applied the base's policy; these edits are **not applied until merged**, and what they would hide is evaluated here."
        }
        PolicySource::Head => "These edits are applied in this run (`--trust-head-config`).",
    };
    let _ = writeln!(
        s,
        "### ⚠️ This change edits the gate's policy\n\n{applied}{}\n",
        if weakening == 1 && r.policy.changes.len() == 1 {
            " **It weakens the policy.**".to_owned()
        } else if weakening > 0 {
            format!(" **{weakening} of them weaken it.**")
        } else {
            String::new()
        }
    );
    for c in &r.policy.changes {
        let _ = write!(s, "- this change {}", text(&c.description));
        if let Some(line) = c.line {
            let file = if r.path.is_empty() {
                crate::config::FILE_NAME.to_owned()
            } else {
                format!("{}/{}", r.path, crate::config::FILE_NAME)
            };
            let _ = write!(s, " ({})", code(&format!("{file}:{line}")));
        }
        if c.hides.is_empty() {
            s.push('\n');
            continue;
        }
        let new = c.hides.iter().filter(|h| h.new).count();
        let mut sev: BTreeMap<Severity, usize> = BTreeMap::new();
        for h in &c.hides {
            *sev.entry(h.severity).or_insert(0) += 1;
        }
        let _ = writeln!(
            s,
            " — **would hide {} finding(s)** ({}{}):",
            c.hides.len(),
            counts_line(&sev),
            if new > 0 {
                format!("; {new} new in this change")
            } else {
                String::new()
            }
        );
        for h in c.hides.iter().take(hides_limit) {
            let at = h.resource.as_ref().map_or_else(
                || "(organisation)".to_owned(),
                |res| {
                    format!(
                        "{} at {}",
                        code(&res.address),
                        code(&format!("{}:{}", res.file, res.line))
                    )
                },
            );
            let _ = writeln!(
                s,
                "  - {} {} on {at} ({}{})",
                h.severity.as_str(),
                code(&h.control),
                h.how,
                if h.new { ", new" } else { "" }
            );
        }
        if c.hides.len() > hides_limit {
            let _ = writeln!(
                s,
                "  - … and {} more (the JSON output lists them all)",
                c.hides.len() - hides_limit
            );
        }
    }
    s.push('\n');
    s
}

/// Lines of a section that fit in the budget, then a line saying what was left out.
fn fit(out: &mut String, rows: &[String], reserve: usize, left_out: &dyn Fn(usize) -> String) {
    let mut shown = 0;
    for row in rows {
        if out.len() + row.len() + reserve > MARKDOWN_LIMIT {
            break;
        }
        out.push_str(row);
        shown += 1;
    }
    if shown < rows.len() {
        out.push_str(&left_out(rows.len() - shown));
    }
}

/// The Markdown PR comment. Order: verdict; why it could not run; the policy edits; counts per
/// severity; new findings by severity (critical first) with the fix; then waived, unmatched
/// waivers, fixed, kept, changed controls and submodules. Cut to [`MARKDOWN_LIMIT`] characters,
/// saying how many of which severity were left out.
#[expect(clippy::too_many_lines, reason = "one section after the other")]
pub fn markdown(run: &GateRun) -> String {
    let r = &run.report;
    let lib = &run.head.library;
    let icon = match r.verdict {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Error => "⚠️",
    };
    let mut out = String::new();
    let _ = writeln!(out, "## {icon} {}\n", verdict_line(run));
    if r.verdict == Verdict::Error {
        out.push_str(&problems_section(run, 20));
    }
    if r.uncommitted_changes {
        out.push_str("_The head is the working tree, including uncommitted changes._\n\n");
    }
    out.push_str(&policy_section(run, 10));
    out.push_str(&counts_table(run));
    out.push('\n');
    let reasons: Vec<&String> = if r.verdict == Verdict::Error {
        Vec::new()
    } else {
        r.reasons.iter().collect()
    };
    for reason in reasons {
        let _ = writeln!(out, "- {}", text(reason));
    }
    out.push('\n');

    // Room kept for the shorter sections after the new findings.
    let reserve = 6_000;
    if !r.new.is_empty() {
        let blocking = r.blocking();
        let _ = writeln!(out, "### New findings ({})\n", r.new.len());
        let mut omitted: BTreeMap<Severity, usize> = BTreeMap::new();
        let mut full = false;
        for (sev, list) in by_severity(&r.new) {
            let sev = sev.0;
            if full {
                *omitted.entry(sev).or_insert(0) += list.len();
                continue;
            }
            let heading = format!("#### {} ({})\n\n", severity_heading(sev), list.len());
            if out.len() + heading.len() + reserve > MARKDOWN_LIMIT {
                full = true;
                *omitted.entry(sev).or_insert(0) += list.len();
                continue;
            }
            out.push_str(&heading);
            for (i, f) in list.iter().enumerate() {
                let mut entry = finding(f, lib);
                if !blocking.contains(f.fingerprint.as_str()) {
                    entry = entry.replacen(
                        "  \n",
                        &format!(" · _below the threshold `{}`_  \n", r.threshold.as_str()),
                        1,
                    );
                }
                if out.len() + entry.len() + reserve > MARKDOWN_LIMIT {
                    full = true;
                    *omitted.entry(sev).or_insert(0) += list.len() - i;
                    break;
                }
                out.push_str(&entry);
            }
        }
        if !omitted.is_empty() {
            let _ = writeln!(
                out,
                "_… {} more new findings not shown ({}): the comment has a size limit. The SARIF and JSON outputs hold them all._\n",
                omitted.values().sum::<usize>(),
                counts_line(&omitted)
            );
        }
    }
    let small_reserve = 400;
    if !r.waived.is_empty() {
        let _ = writeln!(
            out,
            "### Waived ({}) — still failing, accepted until the waiver expires\n",
            r.waived.len()
        );
        let rows: Vec<String> = r
            .waived
            .iter()
            .map(|f| {
                let w = f.waiver.as_ref();
                format!(
                    "- {} {} on {} at {}: {} (approved by {}, until {})\n",
                    f.severity.as_str(),
                    code(&f.control),
                    code(resource_name(f)),
                    code(&location(f)),
                    text(w.map_or("", |w| w.reason.as_str())),
                    text(w.map_or("", |w| w.approver.as_str())),
                    w.map_or("", |w| w.expires.as_str())
                )
            })
            .collect();
        fit(&mut out, &rows, small_reserve, &|n| {
            format!("- … and {n} more (see the JSON output)\n")
        });
        out.push('\n');
    }
    let unmatched: Vec<_> = r.waivers.iter().filter(|w| w.matched == 0).collect();
    if !unmatched.is_empty() {
        let file = if r.path.is_empty() {
            crate::config::FILE_NAME.to_owned()
        } else {
            format!("{}/{}", r.path, crate::config::FILE_NAME)
        };
        let _ = writeln!(
            out,
            "### Unmatched waivers ({}) — they waive nothing; remove them\n",
            unmatched.len()
        );
        let rows: Vec<String> = unmatched
            .iter()
            .map(|w| {
                format!(
                    "- {} on {}{} ({})\n",
                    code(&w.control),
                    code(&w.resource),
                    w.path
                        .as_ref()
                        .map_or_else(String::new, |p| format!(" in {}", code(p))),
                    code(&format!("{file}:{}", w.line))
                )
            })
            .collect();
        fit(&mut out, &rows, small_reserve, &|n| {
            format!("- … and {n} more (see the JSON output)\n")
        });
        out.push('\n');
    }
    if !r.fixed.is_empty() {
        let _ = writeln!(out, "### Fixed by this change ({})\n", r.fixed.len());
        let rows: Vec<String> = r
            .fixed
            .iter()
            .map(|f| {
                format!(
                    "- {} {} on {} (was at {})\n",
                    f.severity.as_str(),
                    code(&f.control),
                    code(resource_name(f)),
                    code(&location(f))
                )
            })
            .collect();
        fit(&mut out, &rows, small_reserve, &|n| {
            format!("- … and {n} more (see the JSON output)\n")
        });
        out.push('\n');
    }
    if !r.kept.is_empty() {
        let _ = writeln!(
            out,
            "### Kept from the base ({}) — not re-evaluated, not fixed\n",
            r.kept.len()
        );
        let rows: Vec<String> = r
            .kept
            .iter()
            .map(|f| {
                format!(
                    "- {} {} on {} at {}\n",
                    f.severity.as_str(),
                    code(&f.control),
                    code(resource_name(f)),
                    code(&location(f))
                )
            })
            .collect();
        fit(&mut out, &rows, small_reserve, &|n| {
            format!("- … and {n} more (see the SARIF or JSON output)\n")
        });
        out.push('\n');
    }
    if !r.changed_controls.is_empty() {
        out.push_str("### Your own controls changed by this change\n\n");
        let rows: Vec<String> = r
            .changed_controls
            .iter()
            .map(|c| format!("- {} ({})\n", code(&c.control), c.change))
            .collect();
        fit(&mut out, &rows, small_reserve, &|n| {
            format!("- … and {n} more\n")
        });
        out.push('\n');
    }
    if !r.submodules.head.is_empty() {
        let subs: Vec<String> = r
            .submodules
            .head
            .iter()
            .map(|s| {
                format!(
                    "{} at `{}`",
                    code(&s.path),
                    s.commit.chars().take(12).collect::<String>()
                )
            })
            .collect();
        let line = format!("_Submodules scanned: {}._\n\n", subs.join(", "));
        if out.len() + line.len() + 200 <= MARKDOWN_LIMIT {
            out.push_str(&line);
        }
    }
    if !r.skipped.is_empty() {
        let line = format!(
            "_{} files not read (too big, not UTF-8, or a symlink leaving the tree); the JSON output lists them._\n\n",
            r.skipped.len()
        );
        out.push_str(&line);
    }
    out
}

/// The terminal summary (new findings as code frames, then the rest as counts and lists).
pub fn human(run: &GateRun, style: super::human::Style) -> String {
    let r = &run.report;
    let mut out = String::new();
    let _ = writeln!(out, "{}", verdict_line(run));
    if r.policy.trust_head_config {
        out.push_str(
            "note: --trust-head-config: the head's vouch.toml and custom controls were applied\n",
        );
    }
    if r.uncommitted_changes {
        out.push_str("note: the head is the working tree, including uncommitted changes\n");
    }
    for reason in &r.reasons {
        let _ = writeln!(out, "  - {reason}");
    }
    out.push('\n');
    if !r.policy.changes.is_empty() {
        match r.policy.source {
            PolicySource::Base => out.push_str(
                "this change edits the gate's policy (not applied until merged: the base's applies):\n",
            ),
            PolicySource::Head => {
                out.push_str("this change edits the gate's policy (applied: --trust-head-config):\n");
            }
        }
        for c in &r.policy.changes {
            let _ = write!(
                out,
                "  {} {}",
                if c.weakens { "!" } else { "-" },
                c.description
            );
            if c.hides.is_empty() {
                out.push('\n');
                continue;
            }
            let _ = writeln!(out, " — would hide {} finding(s):", c.hides.len());
            for h in c.hides.iter().take(10) {
                let _ = writeln!(
                    out,
                    "      {} {} on {} ({}{})",
                    h.severity.as_str(),
                    h.control,
                    h.resource.as_ref().map_or_else(
                        || "(organisation)".to_owned(),
                        |x| format!("{} at {}:{}", x.address, x.file, x.line)
                    ),
                    h.how,
                    if h.new { ", new" } else { "" }
                );
            }
            if c.hides.len() > 10 {
                let _ = writeln!(out, "      … and {} more", c.hides.len() - 10);
            }
        }
        out.push('\n');
    }
    if !r.new.is_empty() {
        let mut shown = run.head.assessment.clone();
        let mut new = r.new.clone();
        new.sort_by_key(|r| std::cmp::Reverse(r.severity));
        shown.results = new;
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
        let _ = writeln!(
            out,
            "new findings ({}: {}):\n",
            r.new.len(),
            counts_line(&count_by_severity(r.new.iter()))
        );
        out.push_str(frames);
    }
    if !r.fixed.is_empty() {
        let _ = writeln!(out, "fixed by this change ({}):", r.fixed.len());
        for f in &r.fixed {
            let _ = writeln!(out, "  ✓ {} on {}", f.control, resource_name(f));
        }
        out.push('\n');
    }
    if !r.kept.is_empty() {
        let _ = writeln!(
            out,
            "kept from the base, not re-evaluated ({}): the head run failed, so none is fixed",
            r.kept.len()
        );
    }
    let unmatched = r.waivers.iter().filter(|w| w.matched == 0).count();
    if unmatched > 0 {
        let _ = writeln!(out, "{unmatched} waivers matched nothing: remove them");
    }
    if !r.changed_controls.is_empty() {
        out.push_str("your own controls changed by this change:\n");
        for c in &r.changed_controls {
            let _ = writeln!(out, "  {} ({})", c.control, c.change);
        }
        out.push('\n');
    }
    if !r.submodules.head.is_empty() {
        let subs: Vec<&str> = r.submodules.head.iter().map(|s| s.path.as_str()).collect();
        let _ = writeln!(out, "submodules scanned: {}", subs.join(", "));
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

#[cfg(test)]
mod tests {
    use super::{code, text};

    #[test]
    fn text_escapes_html_outside_code_spans_only() {
        assert_eq!(
            text("scope it with `resource is <Type>` <b> & more\nline"),
            "scope it with `resource is <Type>` &lt;b&gt; &amp; more line"
        );
    }

    #[test]
    fn inline_code_survives_backticks_and_newlines() {
        assert_eq!(code("main.tf"), "`main.tf`");
        assert_eq!(code("a`b.tf"), "`` a`b.tf ``");
        assert_eq!(code("a\nb.tf"), "`a\\nb.tf`");
    }
}
