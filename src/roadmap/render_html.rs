//! The HTML rendering: one self-contained page (inline CSS, no script, no network) with a
//! readiness bar per framework, the ranked steps and the gap tables, written for a reader who
//! has never used a terminal.

use std::fmt::Write as _;

use super::model::{ReqStatus, RequirementStatus};
use super::{Roadmap, effort_words, short_name};

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

const CSS: &str = r#"
:root { --met:#1f8a4c; --failing:#c2362b; --pending:#d08a00; --none:#c9ced6; --ink:#1d232b; --muted:#5b6573; --line:#e3e6ea; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; font: 16px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1160px; margin: 0 auto; padding: 32px 28px 48px; }
h1 { font-size: 30px; margin: 0 0 4px; }
h2 { font-size: 22px; margin: 36px 0 6px; }
h3 { font-size: 18px; margin: 0; }
p.lead, p.note { color: var(--muted); margin: 4px 0 14px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; }
.card .top { display: flex; justify-content: space-between; align-items: baseline; }
.pct { font-size: 34px; font-weight: 700; }
.bar { display: flex; height: 18px; border-radius: 9px; overflow: hidden; background: var(--none); margin: 10px 0 12px; }
.bar span { display: block; height: 100%; }
.met { background: var(--met); } .failing { background: var(--failing); } .pending { background: var(--pending); } .unaddressed { background: var(--none); }
ul.counts { list-style: none; padding: 0; margin: 0; display: grid; grid-template-columns: 1fr 1fr; gap: 2px 12px; font-size: 14px; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; vertical-align: baseline; }
.scope { font-size: 13px; color: var(--muted); margin: 10px 0 0; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 10px; overflow: hidden; font-size: 15px; }
th, td { text-align: left; vertical-align: top; padding: 9px 12px; border-bottom: 1px solid var(--line); }
th { background: #eef0f3; font-weight: 600; font-size: 14px; }
tr:last-child td { border-bottom: none; }
td.num, th.num { text-align: right; white-space: nowrap; }
.rank { font-weight: 700; font-size: 18px; color: var(--muted); }
.what { font-weight: 600; }
.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; color: var(--muted); }
.pill { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 13px; font-weight: 600; color: #fff; white-space: nowrap; }
.pill.unaddressed { color: var(--ink); }
.tag { display: inline-block; padding: 0 7px; margin: 1px 4px 1px 0; border-radius: 6px; background: #e8f0fb; font-size: 13px; }
.fix { color: var(--muted); font-size: 14px; margin-top: 4px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; background: #eef0f3; border-radius: 4px; padding: 0 4px; }
details.change { margin: 6px 0 0; }
details.change summary { font-size: 13px; font-weight: 600; color: var(--muted); padding: 2px 0; }
details.change pre { margin: 6px 0 0; padding: 8px 10px; background: #f3f4f6; border-radius: 6px; overflow-x: auto; font-size: 12.5px; line-height: 1.4; }
details.change pre code { background: none; padding: 0; font-size: inherit; }
details { margin: 12px 0; }
summary { cursor: pointer; font-weight: 600; font-size: 17px; padding: 6px 0; }
tr.first td { background: #fbfaf3; }
footer { margin-top: 40px; color: var(--muted); font-size: 14px; }
dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 8px 0; }
dl.legend dt { font-weight: 600; }
dl.legend dd { margin: 0; }
@media print { body { background: #fff; } details { break-inside: avoid; } }
"#;

fn pct(n: usize, total: usize) -> String {
    if total == 0 {
        "0".to_owned()
    } else {
        format!("{:.2}", n as f64 * 100.0 / total as f64)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The page.
pub fn render(roadmap: &Roadmap) -> String {
    let mut h = String::new();
    let names: Vec<String> = roadmap
        .targets
        .iter()
        .map(|t| short_name(roadmap, t))
        .collect();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Compliance roadmap — {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(&roadmap.root)
    );
    let _ = writeln!(
        h,
        "<header><h1>Compliance roadmap</h1><p class=\"lead\">How far we are from {} and what to do next for the best return. \
         Checked <b>{}</b> as of <b>{}</b>.</p></header>",
        esc(&names.join(", ")),
        esc(&roadmap.root),
        esc(&roadmap.as_of)
    );
    readiness(&mut h, roadmap);
    next(&mut h, roadmap);
    steps(&mut h, roadmap);
    gaps(&mut h, roadmap);
    let _ = write!(
        h,
        "<footer><p>Generated by vouch from the company's configuration and attestations. \
         Library <span class=\"id\">{}</span>. A requirement is only counted as met when a control \
         shows it: a requirement no control covers is never counted as met.</p></footer>\n\
         </main>\n</body>\n</html>\n",
        esc(&roadmap.library_digest)
    );
    h
}

fn readiness(h: &mut String, roadmap: &Roadmap) {
    h.push_str("<section id=\"readiness\"><h2>How ready are we?</h2>\n");
    h.push_str(
        "<p class=\"lead\">Each bar is one certification. Green is done; the rest is the work left.</p>\n<div class=\"cards\">\n",
    );
    for fw in &roadmap.frameworks {
        let r = &fw.readiness;
        let _ = writeln!(
            h,
            "<article class=\"card readiness\" id=\"readiness-{id}\" data-framework=\"{id}\" data-percent=\"{p}\">\
             <div class=\"top\"><h3>{name}</h3><span class=\"pct\">{p}%</span></div>\
             <div class=\"bar\" role=\"img\" aria-label=\"{name}: {p}% ready, {met} of {total} requirements met\">\
             <span class=\"met\" style=\"width:{wm}%\"></span><span class=\"failing\" style=\"width:{wf}%\"></span>\
             <span class=\"pending\" style=\"width:{wp}%\"></span><span class=\"unaddressed\" style=\"width:{wu}%\"></span></div>\
             <ul class=\"counts\"><li><i class=\"dot met\"></i>{met} of {total} met ({shown})</li>\
             <li><i class=\"dot failing\"></i>{failing} failing</li>\
             <li><i class=\"dot pending\"></i>{pending} awaiting attestation</li>\
             <li><i class=\"dot unaddressed\"></i>{none} no control yet</li></ul>\
             <p class=\"scope\">Counted: {scope}.</p></article>",
            id = esc(&fw.id),
            name = esc(&fw.name),
            p = r.percent,
            met = r.met,
            total = r.requirements,
            failing = r.failing,
            pending = r.pending,
            none = r.unaddressed,
            wm = pct(r.met, r.requirements),
            wf = pct(r.failing, r.requirements),
            wp = pct(r.pending, r.requirements),
            wu = pct(r.unaddressed, r.requirements),
            scope = esc(&fw.scope),
            shown = esc(&r.shown_words()),
        );
    }
    h.push_str("</div>\n<dl class=\"legend\">\
        <dt><i class=\"dot met\"></i>Met</dt><dd>Every control for the requirement passes, and every manual control has a current attestation.</dd>\
        <dt><i class=\"dot failing\"></i>Failing</dt><dd>A control for the requirement found a problem in the configuration.</dd>\
        <dt><i class=\"dot pending\"></i>Awaiting attestation</dt><dd>Only paperwork is missing: a person must confirm a manual control (a policy, a training, a review) or renew an expired confirmation.</dd>\
        <dt><i class=\"dot unaddressed\"></i>No control yet</dt><dd>Nothing checks this requirement yet; it needs a new control and is not counted as met.</dd>\
        </dl>");
    if let Some(note) = super::render_text::soc2_scope_note(roadmap) {
        let _ = write!(
            h,
            "<p class=\"note\" id=\"soc2-scope\">{}</p>",
            super::render_remediation::inline_html(&note)
        );
    }
    h.push_str("</section>\n");
}

fn next(h: &mut String, roadmap: &Roadmap) {
    h.push_str("<section id=\"next-certification\"><h2>Which certification next?</h2>\n\
        <p class=\"lead\">The work left for each certification, least first. Effort is in points: 1 is about an hour, 13 a project of several weeks.</p>\n\
        <table><thead><tr><th>#</th><th>Certification</th><th class=\"num\">Ready now</th><th class=\"num\">Steps left</th><th class=\"num\">Effort left</th><th>Not yet covered by any control</th></tr></thead><tbody>\n");
    for (i, n) in roadmap.next_certification.iter().enumerate() {
        let uncovered = if n.unaddressed == 0 {
            "—".to_owned()
        } else {
            format!(
                "{} (needs new controls; not in the effort)",
                plural(n.unaddressed, "requirement", "requirements")
            )
        };
        let _ = writeln!(
            h,
            "<tr data-framework=\"{}\"><td class=\"rank\">{}</td><td class=\"what\">{}{}</td><td class=\"num\">{}%</td><td class=\"num\">{}</td><td class=\"num\">{} points</td><td>{}</td></tr>",
            esc(&n.framework),
            i + 1,
            esc(&short_name(roadmap, &n.framework)),
            if n.ready { " — ready" } else { "" },
            n.percent,
            n.steps,
            n.effort,
            esc(&uncovered)
        );
    }
    h.push_str("</tbody></table></section>\n");
}

fn steps(h: &mut String, roadmap: &Roadmap) {
    h.push_str("<section id=\"steps\"><h2>What to do next</h2>\n\
        <p class=\"lead\">Ranked by return: how many requirements each step completes across the certifications we want \
        (weighted by how much each is worth to us), divided by its effort. Doing them in this order completes the listed requirements.</p>\n");
    if roadmap.steps.is_empty() {
        h.push_str("<p>Nothing to do: no failing control or missing attestation holds a requirement back.</p></section>\n");
        return;
    }
    h.push_str("<table class=\"steps\"><thead><tr><th>#</th><th>What to do</th><th>What it completes</th><th>Effort</th><th>Where</th></tr></thead><tbody>\n");
    for s in &roadmap.steps {
        let mut completes = String::new();
        for t in &roadmap.targets {
            if let Some(ids) = s.unlocks.get(t) {
                let _ = write!(
                    completes,
                    "<div><span class=\"tag\">{}</span>{}</div>",
                    esc(&short_name(roadmap, t)),
                    esc(&ids.join(", "))
                );
            }
        }
        if completes.is_empty() {
            let n: usize = s.advances.values().sum();
            completes = format!(
                "<span class=\"fix\">Brings {} closer; other steps still needed.</span>",
                plural(n, "requirement", "requirements")
            );
        }
        let mut place = String::new();
        for r in s.resources.iter().take(6) {
            let _ = write!(place, "<div class=\"id\">{}</div>", esc(r));
        }
        if s.resources.len() > 6 {
            let _ = write!(place, "<div>and {} more</div>", s.resources.len() - 6);
        }
        if let Some(d) = &s.expired_on {
            let _ = write!(place, "<div>confirmation expired on {}</div>", esc(d));
        }
        if place.is_empty() && s.kind == super::StepKind::Implement {
            place.push_str("<div>the organisation (a person confirms it)</div>");
        }
        let _ = writeln!(
            h,
            "<tr class=\"step{first}\" id=\"step-{rank}\" data-control=\"{cid}\"><td class=\"rank\">{rank}</td>\
             <td><div class=\"what\">{verb}: {title}</div><div class=\"id\">{cid}</div>{fix}</td>\
             <td>{completes}</td><td>{effort} — {words}</td><td>{place}</td></tr>",
            first = if s.rank == 1 { " first" } else { "" },
            rank = s.rank,
            cid = esc(&s.control),
            verb = esc(s.kind.verb()),
            title = esc(&s.title),
            fix = super::render_remediation::html(&s.remediation),
            effort = s.effort,
            words = effort_words(s.effort),
        );
    }
    h.push_str("</tbody></table></section>\n");
}

fn gaps(h: &mut String, roadmap: &Roadmap) {
    h.push_str("<section id=\"gaps\"><h2>Gaps</h2>\n<p class=\"lead\">Every requirement not met yet, per certification, and the controls holding it back.</p>\n");
    for fw in &roadmap.frameworks {
        let gaps: Vec<&RequirementStatus> = fw
            .requirements
            .iter()
            .filter(|r| r.status != ReqStatus::Met)
            .collect();
        let _ = writeln!(
            h,
            "<details open id=\"gaps-{}\"><summary>{} — {} of {} not met</summary>",
            esc(&fw.id),
            esc(&fw.name),
            gaps.len(),
            fw.requirements.len()
        );
        if gaps.is_empty() {
            h.push_str("<p>Every requirement is met.</p></details>\n");
            continue;
        }
        h.push_str("<table class=\"gaps\"><thead><tr><th>Requirement</th><th>Status</th><th>Held back by</th></tr></thead><tbody>\n");
        for status in [
            ReqStatus::Failing,
            ReqStatus::Pending,
            ReqStatus::Unaddressed,
        ] {
            for r in gaps.iter().filter(|r| r.status == status) {
                let by = if r.blocked_by.is_empty() {
                    "—".to_owned()
                } else {
                    r.blocked_by
                        .iter()
                        .map(|c| format!("<span class=\"id\">{}</span>", esc(c)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let _ = writeln!(
                    h,
                    "<tr><td><span class=\"id\">{}</span> {}</td><td><span class=\"pill {}\">{}</span></td><td>{}</td></tr>",
                    esc(&r.id),
                    esc(&r.title),
                    status.as_str(),
                    esc(status.label()),
                    by
                );
            }
        }
        h.push_str("</tbody></table></details>\n");
    }
    h.push_str("</section>\n");
}
