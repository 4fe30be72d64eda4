//! Redaction of secrets from everything a bundle carries, by structure rather than by line.
//!
//! Each input is parsed as what it is — JSON of any layout ([`json`]), YAML in any style
//! ([`yaml`]), HCL ([`hcl`]), TOML ([`toml_doc`]), `.env` — into one tree with byte spans
//! ([`tree`]), and values are masked in place:
//! - by key path: keys that name a secret, Kubernetes `Secret` data, `name`/`value` pairs
//!   whose name is a secret (any key order), `sensitive = true` variables and outputs, secret
//!   command-line flags ([`tree`], [`keys`]);
//! - in a Terraform plan, everything the plan marks sensitive ([`plan`]);
//! - anywhere, credentials recognised by their format ([`patterns`]), and every other
//!   occurrence, in any file, of a value masked by the rules above;
//! - every value of a `.tfvars` or `.env` file, and the query string of attestation evidence
//!   URLs.
//!
//! A file that does not parse is masked whole (every line), never copied raw. Masking keeps
//! every line ending, so the assessment's line numbers still point at the right lines.

pub mod hcl;
pub mod json;
pub mod keys;
pub mod patterns;
pub mod plan;
pub mod toml_doc;
pub mod tree;
pub mod yaml;

use std::collections::BTreeSet;
use std::ops::Range;

use serde::Serialize;

use tree::{Kind, Node, Pick, Why};

/// The text that replaces a secret.
pub const MASK: &str = "REDACTED";

/// Values shorter than this are not searched for elsewhere (they would mask common words).
const MIN_KNOWN_LEN: usize = 6;

/// One redaction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Redaction {
    /// 1-based line of the original file.
    pub line: u32,
    /// What was redacted: `secret_attribute`, `kubernetes_secret`, `terraform_sensitive`,
    /// `secret_argument`, `tfvars_value`, `env_value`, `evidence_url_query`, `known_secret`
    /// (a value masked elsewhere), `unparsed_file`, or a credential format (`private_key`,
    /// `aws_access_key_id`, `github_token`, `jwt`, `url_password`, …).
    pub kind: &'static str,
}

/// The syntax of a file, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Json,
    Yaml,
    Hcl,
    Tfvars,
    Toml,
    Env,
    /// Anything else: credential formats only.
    Text,
}

fn syntax(path: &str) -> Syntax {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "json" => Syntax::Json,
        "yaml" | "yml" => Syntax::Yaml,
        "tf" | "hcl" => Syntax::Hcl,
        "tfvars" => Syntax::Tfvars,
        "toml" => Syntax::Toml,
        "env" => Syntax::Env,
        _ if name == ".env" || name.starts_with(".env.") => Syntax::Env,
        _ => Syntax::Text,
    }
}

/// One planned replacement of a byte range.
#[derive(Debug, Clone)]
struct Edit {
    range: Range<usize>,
    with: String,
    why: Why,
}

/// The inner part of a quoted literal, or the whole range (a bare value).
fn inner(text: &str, r: &Range<usize>) -> Range<usize> {
    let s = &text[r.clone()];
    for q in ["\"\"\"", "'''"] {
        if s.len() >= 6 && s.starts_with(q) && s.ends_with(q) {
            return r.start + 3..r.end - 3;
        }
    }
    if s.len() >= 2
        && (s.starts_with('"') && s.ends_with('"') || s.starts_with('\'') && s.ends_with('\''))
    {
        return r.start + 1..r.end - 1;
    }
    r.clone()
}

/// The mask for a range: `REDACTED` followed by as many line endings as the range had.
fn mask_keeping_lines(s: &str) -> String {
    let mut out = String::from(MASK);
    out.extend(s.matches('\n').map(|_| '\n'));
    out
}

