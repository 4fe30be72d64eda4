//! Redaction of secrets from the input files copied into a bundle.
//!
//! Line-preserving: a redacted file has the same lines as the original (only secret values are
//! replaced by `REDACTED`), so the spans of the assessment still point at the right lines. What
//! is redacted: Terraform values of variables and outputs marked `sensitive = true`; values of
//! attributes named like a secret (password, secret, token, private_key, access_key,
//! client_secret, api_key) in HCL, YAML, JSON and TOML; Kubernetes `Secret` `data` and
//! `stringData`; PEM private key blocks; AWS access key ids and secret keys; bearer tokens and
//! well-known token formats.

use serde::Serialize;

/// The text that replaces a secret.
pub const MASK: &str = "REDACTED";

/// One redaction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Redaction {
    /// 1-based line of the original file.
    pub line: u32,
    /// What was redacted (`private_key`, `secret_attribute`, `terraform_sensitive`,
    /// `kubernetes_secret`, `aws_access_key_id`, `aws_secret_access_key`, `bearer_token`,
    /// `token`).
    pub kind: &'static str,
}

/// Redacts the secrets of one file: the redacted text and what was redacted, sorted.
pub fn redact(path: &str, text: &str) -> (String, Vec<Redaction>) {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let mut found = Vec::new();
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    private_keys(&mut lines, &mut found);
    if ext == "yaml" || ext == "yml" {
        kubernetes_secrets(&mut lines, &mut found);
        yaml_env_values(&mut lines, &mut found);
    }
    if ext == "tf" {
        terraform_sensitive(&mut lines, &mut found);
    }
    if ext == "tfvars" {
        tfvars_values(&mut lines, &mut found);
    }
    secret_attributes(&mut lines, &mut found);
    for (i, line) in lines.iter_mut().enumerate() {
        token_patterns(line, line_no(i), &mut found);
    }
    found.sort();
    found.dedup();
    (lines.concat(), found)
}

fn line_no(i: usize) -> u32 {
    u32::try_from(i + 1).unwrap_or(u32::MAX)
}

/// The line without its line ending.
fn body(line: &str) -> &str {
    line.trim_end_matches(['\n', '\r'])
}

fn ending(line: &str) -> &str {
    &line[body(line).len()..]
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Replaces the content of a line (keeping its indentation and line ending) by the mask.
fn mask_line(line: &mut String) {
    let b = body(line);
    if b.trim().is_empty() {
        return;
    }
    let indent = &b[..indent_of(b)];
    *line = format!("{indent}{MASK}{}", ending(line));
}

/// PEM private key blocks, on several lines or inside one (escaped) string.
fn private_keys(lines: &mut [String], found: &mut Vec<Redaction>) {
    let mut inside = false;
    for (i, line) in lines.iter_mut().enumerate() {
        let b = body(line).to_owned();
        if inside {
            if b.contains("-----END") {
                inside = false;
                // Keep the END marker; mask anything before it on the line.
                if let Some(pos) = b.find("-----END") {
                    let indent = &b[..indent_of(&b)];
                    if !b[indent.len()..pos].trim().is_empty() {
                        *line = format!("{indent}{MASK}{}{}", &b[pos..], ending(line));
                    }
                }
            } else {
                mask_line(line);
            }
            continue;
        }
        let Some(begin) = b.find("-----BEGIN") else {
            continue;
        };
        let Some(head_end) = b[begin..].find("PRIVATE KEY-----") else {
            continue;
        };
        let head_end = begin + head_end + "PRIVATE KEY-----".len();
        found.push(Redaction {
            line: line_no(i),
            kind: "private_key",
        });
        match b[head_end..].find("-----END") {
            Some(end) => {
                let end = head_end + end;
                *line = format!("{}{MASK}{}{}", &b[..head_end], &b[end..], ending(line));
            }
            None => {
                let rest = &b[head_end..];
                if !rest.trim().is_empty() {
                    *line = format!("{}{MASK}{}", &b[..head_end], ending(line));
                }
                inside = true;
            }
        }
    }
}

/// Lowercase snake case of a key (`clientSecret` → `client_secret`), quotes stripped.
fn normalise_key(key: &str) -> String {
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if c == '-' {
            '_'
        } else {
            c.to_ascii_lowercase()
        });
    }
    out
}

