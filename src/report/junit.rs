//! JUnit XML for the gate, valid against Jenkins' `junit-10.xsd` and mirroring the verdict:
//! only the findings that fail the gate are `<failure>`s; findings already on the base, waived
//! ones, new ones below the threshold and base findings a failed run kept are `<skipped>`; the
//! run's problems are `<error>`s. Locations go in the failure text and `<system-out>` (the
//! schema has no `file`/`line` on a test case); times are `0` (the output is deterministic).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::assessment::{CheckResult, Status};
use crate::gate::{GateRun, PolicySource};

/// Escapes text for XML attributes and content.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push(' '),
            '\u{FFFE}' | '\u{FFFF}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// What one test case says.
enum Outcome {
    Pass,
    Failure {
        kind: String,
        message: String,
        body: String,
    },
    Error {
        kind: String,
        message: String,
        body: String,
    },
    Skipped(String),
}

struct Case {
    name: String,
    classname: String,
    outcome: Outcome,
    out: Option<String>,
}

struct Suite {
    name: String,
    properties: Vec<(String, String)>,
    cases: Vec<Case>,
}

fn where_of(r: &CheckResult) -> String {
    r.resource.as_ref().map_or_else(
        || "(organisation)".to_owned(),
        |res| format!("{}:{}", res.file, res.line),
    )
}

fn finding_case(r: &CheckResult, outcome: Outcome) -> Case {
    let name = r
        .resource
        .as_ref()
        .map_or_else(|| "(organisation)".to_owned(), |res| res.address.clone());
    Case {
        name,
        classname: r.control.to_string(),
        outcome,
        out: Some(where_of(r)),
    }
}

fn failure_body(r: &CheckResult, remediation: Option<&str>) -> String {
    let mut body = format!(
        "{}\n{}\nseverity: {}\npolicies: {}",
        r.about.title,
        where_of(r),
        r.severity.as_str(),
        r.policies().join(", ")
    );
    if !r.unknown().is_empty() {
        let _ = write!(body, "\nnot known statically: {}", r.unknown().join(", "));
    }
    if let Some(fix) = remediation {
        let _ = write!(body, "\nhow to fix:\n{fix}");
    }
    body
}