/// The edit that masks one picked value in `text`.
fn edit_for(text: &str, syntax: Syntax, p: &Pick) -> Option<Edit> {
    let r = p.span.clone();
    let s = text.get(r.clone())?;
    if s.is_empty() {
        return None;
    }
    let why = p.why;
    // Heredoc (`<<EOT` … `EOT`) and YAML block scalars (`|`, `>`): keep the header line.
    if s.starts_with("<<") || (syntax == Syntax::Yaml && s.starts_with(['|', '>'])) {
        let nl = s.find('\n')?;
        let body_start = r.start + nl + 1;
        let body_end = if s.starts_with("<<") {
            // The closing delimiter line stays.
            r.start + s.trim_end().rfind('\n').unwrap_or(nl) + 1
        } else {
            r.end
        };
        if body_end <= body_start {
            return None;
        }
        let body = &text[body_start..body_end];
        let indent: String = body
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        let mut with = format!("{indent}{MASK}");
        with.extend(body.matches('\n').map(|_| '\n'));
        return Some(Edit {
            range: body_start..body_end,
            with,
            why,
        });
    }
    let quoted = inner(text, &r);
    if quoted != r {
        let mut range = quoted;
        let content = &text[range.clone()];
        if content == MASK || content.is_empty() {
            return None;
        }
        match why {
            // Keep the flag: `--password=REDACTED`.
            "secret_argument" => {
                if let Some(eq) = content.find('=') {
                    range = range.start + eq + 1..range.end;
                }
            }
            // Keep the address: `https://host/path?REDACTED#fragment`.
            "evidence_url_query" => {
                let q = content.find('?')?;
                let end = content[q..].find('#').map_or(content.len(), |h| q + h);
                range = range.start + q + 1..range.start + end;
            }
            _ => {}
        }
        if range.is_empty() {
            return None;
        }
        let with = mask_keeping_lines(&text[range.clone()]);
        return Some(Edit { range, with, why });
    }
    // A bare value: numbers become a quoted mask where the syntax needs a valid value there.
    if s == MASK {
        return None;
    }
    let with = match syntax {
        Syntax::Yaml | Syntax::Env | Syntax::Text => mask_keeping_lines(s),
        Syntax::Json | Syntax::Hcl | Syntax::Tfvars | Syntax::Toml => {
            let mut m = format!("\"{MASK}\"");
            m.extend(s.matches('\n').map(|_| '\n'));
            m
        }
    };
    Some(Edit {
        range: r,
        with,
        why,
    })
}

/// The tree of a file, or `None` when it does not parse.
fn parse(text: &str, syntax: Syntax) -> Option<Node> {
    match syntax {
        Syntax::Json => json::parse(text),
        Syntax::Yaml => yaml::parse(text),
        Syntax::Hcl | Syntax::Tfvars => hcl::parse(text),
        Syntax::Toml => toml_doc::parse(text),
        Syntax::Env => Some(env(text)),
        Syntax::Text => None,
    }
}

/// A `.env` file: `KEY=value` lines (optionally `export KEY=value`), as one map.
fn env(text: &str) -> Node {
    let mut entries = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let t = body.trim_start();
        let lead = body.len() - t.len();
        if !t.starts_with('#')
            && let Some(eq) = t.find('=')
        {
            let key = t[..eq].trim().trim_start_matches("export ").trim();
            let v = &t[eq + 1..];
            let ws = v.len() - v.trim_start().len();
            let value = v.trim();
            if !key.is_empty() && !value.is_empty() {
                let start = at + lead + eq + 1 + ws;
                entries.push((
                    key.to_owned(),
                    Node {
                        span: start..start + value.len(),
                        kind: Kind::Str(value.trim_matches(['"', '\'']).to_owned()),
                    },
                ));
            }
        }
        at += line.len();
    }
    Node {
        span: 0..text.len(),
        kind: Kind::Map {
            entries,
            labels: Vec::new(),
        },
    }
}

