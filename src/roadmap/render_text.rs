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

/// How many of `BAR` cells each segment (met, failing, pending, unaddressed) gets: exactly
/// `BAR` in all, apportioned by largest remainder (so rounding never lands in one segment), and
/// every segment with a requirement gets at least one cell (2 pending of 61 still shows).
pub fn cells(counts: [usize; 4]) -> [usize; 4] {
    let total: usize = counts.iter().sum();
    if total == 0 {
        return [0, 0, 0, BAR];
    }
    let mut cells = counts.map(|n| n * BAR / total);
    let mut order = [0, 1, 2, 3];
    // Largest remainder first; ties go to the earlier segment (deterministic).
    order.sort_by_key(|&i| std::cmp::Reverse(counts[i] * BAR % total));
    let given: usize = cells.iter().sum();
    for &i in order.iter().cycle().take(BAR.saturating_sub(given)) {
        cells[i] += 1;
    }
    for i in 0..4 {
        if counts[i] > 0 && cells[i] == 0 {
            // Take the cell from the widest segment; it keeps at least one.
            let widest = (0..4).max_by_key(|&j| (cells[j], std::cmp::Reverse(j)));
            if let Some(w) = widest.filter(|&w| cells[w] > 1) {
                cells[w] -= 1;
                cells[i] = 1;
            }
        }
    }
    cells
}

/// A bar of `BAR` cells: met, failing, pending (awaiting attestation), unaddressed (no control
/// yet).
fn bar(r: &super::Readiness, color: bool) -> String {
    if r.requirements == 0 {
        return "░".repeat(BAR);
    }
    let [met, failing, pending, none] = cells([r.met, r.failing, r.pending, r.unaddressed]);
    format!(
        "{}{}{}{}",
        paint(&"█".repeat(met), "32", color),
        paint(&"▓".repeat(failing), "31", color),
        paint(&"▒".repeat(pending), "33", color),
        paint(&"░".repeat(none), "2", color),
    )
}

/// Why SOC 2 (or SOC 3) counts fewer requirements here than in `vouch check`: the roadmap
/// counts the criteria of the categories in scope, `check` those of every category a control
/// maps to. `None` without a SOC target.
pub fn soc2_scope_note(roadmap: &Roadmap) -> Option<String> {
    let fw = roadmap
        .frameworks
        .iter()
        .find(|f| f.id == "soc2" || f.id == "soc3")?;
    let out_of_scope: Vec<&str> = super::settings::SOC2_CATEGORIES
        .iter()
        .filter(|c| !roadmap.soc2_categories.iter().any(|s| s == *c))
        .copied()
        .collect();
    let cats = roadmap.soc2_categories.join(", ");
    Some(if out_of_scope.is_empty() {
        format!(
            "{} counts the {} criteria of every trust services category, as `vouch check` does.",
            short_name(roadmap, &fw.id),
            fw.readiness.requirements
        )
    } else {
        format!(
            "{} counts the {} criteria of the categories in scope ({cats}); `vouch check` also \
             counts those of {} (add them with `[roadmap] soc2_categories` in vouch.toml).",
            short_name(roadmap, &fw.id),
            fw.readiness.requirements,
            out_of_scope.join(", ")
        )
    })
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
        "  (█ met  ▓ failing  ▒ awaiting attestation  ░ no control yet; the percent counts only\n   requirements shown by configuration, system exports or attestations with an evidence file)"
    );
    if let Some(note) = soc2_scope_note(roadmap) {
        let _ = writeln!(out, "  {note}");
    }
    out.push('\n');

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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{BAR, cells};

    #[test]
    fn a_small_pending_count_still_draws_its_segment() {
        // 61 requirements: 40 met, 10 failing, 2 awaiting attestation, 9 with no control.
        // Rounding down gave pending 0 cells and the leftovers to "no control yet".
        let c = cells([40, 10, 2, 9]);
        assert_eq!(c.iter().sum::<usize>(), BAR);
        assert_eq!(c, [16, 4, 1, 3]);
    }

    #[test]
    fn leftovers_go_to_the_largest_remainders_not_to_no_control_yet() {
        // 33 requirements, none unaddressed: no "no control yet" cell may appear.
        assert_eq!(cells([20, 7, 6, 0])[3], 0);
        assert_eq!(cells([0, 0, 0, 0]), [0, 0, 0, BAR]);
        assert_eq!(cells([1, 0, 0, 0]), [BAR, 0, 0, 0]);
    }

    proptest! {
        #[test]
        fn cells_add_up_and_show_every_non_empty_segment(
            counts in prop::array::uniform4(0usize..400)
        ) {
            let c = cells(counts);
            let total: usize = counts.iter().sum();
            prop_assert_eq!(c.iter().sum::<usize>(), BAR);
            for i in 0..4 {
                if total > 0 {
                    prop_assert_eq!(counts[i] == 0, c[i] == 0, "{:?} -> {:?}", counts, c);
                    // Within a cell of the exact share, plus the cells lent to tiny segments.
                    let exact = counts[i] as f64 * BAR as f64 / total as f64;
                    prop_assert!((c[i] as f64 - exact).abs() < 4.0, "{:?} -> {:?}", counts, c);
                }
            }
        }
    }
}
