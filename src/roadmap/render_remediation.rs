//! A control's remediation for readers of the HTML page: its prose, whole and with Markdown code
//! spans as code, apart from the configuration it shows (fenced blocks, HCL, TOML), which goes
//! to the engineers in a collapsed block instead of being cut or pointed at with a command.

use super::render_html::esc;

/// One part of a remediation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Sentences (one paragraph, whitespace collapsed), with Markdown code spans.
    Prose(String),
    /// Configuration or commands, verbatim.
    Code(String),
}

/// Splits a remediation into prose paragraphs and code blocks, in order. A fenced block
/// (```` ``` ````) is code; an unfenced paragraph is code when one of its lines looks like
/// configuration (`resource "…"`, `[[attestation]]`, `key = value`, a brace or a comment); a
/// paragraph made only of `#` comments is read as prose (it explains, it configures nothing).
pub fn blocks(remediation: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut fence: Option<Vec<&str>> = None;
    for line in remediation.lines() {
        if let Some(code) = fence.as_mut() {
            if line.trim_start().starts_with("```") {
                push_code(&mut out, code);
                fence = None;
            } else {
                code.push(line);
            }
        } else if line.trim_start().starts_with("```") {
            flush(&mut out, &mut para);
            fence = Some(Vec::new());
        } else if line.trim().is_empty() {
            flush(&mut out, &mut para);
        } else {
            para.push(line);
        }
    }
    // An unclosed fence is still code: nothing is dropped.
    if let Some(code) = fence.as_mut() {
        push_code(&mut out, code);
    }
    flush(&mut out, &mut para);
    out
}

fn push_code(out: &mut Vec<Block>, lines: &mut Vec<&str>) {
    let text = lines.join("\n");
    if !text.trim().is_empty() {
        out.push(Block::Code(text));
    }
    lines.clear();
}

fn flush(out: &mut Vec<Block>, para: &mut Vec<&str>) {
    if para.is_empty() {
        return;
    }
    let all_comments = para.iter().all(|l| l.trim_start().starts_with('#'));
    if all_comments {
        let text = para
            .iter()
            .map(|l| l.trim_start().trim_start_matches('#').trim())
            .collect::<Vec<_>>()
            .join(" ");
        out.push(Block::Prose(collapse(&text)));
    } else if para.iter().any(|l| looks_like_code(l)) {
        out.push(Block::Code(para.join("\n")));
    } else {
        out.push(Block::Prose(collapse(&para.join(" "))));
    }
    para.clear();
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A line of configuration rather than of a sentence.
fn looks_like_code(line: &str) -> bool {
    let t = line.trim();
    let block_start = [
        "resource \"",
        "data \"",
        "module \"",
        "variable \"",
        "apiVersion:",
    ]
    .iter()
    .any(|p| t.starts_with(p));
    let table = t.starts_with('[') && t.ends_with(']') && !t.contains(' ');
    let brace = t == "}" || t.ends_with('{') || t.starts_with('#');
    // `key = value` with a bare identifier key (a sentence never starts that way).
    let assignment = t.split_once(" = ").is_some_and(|(k, _)| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    });
    block_start || table || brace || assignment
}

/// Prose as HTML: escaped, with Markdown code spans (`` `x` ``) as `<code>`; a backtick that
/// opens no span stays as it is.
pub fn inline_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let delim = &rest[start..start + ticks];
        let body_from = start + ticks;
        let Some(len) = find_closing(&rest[body_from..], delim) else {
            out.push_str(&esc(&rest[..body_from]));
            rest = &rest[body_from..];
            continue;
        };
        out.push_str(&esc(&rest[..start]));
        let body = rest[body_from..body_from + len].trim();
        out.push_str("<code>");
        out.push_str(&esc(body));
        out.push_str("</code>");
        rest = &rest[body_from + len + ticks..];
    }
    out.push_str(&esc(rest));
    out
}

/// The offset of the closing run of exactly `delim`'s backticks in `s`.
fn find_closing(s: &str, delim: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find(delim) {
        let at = from + i;
        let run = s[at..].chars().take_while(|&c| c == '`').count();
        if run == delim.len() {
            return Some(at);
        }
        from = at + run;
    }
    None
}