/// Attestation evidence URLs (`evidence = "https://…?token=…"`): their query strings.
fn evidence_urls(node: &Node, out: &mut Vec<Pick>, depth: usize) {
    if depth > 256 {
        return;
    }
    match &node.kind {
        Kind::Map { entries, .. } => {
            for (k, v) in entries {
                if k == "evidence"
                    && let Some(s) = v.str()
                    && s.contains('?')
                {
                    out.push(Pick {
                        span: v.span.clone(),
                        why: "evidence_url_query",
                        value: None,
                    });
                }
                evidence_urls(v, out, depth + 1);
            }
        }
        Kind::Seq(items) => items.iter().for_each(|v| evidence_urls(v, out, depth + 1)),
        _ => {}
    }
}

/// What the first pass found in one file.
struct Found {
    edits: Vec<Edit>,
    /// Secret values (to mask wherever else they occur).
    known: Vec<String>,
    /// The file did not parse and is masked whole.
    unparsed: bool,
}

/// Reasons whose values are secrets (and so are searched for elsewhere); the values of
/// `.tfvars` and `.env` files are masked for caution, not because each is a secret.
fn is_secret_reason(why: Why) -> bool {
    !matches!(
        why,
        "tfvars_value" | "env_value" | "evidence_url_query" | "too_deep"
    )
}

fn first_pass(path: &str, text: &str) -> Found {
    let syntax = syntax(path);
    let mut picks = Vec::new();
    match parse(text, syntax) {
        Some(root) => {
            match syntax {
                Syntax::Tfvars => tree::mask_all(&root, "tfvars_value", &mut picks),
                Syntax::Env => tree::mask_all(&root, "env_value", &mut picks),
                _ => tree::pick(&root, &mut picks),
            }
            if syntax == Syntax::Json && plan::is_plan(&root) {
                plan::pick(&root, &mut picks);
            }
            evidence_urls(&root, &mut picks, 0);
        }
        None if syntax != Syntax::Text => {
            return Found {
                edits: Vec::new(),
                known: Vec::new(),
                unparsed: true,
            };
        }
        None => {}
    }
    let mut known = Vec::new();
    let mut edits: Vec<Edit> = picks
        .iter()
        .filter_map(|p| {
            if is_secret_reason(p.why)
                && let Some(v) = &p.value
            {
                // `--password=x`: the secret is what follows the flag.
                let v = match v.split_once('=') {
                    Some((flag, rest)) if p.why == "secret_argument" && flag.starts_with('-') => {
                        rest
                    }
                    _ => v.as_str(),
                };
                if v.chars().count() >= MIN_KNOWN_LEN && v != MASK {
                    known.push(v.to_owned());
                }
            }
            edit_for(text, syntax, p)
        })
        .collect();
    for (range, why) in patterns::find(text) {
        let s = &text[range.clone()];
        if s.chars().count() >= MIN_KNOWN_LEN && !s.contains('\n') {
            known.push(s.to_owned());
        }
        edits.push(Edit {
            with: mask_keeping_lines(s),
            range,
            why,
        });
    }
    Found {
        edits,
        known,
        unparsed: false,
    }
}

/// Every occurrence in `text` of a known secret value.
fn known_edits(text: &str, known: Option<&regex::Regex>) -> Vec<Edit> {
    let Some(re) = known else {
        return Vec::new();
    };
    re.find_iter(text)
        .map(|m| Edit {
            range: m.range(),
            with: mask_keeping_lines(m.as_str()),
            why: "known_secret",
        })
        .collect()
}

/// One regex matching any known value (longest first), or `None` when there is none.
fn known_regex(known: &BTreeSet<String>) -> Option<regex::Regex> {
    if known.is_empty() {
        return None;
    }
    let mut values: Vec<&String> = known.iter().collect();
    values.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    let alternation = values
        .iter()
        .map(|v| regex::escape(v))
        .collect::<Vec<_>>()
        .join("|");
    regex::RegexBuilder::new(&alternation)
        .size_limit(1 << 28)
        .build()
        .ok()
}