/// True for keys that name a secret value (and not, say, the name or ARN of a secret).
pub fn is_secret_key(key: &str) -> bool {
    let k = normalise_key(key);
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "secret",
        "token",
        "private_key",
        "access_key",
        "client_secret",
        "api_key",
        "apikey",
    ];
    const NOT: &[&str] = &[
        "name", "names", "arn", "ref", "id", "ids", "path", "file", "version", "type", "kind",
        "length", "policy", "enabled", "count", "hours", "days", "minutes", "seconds", "ttl",
    ];
    if !WORDS.iter().any(|w| k.contains(w)) {
        return false;
    }
    let last = k.rsplit('_').next().unwrap_or(&k);
    !NOT.contains(&last)
}

/// Where a quoted string value starts and ends (content only) at `from`, if it is one.
fn quoted_at(b: &str, from: usize) -> Option<(usize, usize)> {
    let rest = &b[from..];
    let q = rest.chars().next()?;
    if q != '"' && q != '\'' {
        return None;
    }
    let bytes = rest.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' && q == '"' {
            i += 2;
            continue;
        }
        if bytes[i] == q as u8 {
            return Some((from + 1, from + i));
        }
        i += 1;
    }
    None
}

/// Splits a `key = value` / `key: value` / `"key": value` line: (key, value start offset).
fn key_value(b: &str) -> Option<(&str, usize)> {
    let t = b.trim_start();
    let t = t.strip_prefix("- ").map_or(t, str::trim_start);
    let off = b.len() - t.len();
    let (key_end, sep_len) = if let Some(rest) = t.strip_prefix('"') {
        let close = rest.find('"')? + 1;
        let after = &t[close + 1..];
        let ws = after.len() - after.trim_start().len();
        let sep = after.trim_start().chars().next()?;
        if sep != ':' && sep != '=' {
            return None;
        }
        (close + 1, ws + 1)
    } else {
        let end =
            t.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))?;
        let after = &t[end..];
        let ws = after.len() - after.trim_start().len();
        let sep = after.trim_start().chars().next()?;
        if sep != ':' && sep != '=' {
            return None;
        }
        (end, ws + 1)
    };
    let key = &t[..key_end];
    if key.is_empty() {
        return None;
    }
    let start = off + key_end + sep_len;
    let rest = &b[start..];
    // `==` or `=>` are not assignments; `::` is not YAML.
    if rest.starts_with('=') || rest.starts_with('>') || rest.starts_with(':') {
        return None;
    }
    let value_start = start + (rest.len() - rest.trim_start().len());
    Some((key, value_start))
}

/// Masks the value at `start` of line `b` when it is a literal: a quoted string (its content)
/// or, in YAML, a plain scalar. Returns the new line body, or `None` when there is nothing to
/// mask (references, numbers, booleans, empty strings, structures).
fn mask_value(b: &str, start: usize, yaml_plain: bool) -> Option<String> {
    if let Some((s, e)) = quoted_at(b, start) {
        if e == s {
            return None;
        }
        let content = &b[s..e];
        if content == MASK {
            return None;
        }
        if content.starts_with("${") && content.ends_with('}') && !content[2..].contains("${") {
            return None;
        }
        return Some(format!("{}{MASK}{}", &b[..s], &b[e..]));
    }
    if !yaml_plain {
        return None;
    }
    let v = b[start..].trim_end();
    let v = v.split(" #").next().unwrap_or(v).trim_end();
    let plain = !v.is_empty()
        && v != MASK
        && !v.starts_with(['{', '[', '&', '*', '!', '|', '>', '#'])
        && !matches!(v, "true" | "false" | "null" | "~" | "yes" | "no")
        && v.parse::<f64>().is_err();
    plain.then(|| format!("{}{MASK}{}", &b[..start], &b[start + v.len()..]))
}

/// A `.tfvars` file is nothing but values given to variables, secrets among them (whether a
/// variable is `sensitive` is declared elsewhere): every value is masked, and the names stay so
/// the bundle still shows what was set.
fn tfvars_values(lines: &mut [String], found: &mut Vec<Redaction>) {
    for (i, line) in lines.iter_mut().enumerate() {
        let b = body(line).to_owned();
        let t = b.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with("//") || t.contains(MASK) {
            continue;
        }
        match key_value(&b) {
            Some((_, start)) => *line = format!("{}{MASK}{}", &b[..start], ending(line)),
            None => mask_line(line),
        }
        found.push(Redaction {
            line: line_no(i),
            kind: "tfvars_value",
        });
    }
}

