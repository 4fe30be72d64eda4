//! JUnit XML: one test case per control × resource, read by every CI system.

use std::fmt::Write as _;

use crate::assessment::{CheckResult, Status};

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
            c => out.push(c),
        }
    }
    out
}

/// Renders results as one `<testsuite>` per control.
pub fn render(results: &[CheckResult]) -> String {
    let mut by_control: std::collections::BTreeMap<&str, Vec<&CheckResult>> =
        std::collections::BTreeMap::new();
    for r in results {
        by_control.entry(r.control.as_str()).or_default().push(r);
    }
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"vouch\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        results.len(),
        count(Status::Fail),
        count(Status::Error),
        count(Status::Waived) + count(Status::NotApplicable)
    );
    for (control, rs) in by_control {
        let fails = rs.iter().filter(|r| r.status == Status::Fail).count();
        let errors = rs.iter().filter(|r| r.status == Status::Error).count();
        let skipped = rs
            .iter()
            .filter(|r| matches!(r.status, Status::Waived | Status::NotApplicable))
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" errors=\"{errors}\" skipped=\"{skipped}\">",
            esc(control),
            rs.len()
        );
        for r in rs {
            let (name, file, line) = match &r.resource {
                Some(res) => (res.address.clone(), res.file.clone(), res.line),
                None => ("(organisation)".to_owned(), String::new(), 0),
            };
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\"",
                esc(control),
                esc(&name)
            );
            if !file.is_empty() {
                let _ = write!(out, " file=\"{}\" line=\"{line}\"", esc(&file));
            }
            let msg = r.messages.join("; ");
            match r.status {
                Status::Pass => out.push_str("/>\n"),
                Status::Fail => {
                    let _ = write!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                        esc(&msg),
                        r.severity.as_str(),
                        esc(&format!(
                            "{}\n{}:{line}\npolicies: {}",
                            r.title,
                            file,
                            r.policies.join(", ")
                        ))
                    );
                }
                Status::Error => {
                    let _ = write!(
                        out,
                        ">\n      <error message=\"{}\"/>\n    </testcase>\n",
                        esc(&msg)
                    );
                }
                Status::Waived | Status::NotApplicable => {
                    let why = match (&r.waiver, r.status) {
                        (Some(w), _) => {
                            format!("waived until {} by {}: {}", w.expires, w.approver, w.reason)
                        }
                        _ => msg,
                    };
                    let _ = write!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        esc(&why)
                    );
                }
            }
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