/// Applies edits (overlaps merged: an edit inside another is dropped, partial overlaps become
/// one masked range) and records the line of each.
fn apply(text: &str, mut edits: Vec<Edit>) -> (String, Vec<Redaction>) {
    edits.retain(|e| text.is_char_boundary(e.range.start) && text.is_char_boundary(e.range.end));
    edits.sort_by(|a, b| {
        a.range
            .start
            .cmp(&b.range.start)
            .then(b.range.end.cmp(&a.range.end))
    });
    let mut merged: Vec<Edit> = Vec::with_capacity(edits.len());
    for e in edits {
        match merged.last_mut() {
            Some(last) if e.range.start < last.range.end => {
                if e.range.end > last.range.end {
                    last.range.end = e.range.end;
                    last.with = mask_keeping_lines(&text[last.range.clone()]);
                }
            }
            _ => merged.push(e),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut found = Vec::with_capacity(merged.len());
    let mut at = 0;
    let mut line = 1u32;
    for e in merged {
        line += u32::try_from(text[at..e.range.start].matches('\n').count()).unwrap_or(0);
        out.push_str(&text[at..e.range.start]);
        out.push_str(&e.with);
        found.push(Redaction { line, kind: e.why });
        line += u32::try_from(text[e.range.clone()].matches('\n').count()).unwrap_or(0);
        at = e.range.end;
    }
    out.push_str(&text[at..]);
    found.sort();
    found.dedup();
    (out, found)
}

/// A file that could not be parsed: every line masked (line count kept).
fn mask_whole(text: &str) -> (String, Vec<Redaction>) {
    let out = text
        .split_inclusive('\n')
        .map(|l| {
            let body = l.trim_end_matches(['\n', '\r']);
            let ending = &l[body.len()..];
            if body.trim().is_empty() {
                l.to_owned()
            } else {
                format!("{MASK}{ending}")
            }
        })
        .collect();
    (
        out,
        vec![Redaction {
            line: 1,
            kind: "unparsed_file",
        }],
    )
}

/// The secret values found in a set of files, to mask in the bundle's other outputs too.
#[derive(Debug, Default)]
pub struct Known {
    regex: Option<regex::Regex>,
}

impl Known {
    /// Masks, in a text vouch wrote (assessment, summary, OSCAL), every credential format and
    /// every secret value found in the inputs. JSON stays valid: masks replace string content.
    pub fn scrub(&self, text: &str) -> String {
        let mut edits: Vec<Edit> = patterns::find(text)
            .into_iter()
            .map(|(range, why)| Edit {
                with: mask_keeping_lines(&text[range.clone()]),
                range,
                why,
            })
            .collect();
        edits.extend(known_edits(text, self.regex.as_ref()));
        apply(text, edits).0
    }
}

/// Redacts a set of files (path, text) together: a secret found in one is masked in all.
/// Returns each file's redacted text and redactions (in the order given), and the known
/// secret values for [`Known::scrub`].
pub fn redact_all(files: &[(&str, &str)]) -> (Vec<(String, Vec<Redaction>)>, Known) {
    let first: Vec<Found> = files.iter().map(|(p, t)| first_pass(p, t)).collect();
    let known_set: BTreeSet<String> = first.iter().flat_map(|f| f.known.iter().cloned()).collect();
    let known = Known {
        regex: known_regex(&known_set),
    };
    let out = files
        .iter()
        .zip(first)
        .map(|((_, text), found)| {
            if found.unparsed {
                return mask_whole(text);
            }
            let mut edits = found.edits;
            edits.extend(known_edits(text, known.regex.as_ref()));
            apply(text, edits)
        })
        .collect();
    (out, known)
}

/// Redacts one file on its own.
pub fn redact(path: &str, text: &str) -> (String, Vec<Redaction>) {
    redact_all(&[(path, text)])
        .0
        .pop()
        .unwrap_or_else(|| mask_whole(text))
}

/// Masks the query string of a URL (`https://host/doc?token=x#p` → `https://host/doc?REDACTED#p`).
pub fn mask_url_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, rest)) => {
            let fragment = rest.find('#').map_or("", |h| &rest[h..]);
            format!("{base}?{MASK}{fragment}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
