//! The Markdown rendering (for a wiki page, an issue or a pull-request comment).

use std::fmt::Write as _;

use super::model::ReqStatus;
use super::{Roadmap, effort_words, short_name, unlocks_line};

/// Escapes the characters that break a table cell or inline formatting.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

/// The Markdown rendering.
pub fn render(roadmap: &Roadmap) -> String {
    let mut out = String::new();
    let names: Vec<String> = roadmap
        .targets
        .iter()
        .map(|t| short_name(roadmap, t))
        .collect();
    let _ = writeln!(out, "# Compliance roadmap\n");
    let _ = writeln!(
        out,
        "{} as of {}. Targets: {}.\n",
        code(&roadmap.root),
        roadmap.as_of,
        names.join(", ")
    );
    let _ = writeln!(out, "## Readiness\n");
    let _ = writeln!(
        out,
        "| framework | ready | met | failing | awaiting attestation | no control yet | counted |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    for fw in &roadmap.frameworks {
        let r = &fw.readiness;
        let _ = writeln!(
            out,
            "| {} | **{}%** | {} of {} ({}) | {} | {} | {} | {} |",
            cell(&fw.name),
            r.percent,
            r.met,
            r.requirements,
            cell(&r.shown_words()),
            r.failing,
            r.pending,
            r.unaddressed,
            cell(&fw.scope)
        );
    }
    let _ = writeln!(
        out,
        "\n*Ready* counts only requirements shown by configuration, system exports or attestations with an evidence file in the tree; requirements met on declared facts or on links alone are listed beside it."
    );
    if let Some(note) = super::render_text::soc2_scope_note(roadmap) {
        let _ = writeln!(out, "\n{note}");
    }
    let _ = writeln!(out, "\n## Which certification next\n");
    let _ = writeln!(
        out,
        "| # | framework | now | steps left | effort left | requirements no control covers |"
    );
    let _ = writeln!(out, "| ---: | --- | ---: | ---: | ---: | ---: |");
    for (i, n) in roadmap.next_certification.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {}{} | {}% | {} | {} | {} |",
            i + 1,
            cell(&short_name(roadmap, &n.framework)),
            if n.ready { " (ready)" } else { "" },
            n.percent,
            n.steps,
            n.effort,
            n.unaddressed
        );
    }
    let _ = writeln!(
        out,
        "\nEffort is the sum of the controls' effort points (1 ≈ an hour … 13 ≈ a project). \
         Requirements no control covers need new controls and are not in the estimate.\n"
    );
    let _ = writeln!(out, "## Next steps, best return first\n");
    if roadmap.steps.is_empty() {
        let _ = writeln!(
            out,
            "None: no failing control or missing attestation holds a target requirement back.\n"
        );
    } else {
        let _ = writeln!(out, "| # | step | effort | completes | on | score |");
        let _ = writeln!(out, "| ---: | --- | --- | --- | --- | ---: |");
        for s in &roadmap.steps {
            let unlocks = unlocks_line(roadmap, s);
            let unlocks = if unlocks.is_empty() {
                format!("moves {} closer", s.advances.values().sum::<usize>())
            } else {
                cell(&unlocks)
            };
            let mut on: Vec<String> = s.resources.iter().take(5).map(|r| code(r)).collect();
            if s.resources.len() > 5 {
                on.push(format!("and {} more", s.resources.len() - 5));
            }
            if let Some(d) = &s.expired_on {
                on.push(format!("expired {d}"));
            }
            let _ = writeln!(
                out,
                "| {} | {} {} — {} | {} ({}) | {} | {} | {:.2} |",
                s.rank,
                s.kind.verb(),
                code(&s.control),
                cell(&s.title),
                s.effort,
                effort_words(s.effort),
                unlocks,
                on.join(", "),
                s.score
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Gaps\n");
    for fw in &roadmap.frameworks {
        let gaps: Vec<_> = fw
            .requirements
            .iter()
            .filter(|r| r.status != ReqStatus::Met)
            .collect();
        let _ = writeln!(
            out,
            "### {} — {} of {} not met\n",
            cell(&fw.name),
            gaps.len(),
            fw.requirements.len()
        );
        if gaps.is_empty() {
            let _ = writeln!(out, "Every requirement is met.\n");
            continue;
        }
        let _ = writeln!(out, "| requirement | title | status | held back by |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for status in [
            ReqStatus::Failing,
            ReqStatus::Pending,
            ReqStatus::Unaddressed,
        ] {
            for r in gaps.iter().filter(|r| r.status == status) {
                let by: Vec<String> = r.blocked_by.iter().map(|c| code(c)).collect();
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    cell(&r.id),
                    cell(&r.title),
                    status.label(),
                    by.join(", ")
                );
            }
        }
        out.push('\n');
    }
    out
}