/// The remediation as HTML for a step: its prose in full (a sentence that introduced the code
/// ends with a full stop, the code being apart), then the code in a collapsed `<details>` for the
/// engineer who makes the change.
pub fn html(remediation: &str) -> String {
    let parts = blocks(remediation);
    let mut prose = Vec::new();
    let mut code = Vec::new();
    for b in &parts {
        match b {
            Block::Prose(p) => prose.push(p.as_str()),
            Block::Code(c) => code.push(c.as_str()),
        }
    }
    let mut h = String::new();
    if prose.is_empty() && !code.is_empty() {
        h.push_str("<div class=\"fix\">A configuration change; the engineers have it below.</div>");
    }
    for p in prose {
        let p = match p.strip_suffix(':') {
            Some(intro) if !code.is_empty() => format!("{intro}."),
            _ => p.to_owned(),
        };
        h.push_str("<div class=\"fix\">");
        h.push_str(&inline_html(&p));
        h.push_str("</div>");
    }
    if !code.is_empty() {
        h.push_str("<details class=\"change\"><summary>The change, for the engineers</summary>");
        for c in code {
            h.push_str("<pre><code>");
            h.push_str(&esc(c));
            h.push_str("</code></pre>");
        }
        h.push_str("</details>");
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_is_kept_whole_with_code_spans() {
        let long = "Give every bucket a lifecycle rule. ".repeat(12)
            + "Use `aws_s3_bucket_versioning` with `status = \"Enabled\"`.";
        let h = html(&long);
        assert!(h.contains("<code>aws_s3_bucket_versioning</code>"), "{h}");
        assert!(
            h.contains("<code>status = &quot;Enabled&quot;</code>"),
            "{h}"
        );
        assert!(!h.contains('`'), "raw backticks: {h}");
        assert!(!h.contains('…'), "cut: {h}");
        assert!(h.ends_with(".</div>"), "{h}");
    }

    #[test]
    fn hcl_goes_to_the_engineers_not_to_a_command() {
        let h = html(
            "resource \"aws_s3_bucket_versioning\" \"data\" {\n  bucket = aws_s3_bucket.data.id\n}\n",
        );
        assert!(h.contains("<details class=\"change\">"), "{h}");
        assert!(
            h.contains("resource &quot;aws_s3_bucket_versioning&quot;"),
            "{h}"
        );
        assert!(!h.contains("vouch controls show"), "{h}");
        assert!(h.contains("A configuration change"), "{h}");
    }

    #[test]
    fn a_sentence_introducing_moved_code_ends_with_a_full_stop() {
        let r = "Attest it in an inventory file; renew it before it expires:\n\n[[attestation]]\ncontrol = \"x\"\n";
        assert_eq!(
            blocks(r),
            vec![
                Block::Prose(
                    "Attest it in an inventory file; renew it before it expires:".to_owned()
                ),
                Block::Code("[[attestation]]\ncontrol = \"x\"".to_owned()),
            ]
        );
        assert!(html(r).contains("renew it before it expires.</div>"));
    }

    #[test]
    fn fenced_blocks_and_comment_paragraphs() {
        let r = "Name an approver:\n\n```toml\n[[role]]\napproves = true\n```\n\nThen re-approve.";
        assert_eq!(
            blocks(r),
            vec![
                Block::Prose("Name an approver:".to_owned()),
                Block::Code("[[role]]\napproves = true".to_owned()),
                Block::Prose("Then re-approve.".to_owned()),
            ]
        );
        let c = "# Prefer roles.\n# Rotate with `terraform apply -replace=x`.";
        assert_eq!(
            blocks(c),
            vec![Block::Prose(
                "Prefer roles. Rotate with `terraform apply -replace=x`.".to_owned()
            )]
        );
        // An unclosed fence loses nothing.
        assert_eq!(blocks("```\na = 1"), vec![Block::Code("a = 1".to_owned())]);
    }

    #[test]
    fn unmatched_backticks_stay_and_markup_is_escaped() {
        assert_eq!(inline_html("a ` b <i>"), "a ` b &lt;i&gt;");
        assert_eq!(inline_html("``a ` b``"), "<code>a ` b</code>");
    }
}
