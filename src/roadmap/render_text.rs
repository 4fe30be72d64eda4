//! The terminal rendering: readiness bars, which certification next, the ranked steps, the gaps.

use std::fmt::Write as _;

use super::model::ReqStatus;
use super::{Roadmap, effort_words, short_name, unlocks_line};

const BAR: usize = 24;

fn paint(s: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

/// A bar of `BAR` cells: met, failing, pending, unaddressed.
fn bar(r: &super::Readiness, color: bool) -> String {
    if r.requirements == 0 {
        return "░".repeat(BAR);
    }
    let cells = |n: usize| n * BAR / r.requirements;
    let met = cells(r.met);
    let failing = cells(r.failing);
    let pending = cells(r.pending);
    let rest = BAR.saturating_sub(met + failing + pending);
    format!(
        "{}{}{}{}",
        paint(&"█".repeat(met), "32", color),
        paint(&"▓".repeat(failing), "31", color),
        paint(&"▒".repeat(pending), "33", color),
        paint(&"░".repeat(rest), "2", color),
    )
}

/// The human rendering.
pub fn render(roadmap: &Roadmap, color: bool) -> String {
    let mut out = String::new();
    let names: Vec<String> = roadmap
        .targets
        .iter()
        .map(|t| short_name(roadmap, t))
        .collect();
    let _ = writeln!(
        out,
        "{} for {} as of {} — targets: {}\n",
        paint("Compliance roadmap", "1", color),
        roadmap.root,
        roadmap.as_of,
        names.join(", ")
    );
    let _ = writeln!(out, "{}", paint("Readiness", "1", color));
    let w = names.iter().map(String::len).max().unwrap_or(0);
    for fw in &roadmap.frameworks {
        let r = &fw.readiness;
        let _ = writeln!(
            out,
            "  {:w$}  {}  {:>3}%  {} of {} met ({}) · {} failing · {} awaiting attestation · {} no control yet",
            short_name(roadmap, &fw.id),
            bar(r, color),
            r.percent,
            r.met,
            r.requirements,
            r.shown_words(),
            r.failing,
            r.pending,
            r.unaddressed,
        );
    }
    let _ = writeln!(
        out,
        "  (█ met  ▓ failing  ▒ awaiting attestation  ░ no control yet; the percent counts only\n   requirements shown by configuration, system exports or attestations with an evidence file)\n"
    );

    if !roadmap.exports.is_empty() {
        let _ = writeln!(out, "{}", paint("System exports read", "1", color));
        for e in &roadmap.exports {
            let age = match (&e.collected_at, e.age_days) {
                (Some(at), Some(d)) => {
                    format!("taken {at}, {d} day{} old", if d == 1 { "" } else { "s" })
                }
                _ => "export time unknown".to_owned(),
            };
            let stale = if e.stale {
                " — stale: export it again"
            } else {
                ""
            };
            let _ = writeln!(out, "  {} ({}): {age}{stale}", e.file, e.format);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{}",
        paint(
            "Which certification next (least remaining effort first; effort: 1 ≈ an hour … 13 ≈ a project)",
            "1",
            color
        )
    );
    for (i, n) in roadmap.next_certification.iter().enumerate() {
        let name = short_name(roadmap, &n.framework);
        if n.ready {
            let _ = writeln!(
                out,
                "  {}. {name:w$}  ready: every requirement is met",
                i + 1
            );
            continue;
        }
        let mut line = format!(
            "  {}. {name:w$}  {:>3}% now · {} step{} · effort {}",
            i + 1,
            n.percent,
            n.steps,
            if n.steps == 1 { "" } else { "s" },
            n.effort,
        );
        if n.unaddressed > 0 {
            let _ = write!(
                line,
                " · plus {} requirement{} no control covers yet",
                n.unaddressed,
                if n.unaddressed == 1 { "" } else { "s" }
            );
        }
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');

    let _ = writeln!(
        out,
        "{}",
        paint("Next steps (best return on effort first)", "1", color)
    );
    if roadmap.steps.is_empty() {
        let _ = writeln!(
            out,
            "  none: no failing control or missing attestation holds a target requirement back"
        );
    }
    for s in &roadmap.steps {
        let _ = writeln!(
            out,
            "  {:>2}. {} {} — {}   [effort {}: {}; score {:.2}]",
            s.rank,
            s.kind.verb(),
            paint(&s.control, "1", color),
            s.title,
            s.effort,
            effort_words(s.effort),
            s.score
        );
        if !s.resources.is_empty() {
            let shown: Vec<&str> = s.resources.iter().take(5).map(String::as_str).collect();
            let more = s.resources.len().saturating_sub(shown.len());
            let _ = writeln!(
                out,
                "      on: {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
        if let Some(d) = &s.expired_on {
            let _ = writeln!(out, "      attestation expired on {d}");
        }
        let unlocks = unlocks_line(roadmap, s);
        if unlocks.is_empty() {
            let advanced: usize = s.advances.values().sum();
            let _ = writeln!(
                out,
                "      moves {advanced} requirement{} closer (other steps still needed)",
                if advanced == 1 { "" } else { "s" }
            );
        } else {
            let _ = writeln!(out, "      completes: {unlocks}");
        }
    }
    out.push('\n');

    let _ = writeln!(out, "{}", paint("Gaps", "1", color));
    for fw in &roadmap.frameworks {
        let gaps: Vec<_> = fw
            .requirements
            .iter()
            .filter(|r| r.status != ReqStatus::Met)
            .collect();
        let _ = writeln!(
            out,
            "  {} ({} of {} not met; counted: {})",
            paint(&fw.name, "1", color),
            gaps.len(),
            fw.requirements.len(),
            fw.scope
        );
        let idw = gaps.iter().map(|r| r.id.len()).max().unwrap_or(0);
        for status in [
            ReqStatus::Failing,
            ReqStatus::Pending,
            ReqStatus::Unaddressed,
        ] {
            for r in gaps.iter().filter(|r| r.status == status) {
                let code = match status {
                    ReqStatus::Failing => "31",
                    ReqStatus::Pending => "33",
                    _ => "2",
                };
                let label = paint(&format!("{:11}", status.as_str()), code, color);
                let why = if r.blocked_by.is_empty() {
                    String::new()
                } else {
                    format!("  ← {}", r.blocked_by.join(", "))
                };
                let _ = writeln!(out, "    {:idw$}  {label}  {}{why}", r.id, r.title);
            }
        }
    }
    out
}