/// The gate's results as JUnit XML.
pub fn gate(run: &GateRun) -> String {
    let report = &run.report;
    let lib = &run.head.library;
    let blocking = report.blocking();
    let new: BTreeSet<&str> = report.new_fingerprints();
    let threshold = report.threshold.as_str();
    let mut suites: Vec<Suite> = Vec::new();

    // The policy: where it came from and what the change does to it.
    let mut policy = Suite {
        name: "vouch policy".to_owned(),
        properties: vec![
            (
                "policy_source".to_owned(),
                match report.policy.source {
                    PolicySource::Base => "base".to_owned(),
                    PolicySource::Head => "head".to_owned(),
                },
            ),
            (
                "trust_head_config".to_owned(),
                report.policy.trust_head_config.to_string(),
            ),
            (
                "verdict".to_owned(),
                format!("{:?}", report.verdict).to_lowercase(),
            ),
        ],
        cases: Vec::new(),
    };
    for c in &report.policy.changes {
        let mut out = String::new();
        for h in &c.hides {
            let _ = writeln!(
                out,
                "would hide ({}): {} {} on {}{}",
                h.how,
                h.severity.as_str(),
                h.control,
                h.resource.as_ref().map_or_else(
                    || "(organisation)".to_owned(),
                    |r| format!("{} ({}:{})", r.address, r.file, r.line)
                ),
                if h.new { " [new]" } else { "" }
            );
        }
        let hides = if c.hides.is_empty() {
            String::new()
        } else {
            format!("; would hide {} finding(s)", c.hides.len())
        };
        let outcome = match report.policy.source {
            PolicySource::Base => Outcome::Skipped(format!(
                "not applied until merged (the gate applies the base's policy){hides}"
            )),
            PolicySource::Head => Outcome::Pass,
        };
        policy.cases.push(Case {
            name: format!("this change {}", c.description),
            classname: format!("vouch.policy.{}", c.kind),
            outcome,
            out: (!out.is_empty()).then_some(out),
        });
    }
    suites.push(policy);

    // The run's problems: any makes the verdict `error`.
    if !run.problems.is_empty() {
        let cases = run
            .problems
            .iter()
            .map(|p| {
                let kind = serde_json::to_value(p.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let at = match (&p.file, p.line) {
                    (Some(f), Some(l)) => format!("{f}:{l}"),
                    (Some(f), None) => f.clone(),
                    _ => "(run)".to_owned(),
                };
                Case {
                    name: at,
                    classname: "vouch.problems".to_owned(),
                    outcome: Outcome::Error {
                        kind,
                        message: p.message.clone(),
                        body: p.help.clone().unwrap_or_default(),
                    },
                    out: None,
                }
            })
            .collect();
        suites.push(Suite {
            name: "vouch problems".to_owned(),
            properties: Vec::new(),
            cases,
        });
    }

    // One suite per control: every head result, plus the base findings a failed run kept.
    let mut by_control: BTreeMap<&str, Vec<Case>> = BTreeMap::new();
    for r in &run.head.assessment.results {
        let fix = lib.controls.get(&*r.control).map(|c| c.remediation.trim());
        let msg = r.messages().join("; ");
        let outcome = match r.status {
            Status::Pass => Outcome::Pass,
            Status::NotApplicable => Outcome::Skipped(msg),
            Status::Waived => Outcome::Skipped(r.waiver.as_ref().map_or(msg, |w| {
                format!("waived until {} by {}: {}", w.expires, w.approver, w.reason)
            })),
            Status::Error if blocking.contains(r.fingerprint.as_str()) => Outcome::Error {
                kind: "evaluation".to_owned(),
                message: msg,
                body: failure_body(r, None),
            },
            Status::Fail | Status::Error if blocking.contains(r.fingerprint.as_str()) => {
                Outcome::Failure {
                    kind: r.severity.as_str().to_owned(),
                    message: msg,
                    body: failure_body(r, fix),
                }
            }
            Status::Fail | Status::Error if new.contains(r.fingerprint.as_str()) => {
                Outcome::Skipped(format!(
                    "new {} finding, below the gate's threshold `{threshold}`: {msg}",
                    r.severity.as_str()
                ))
            }
            Status::Fail | Status::Error => Outcome::Skipped(format!(
                "already on the base, not introduced by this change: {msg}"
            )),
        };
        by_control
            .entry(r.control.as_ref())
            .or_default()
            .push(finding_case(r, outcome));
    }
    for r in &report.kept {
        by_control
            .entry(r.control.as_ref())
            .or_default()
            .push(finding_case(
                r,
                Outcome::Skipped(format!(
                    "kept from the base: the head could not be re-evaluated: {}",
                    r.messages().join("; ")
                )),
            ));
    }
    for (control, cases) in by_control {
        suites.push(Suite {
            name: control.to_owned(),
            properties: Vec::new(),
            cases,
        });
    }
    render(&suites)
}

fn render(suites: &[Suite]) -> String {
    let count =
        |s: &Suite, f: &dyn Fn(&Outcome) -> bool| s.cases.iter().filter(|c| f(&c.outcome)).count();
    let is_failure = |o: &Outcome| matches!(o, Outcome::Failure { .. });
    let is_error = |o: &Outcome| matches!(o, Outcome::Error { .. });
    let is_skipped = |o: &Outcome| matches!(o, Outcome::Skipped(_));
    let total = |f: &dyn Fn(&Outcome) -> bool| suites.iter().map(|s| count(s, f)).sum::<usize>();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"vouch gate\" time=\"0\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        suites.iter().map(|s| s.cases.len()).sum::<usize>(),
        total(&is_failure),
        total(&is_error),
    );
    for s in suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">",
            esc(&s.name),
            s.cases.len(),
            count(s, &is_failure),
            count(s, &is_error),
            count(s, &is_skipped),
        );
        if !s.properties.is_empty() {
            out.push_str("    <properties>\n");
            for (k, v) in &s.properties {
                let _ = writeln!(
                    out,
                    "      <property name=\"{}\" value=\"{}\"/>",
                    esc(k),
                    esc(v)
                );
            }
            out.push_str("    </properties>\n");
        }
        for c in &s.cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                esc(&c.classname),
                esc(&c.name)
            );
            if matches!(c.outcome, Outcome::Pass) && c.out.is_none() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            match &c.outcome {
                Outcome::Pass => {}
                Outcome::Failure {
                    kind,
                    message,
                    body,
                } => {
                    let _ = writeln!(
                        out,
                        "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                        esc(kind),
                        esc(message),
                        esc(body)
                    );
                }
                Outcome::Error {
                    kind,
                    message,
                    body,
                } => {
                    let _ = writeln!(
                        out,
                        "      <error type=\"{}\" message=\"{}\">{}</error>",
                        esc(kind),
                        esc(message),
                        esc(body)
                    );
                }
                Outcome::Skipped(message) => {
                    let _ = writeln!(out, "      <skipped message=\"{}\"/>", esc(message));
                }
            }
            if let Some(text) = &c.out {
                let _ = writeln!(out, "      <system-out>{}</system-out>", esc(text));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(esc("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos; ");
    }
}