/// Values of attributes named like a secret, in every format.
fn secret_attributes(lines: &mut [String], found: &mut Vec<Redaction>) {
    let mut heredoc: Option<String> = None;
    for (i, line) in lines.iter_mut().enumerate() {
        let b = body(line).to_owned();
        if let Some(end) = &heredoc {
            if b.trim() == end {
                heredoc = None;
            } else {
                mask_line(line);
            }
            continue;
        }
        let Some((key, start)) = key_value(&b) else {
            continue;
        };
        if !is_secret_key(key) {
            continue;
        }
        let value = &b[start..];
        if let Some(tag) = value.strip_prefix("<<") {
            let tag = tag.trim_start_matches('-').trim();
            if !tag.is_empty() {
                heredoc = Some(tag.to_owned());
                found.push(Redaction {
                    line: line_no(i),
                    kind: "secret_attribute",
                });
            }
            continue;
        }
        let yaml_plain = b[..start].trim_end().ends_with(':');
        if let Some(new) = mask_value(&b, start, yaml_plain) {
            *line = format!("{new}{}", ending(line));
            found.push(Redaction {
                line: line_no(i),
                kind: "secret_attribute",
            });
        }
    }
}

/// Kubernetes `Secret` documents: every value under `data` and `stringData`.
fn kubernetes_secrets(lines: &mut [String], found: &mut Vec<Redaction>) {
    let mut start = 0;
    while start < lines.len() {
        let end = (start..lines.len())
            .find(|&j| j > start && body(&lines[j]).trim_end() == "---")
            .unwrap_or(lines.len());
        let is_secret = lines[start..end].iter().any(|l| {
            let b = body(l);
            b.starts_with("kind:")
                && b["kind:".len()..]
                    .trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    == "Secret"
        });
        if is_secret {
            let mut section = false;
            for (j, line) in lines.iter_mut().enumerate().take(end).skip(start) {
                let b = body(line).to_owned();
                if b.trim().is_empty() || b.trim_start().starts_with('#') {
                    continue;
                }
                if indent_of(&b) == 0 {
                    section = b.starts_with("data:") || b.starts_with("stringData:");
                    if section {
                        // Flow mappings on one line: `data: {a: b}`.
                        let rest = b.split_once(':').map_or("", |(_, r)| r.trim());
                        if rest.starts_with('{') && rest.len() > 2 {
                            let key_len = b.len() - b.split_once(':').map_or("", |(_, r)| r).len();
                            *line = format!("{} {{{MASK}}}{}", &b[..key_len], ending(line));
                            found.push(Redaction {
                                line: line_no(j),
                                kind: "kubernetes_secret",
                            });
                        }
                    }
                    continue;
                }
                if !section {
                    continue;
                }
                let new = match key_value(&b) {
                    Some((_, s)) if !b[s..].trim().is_empty() => {
                        let v = b[s..].trim_end();
                        if v.starts_with('|') || v.starts_with('>') {
                            // A block scalar: its lines follow, more indented; mask them too.
                            None
                        } else {
                            Some(format!("{}{MASK}", &b[..s]))
                        }
                    }
                    Some(_) => None,
                    None => {
                        // A continuation line of a block scalar.
                        Some(format!("{}{MASK}", &b[..indent_of(&b)]))
                    }
                };
                if let Some(new) = new {
                    let end_s = ending(line).to_owned();
                    *line = format!("{new}{end_s}");
                    found.push(Redaction {
                        line: line_no(j),
                        kind: "kubernetes_secret",
                    });
                }
            }
        }
        start = end;
    }
}

/// Container environment values next to a secret-looking name:
/// `- name: DB_PASSWORD` followed by `value: ...`.
fn yaml_env_values(lines: &mut [String], found: &mut Vec<Redaction>) {
    for i in 1..lines.len() {
        let prev = body(&lines[i - 1]).trim_start();
        let prev = prev.strip_prefix("- ").unwrap_or(prev).trim_start();
        let Some(name) = prev.strip_prefix("name:") else {
            continue;
        };
        if !is_secret_key(name.trim()) {
            continue;
        }
        let b = body(&lines[i]).to_owned();
        let Some((key, start)) = key_value(&b) else {
            continue;
        };
        if key != "value" {
            continue;
        }
        if let Some(new) = mask_value(&b, start, true) {
            let e = ending(&lines[i]).to_owned();
            lines[i] = format!("{new}{e}");
            found.push(Redaction {
                line: line_no(i),
                kind: "secret_attribute",
            });
        }
    }
}

