//! Credentials recognised by their format, anywhere in a file (strings, comments, keys, text
//! no parser understood): AWS key ids and secret keys, private keys, GitHub, GitLab, Slack,
//! Stripe, Google, npm, SendGrid and OpenAI tokens, Slack webhooks, JWTs, bearer and basic
//! authorisation headers, `scheme://user:password@` URLs, credential query parameters, and
//! `password = …` written in free text (a comment, an unparsed line).
//!
//! No maintained crate offers this as a library (the secret scanners on crates.io are
//! command-line tools over files), so the set is kept here, modelled on the gitleaks rules
//! for the providers above; each pattern masks only the secret part of its match.

use std::ops::Range;
use std::sync::LazyLock;

use rayon::prelude::*;
use regex::Regex;

use super::keys::{is_secret_key, is_secret_param};

/// One credential format: the regex, the capture group that is the secret (0: all of it), and
/// the kind recorded in `redactions.json`.
///
/// Word boundaries are ASCII, `(?-u:\b)`: the tokens are ASCII, and a Unicode `\b` makes the
/// regex engine fall back to its slowest search at the first non-ASCII byte (scrubbing a 600 MB
/// assessment took a minute).
struct Format {
    kind: &'static str,
    re: Regex,
    group: usize,
    /// An extra check on the secret (a regex cannot say "mixed case, not hex").
    check: Option<fn(&str, &regex::Captures<'_>) -> bool>,
}

fn format(
    kind: &'static str,
    pattern: &str,
    group: usize,
    check: Option<fn(&str, &regex::Captures<'_>) -> bool>,
) -> Option<Format> {
    // The patterns are constants tested below; one that failed to compile would only be
    // missing, and the test `every_pattern_compiles` fails.
    Regex::new(pattern).ok().map(|re| Format {
        kind,
        re,
        group,
        check,
    })
}

/// A 40-character AWS secret access key: base64 with upper, lower and a digit, and not hex
/// (commit ids and digests are hex).
fn looks_like_aws_secret(s: &str, _: &regex::Captures<'_>) -> bool {
    s.len() == 40
        && s.bytes().any(|c| c.is_ascii_uppercase())
        && s.bytes().any(|c| c.is_ascii_lowercase())
        && s.bytes().any(|c| c.is_ascii_digit())
        && !s.bytes().all(|c| c.is_ascii_hexdigit())
}

fn secret_param(_: &str, c: &regex::Captures<'_>) -> bool {
    c.get(1).is_some_and(|m| is_secret_param(m.as_str()))
}

/// `key = value` in free text: only when the key names a secret and the value is a literal
/// (not a reference, not already masked).
fn secret_assignment(value: &str, c: &regex::Captures<'_>) -> bool {
    let key = c.get(1).map_or("", |m| m.as_str());
    let v = value.trim_matches(|ch| ch == '"' || ch == '\'');
    is_secret_key(key)
        && !v.is_empty()
        && v != super::MASK
        && !matches!(
            v,
            "true" | "false" | "null" | "~" | "{" | "[" | "|" | ">" | "\"\""
        )
        && !v.starts_with("${")
        && !v.starts_with("var.")
        && !v.starts_with("local.")
        && !v.starts_with("data.")
        && !v.starts_with("module.")
        && !v.starts_with('{')
        && !v.starts_with('[')
        && !v.starts_with('<')
        && !(value == v && is_reference(v))
}

/// An unquoted HCL traversal (`random_password.db.result`, `aws_secret.x.value[0]`): where a
/// value comes from, not a value.
fn is_reference(v: &str) -> bool {
    let mut parts = v.split('.');
    let first = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    !rest.is_empty()
        && first
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
        && (rest.len() >= 2
            || matches!(first, "var" | "local" | "data" | "module" | "each" | "self"))
        && rest.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'[' | b']' | b'*')
                })
        })
}