/// Terraform `variable` and `output` blocks marked `sensitive = true`: their `default` and
/// `value` literals.
fn terraform_sensitive(lines: &mut [String], found: &mut Vec<Redaction>) {
    let mut i = 0;
    while i < lines.len() {
        let t = body(&lines[i]).trim_start();
        let opens = (t.starts_with("variable ") || t.starts_with("output ")) && t.contains('{');
        if !opens {
            i += 1;
            continue;
        }
        // The block's extent, by brace depth (braces inside strings are rare in these blocks).
        let mut depth = 0i32;
        let mut end = i;
        for (j, l) in lines.iter().enumerate().skip(i) {
            depth += body(l).matches('{').count() as i32;
            depth -= body(l).matches('}').count() as i32;
            end = j;
            if depth <= 0 {
                break;
            }
        }
        let sensitive = lines[i..=end].iter().any(|l| {
            let b = body(l).trim();
            b.starts_with("sensitive") && b.split_once('=').is_some_and(|(_, v)| v.trim() == "true")
        });
        if sensitive {
            let mut heredoc: Option<String> = None;
            for (j, line) in lines.iter_mut().enumerate().take(end + 1).skip(i) {
                let b = body(line).to_owned();
                if let Some(tag) = &heredoc {
                    if b.trim() == tag {
                        heredoc = None;
                    } else {
                        mask_line(line);
                    }
                    continue;
                }
                let Some((key, start)) = key_value(&b) else {
                    continue;
                };
                if key != "default" && key != "value" {
                    continue;
                }
                if let Some(tag) = b[start..].strip_prefix("<<") {
                    heredoc = Some(tag.trim_start_matches('-').trim().to_owned());
                    found.push(Redaction {
                        line: line_no(j),
                        kind: "terraform_sensitive",
                    });
                    continue;
                }
                if let Some(new) = mask_value(&b, start, false) {
                    let e = ending(line).to_owned();
                    *line = format!("{new}{e}");
                    found.push(Redaction {
                        line: line_no(j),
                        kind: "terraform_sensitive",
                    });
                }
            }
        }
        i = end + 1;
    }
}

fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'/' | b'+' | b'=')
}

/// Replaces `len` bytes at `at` by the mask.
fn splice(line: &mut String, at: usize, len: usize) {
    line.replace_range(at..at + len, MASK);
}

/// Token formats anywhere in a line: AWS access key ids and secret keys, bearer tokens,
/// GitHub and Slack tokens.
fn token_patterns(line: &mut String, no: u32, found: &mut Vec<Redaction>) {
    // AWS access key ids: AKIA/ASIA + 16 uppercase letters or digits.
    let mut from = 0;
    while let Some(pos) = find_any(line, from, &["AKIA", "ASIA"]) {
        let bytes = line.as_bytes();
        let end = pos + 20;
        let ok = end <= bytes.len()
            && bytes[pos + 4..end]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && (pos == 0 || !bytes[pos - 1].is_ascii_alphanumeric())
            && (end == bytes.len() || !bytes[end].is_ascii_alphanumeric());
        if ok {
            splice(line, pos, 20);
            found.push(Redaction {
                line: no,
                kind: "aws_access_key_id",
            });
            from = pos + MASK.len();
        } else {
            from = pos + 4;
        }
    }
    // Bearer tokens.
    let mut from = 0;
    loop {
        let lower = line.to_ascii_lowercase();
        let Some(pos) = lower[from..].find("bearer ").map(|p| p + from) else {
            break;
        };
        let start = pos + "bearer ".len();
        let len = line.as_bytes()[start..]
            .iter()
            .take_while(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, b'.' | b'_' | b'~' | b'+' | b'/' | b'-' | b'=')
            })
            .count();
        if len >= 8 && &line[start..start + len] != MASK {
            splice(line, start, len);
            found.push(Redaction {
                line: no,
                kind: "bearer_token",
            });
        }
        from = start;
    }
    // GitHub and Slack tokens.
    let mut from = 0;
    while let Some(pos) = find_any(
        line,
        from,
        &["ghp_", "gho_", "ghs_", "github_pat_", "xoxb-", "xoxp-"],
    ) {
        let bytes = line.as_bytes();
        let len = bytes[pos..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
            .count();
        if len >= 20 && (pos == 0 || !bytes[pos - 1].is_ascii_alphanumeric()) {
            splice(line, pos, len);
            found.push(Redaction {
                line: no,
                kind: "token",
            });
            from = pos + MASK.len();
        } else {
            from = pos + 4;
        }
    }
    // AWS secret access keys: exactly 40 base64 characters with upper, lower and a digit (not
    // hex, which is how commit ids and digests look).
    let bytes = line.as_bytes().to_vec();
    let mut i = 0;
    let mut spans = Vec::new();
    while i < bytes.len() {
        if !is_token_char(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_token_char(bytes[i]) {
            i += 1;
        }
        let run = &bytes[start..i];
        if run.len() == 40
            && run.iter().any(u8::is_ascii_uppercase)
            && run.iter().any(u8::is_ascii_lowercase)
            && run.iter().any(u8::is_ascii_digit)
            && !run.iter().all(u8::is_ascii_hexdigit)
        {
            spans.push(start);
        }
    }
    for start in spans.into_iter().rev() {
        splice(line, start, 40);
        found.push(Redaction {
            line: no,
            kind: "aws_secret_access_key",
        });
    }
}

fn find_any(hay: &str, from: usize, needles: &[&str]) -> Option<usize> {
    needles
        .iter()
        .filter_map(|n| hay.get(from..)?.find(n).map(|p| p + from))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(r: &[Redaction]) -> Vec<(u32, &'static str)> {
        r.iter().map(|r| (r.line, r.kind)).collect()
    }

    #[test]
    fn every_tfvars_value_is_masked() {
        let tfvars = "# prod values\nregion = \"eu-west-1\"\ndb_credentials = \"admin:hunter2\"\nport = 5432\ntags = {\n  owner = \"ana\"\n}\n";
        let (out, r) = redact("envs/prod/terraform.tfvars", tfvars);
        assert!(!out.contains("hunter2") && !out.contains("eu-west-1") && !out.contains("5432"));
        assert!(!out.contains("ana"), "{out}");
        assert!(
            out.contains("db_credentials = ") && out.contains("# prod values"),
            "{out}"
        );
        assert_eq!(out.lines().count(), tfvars.lines().count());
        assert!(
            r.iter()
                .all(|x| x.kind == "tfvars_value" || x.kind == "secret_attribute")
        );
    }

    #[test]
    fn terraform_sensitive_and_secret_attributes() {
        let tf = "variable \"db\" {\n  default   = \"hunter2\"\n  sensitive = true\n}\n\nresource \"aws_db_instance\" \"main\" {\n  password = \"s3cr3t\"\n  master_password = var.db\n  secret_name = \"prod/db\"\n}\n";
        let (out, r) = redact("main.tf", tf);
        assert!(!out.contains("hunter2") && !out.contains("s3cr3t"), "{out}");
        assert!(out.contains("var.db") && out.contains("prod/db"));
        assert_eq!(out.lines().count(), tf.lines().count());
        assert_eq!(
            kinds(&r),
            vec![(2, "terraform_sensitive"), (7, "secret_attribute")]
        );
    }

    #[test]
    fn kubernetes_secret_values() {
        let y = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: aHVudGVyMg==\nstringData:\n  token: abc\n  cert: |\n    line1\n    line2\n---\nkind: ConfigMap\ndata:\n  colour: blue\n";
        let (out, r) = redact("k8s/secret.yaml", y);
        assert!(!out.contains("aHVudGVyMg") && !out.contains("abc") && !out.contains("line1"));
        assert!(out.contains("colour: blue") && out.contains("name: db"));
        assert_eq!(
            r.iter().filter(|r| r.kind == "kubernetes_secret").count(),
            4
        );
    }

    #[test]
    fn keys_and_tokens() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\nxyz\n-----END RSA PRIVATE KEY-----\nid = \"AKIAIOSFODNN7EXAMPLE\"\nkey = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc\ncommit = \"0123456789abcdef0123456789abcdef01234567\"\n";
        let (out, r) = redact("notes.toml", text);
        for secret in [
            "MIIEabc",
            "xyz",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI",
            "eyJhbGci",
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("0123456789abcdef0123456789abcdef01234567"));
        assert!(out.contains("-----END RSA PRIVATE KEY-----"));
        assert_eq!(
            kinds(&r),
            vec![
                (1, "private_key"),
                (5, "aws_access_key_id"),
                (6, "aws_secret_access_key"),
                (7, "bearer_token")
            ]
        );
    }

    #[test]
    fn json_and_env() {
        let j = "{\n  \"client_secret\": \"abc\",\n  \"clientSecretName\": \"x\"\n}\n";
        let (out, _) = redact("a.json", j);
        assert!(out.contains("\"client_secret\": \"REDACTED\""));
        assert!(out.contains("\"x\""));
        let y =
            "env:\n  - name: DB_PASSWORD\n    value: hunter2\n  - name: MODE\n    value: fast\n";
        let (out, _) = redact("d.yaml", y);
        assert!(!out.contains("hunter2") && out.contains("fast"));
    }
}