static FORMATS: LazyLock<Vec<Format>> = LazyLock::new(|| {
    [
        format(
            "private_key",
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----((?s:.*?))(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
            1,
            None,
        ),
        format(
            "aws_access_key_id",
            r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}(?-u:\b)",
            0,
            None,
        ),
        format(
            "aws_secret_access_key",
            r"(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])",
            1,
            Some(looks_like_aws_secret),
        ),
        format(
            "github_token",
            r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})(?-u:\b)",
            0,
            None,
        ),
        format(
            "gitlab_token",
            r"(?-u:\b)gl(?:pat|ptt|dt|rt|cbt|ft|imt|oas|soat|agent)-[A-Za-z0-9_\-]{20,}",
            0,
            None,
        ),
        format("slack_token", r"(?-u:\b)xox[abposre]-[A-Za-z0-9\-]{10,}", 0, None),
        format(
            "slack_webhook",
            r"https://hooks\.slack(?:-gov)?\.com/((?:services|workflows|triggers)/[A-Za-z0-9_/+\-]+)",
            1,
            None,
        ),
        format(
            "stripe_key",
            r"(?-u:\b)(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}(?-u:\b)|(?-u:\b)whsec_[A-Za-z0-9]{20,}(?-u:\b)",
            0,
            None,
        ),
        format("google_api_key", r"(?-u:\b)AIza[0-9A-Za-z_\-]{35}", 0, None),
        format("npm_token", r"(?-u:\b)npm_[A-Za-z0-9]{36}(?-u:\b)", 0, None),
        format(
            "sendgrid_key",
            r"(?-u:\b)SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}",
            0,
            None,
        ),
        format(
            "openai_key",
            r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
            0,
            None,
        ),
        format(
            "jwt",
            r"(?-u:\b)eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]{2,}",
            0,
            None,
        ),
        format(
            "bearer_token",
            r"(?i)(?-u:\b)bearer\s+([A-Za-z0-9._~+/=\-]{8,})",
            1,
            None,
        ),
        format(
            "basic_auth",
            r"(?i)(?-u:\b)authorization\W{0,4}basic\s+([A-Za-z0-9+/=]{8,})",
            1,
            None,
        ),
        format(
            "url_password",
            r"(?-u:\b)[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^/\s:@'\x22<>]+:([^/\s@'\x22<>]+)@",
            1,
            None,
        ),
        format(
            "azure_account_key",
            r"(?i)(?-u:\b)(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/=]{20,})",
            1,
            None,
        ),
        format(
            "url_query_secret",
            r"[?&;]([A-Za-z0-9_.\-]{1,64})=([^&#\s'\x22<>\\]+)",
            2,
            Some(secret_param),
        ),
        format(
            "secret_assignment",
            r#"(?i)(?-u:\b)([A-Za-z0-9_.\-]*(?:password|passwd|passphrase|secret|token|api[_\-]?key|private[_\-]?key|access[_\-]?key|credential)[A-Za-z0-9_.\-]*)["']?\s*(?:=|:)\s*("[^"\n]*"|'[^'\n]*'|[^\s,;"'}\])]+)"#,
            2,
            Some(secret_assignment),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// Every credential found in `text`: (byte range of the secret, kind), in text order.
pub fn find(text: &str) -> Vec<(Range<usize>, &'static str)> {
    // Each format searches the whole text on its own core (an assessment can be 600 MB).
    let mut out: Vec<(Range<usize>, &'static str)> = FORMATS
        .par_iter()
        .flat_map_iter(|f| find_format(f, text))
        .collect();
    out.sort_by_key(|(r, k)| (r.start, r.end, *k));
    out
}

/// The secrets of one format in `text`.
fn find_format(f: &Format, text: &str) -> Vec<(Range<usize>, &'static str)> {
    let mut out = Vec::new();
    for c in f.re.captures_iter(text) {
        let Some(m) = c.get(f.group) else {
            continue;
        };
        let s = m.as_str();
        if s.is_empty() || s == super::MASK || s.trim_matches(['"', '\'']) == super::MASK {
            continue;
        }
        if let Some(check) = f.check
            && !check(s, &c)
        {
            continue;
        }
        let mut range = m.range();
        // A quoted value keeps its quotes.
        if (s.starts_with('"') && s.ends_with('"') || s.starts_with('\'') && s.ends_with('\''))
            && s.len() >= 2
        {
            range = range.start + 1..range.end - 1;
            if range.is_empty() {
                continue;
            }
        }
        out.push((range, f.kind));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(FORMATS.len(), 19);
    }

    fn masked(text: &str) -> Vec<&str> {
        find(text).into_iter().map(|(r, _)| &text[r]).collect()
    }

    #[test]
    fn formats_and_what_each_masks() {
        assert_eq!(masked("id AKIAIOSFODNN7EXAMPLE."), ["AKIAIOSFODNN7EXAMPLE"]);
        // After non-ASCII text, and next to a non-ASCII letter (an ASCII word boundary).
        assert_eq!(
            masked("déjà vu — ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; éAKIAIOSFODNN7EXAMPLEé"),
            [
                "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "AKIAIOSFODNN7EXAMPLE"
            ]
        );
        assert_eq!(
            masked("k=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]
        );
        assert!(masked("commit 0123456789abcdef0123456789abcdef01234567").is_empty());
        assert_eq!(masked("postgres://app:hunter2@db:5432/x"), ["hunter2"]);
        // Overlapping finds are merged when applied; what matters is what they cover.
        let url = masked("see https://x.example/doc?page=2&token=abc123&sig=zz#frag");
        assert!(url.iter().any(|m| m.contains("abc123")), "{url:?}");
        assert!(url.iter().any(|m| m.contains("zz")), "{url:?}");
        assert!(!url.iter().any(|m| m.contains("page")), "{url:?}");
        assert_eq!(
            masked("https://hooks.slack.com/services/T000/B000/XXXXXXXX"),
            ["services/T000/B000/XXXXXXXX"]
        );
        assert_eq!(masked("# old password: hunter2"), ["hunter2"]);
        assert_eq!(masked("password_length = 16"), Vec::<&str>::new());
        assert_eq!(masked("password = var.db"), Vec::<&str>::new());
        assert_eq!(
            masked("password = random_password.db.result"),
            Vec::<&str>::new()
        );
        assert_eq!(masked(r#"api_key: "abc""#), ["abc"]);
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY-----";
        assert_eq!(masked(pem), ["\nMIIE\nabc\n"]);
    }
}
