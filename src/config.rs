//! `vouch.toml`: excludes, custom library directories, the failure threshold and waivers.
//!
//! ```toml
//! [check]
//! exclude = ["legacy/**"]
//! fail_on = "medium"
//!
//! [library]
//! paths = ["compliance"]        # each holds controls/ and policies/
//!
//! [terraform]
//! var_files = ["envs/prod/prod.tfvars"]  # as `terraform plan -var-file` would be given
//!
//! [[waiver]]
//! control = "s3-versioning"
//! resource = "aws_s3_bucket.scratch*"
//! path = "staging/**"           # optional: only resources declared in these files
//! reason = "scratch data, recreated daily"
//! approver = "jane@acme.example"
//! expires = 2027-01-31
//! ticket = "SEC-142"
//!
//! [[invariant]]                 # `--prove`: the access policies never allow this
//! name = "eu-data-stays-in-eu"
//! condition = 'resource.residency.contains("eu") && !(principal has region && principal.region == "eu")'
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use crate::error::{Problem, ProblemKind};
use crate::library::Severity;

/// The configuration file name, looked up at the scanned root.
pub const FILE_NAME: &str = "vouch.toml";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    check: RawCheck,
    #[serde(default)]
    library: RawLibrary,
    #[serde(default)]
    waiver: Vec<Spanned<RawWaiver>>,
    /// Read by `vouch roadmap`.
    #[serde(default)]
    roadmap: Option<toml::Table>,
    /// Read by the export parsers (`formats::exports::settings`), which report its problems.
    #[serde(default)]
    #[allow(dead_code, reason = "validated where it is used, in formats::exports")]
    exports: Option<toml::Table>,
    #[serde(default)]
    access: RawAccess,
    #[serde(default)]
    terraform: RawTerraform,
    /// `[[invariant]]`: conditions the access policies must never allow (`--prove`).
    #[serde(default)]
    invariant: Vec<Spanned<RawInvariant>>,
}

/// `[[invariant]]`: a named Cedar condition over an access request that must never be allowed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInvariant {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    /// Access actions it concerns (default: every one).
    #[serde(default)]
    actions: Option<Spanned<Vec<String>>>,
    /// The condition, a Cedar expression over `principal`, `resource` and `context`.
    condition: Spanned<String>,
}

/// A user invariant (`[[invariant]]`), validated as TOML; `--prove` parses and validates its
/// Cedar condition against the schema and proves it disjoint from the access policies.
#[derive(Debug, Clone)]
pub struct Invariant {
    pub name: String,
    pub description: String,
    /// `admin`, `read`, `write` (sorted, deduplicated).
    pub actions: Vec<String>,
    pub condition: String,
    /// Byte offset of the condition's first character in `source`, when the TOML string holds
    /// it verbatim (no escapes): Cedar errors then point into `vouch.toml`.
    pub condition_offset: Option<usize>,
    /// Byte range of the whole `[[invariant]]` entry.
    pub span: (usize, usize),
    /// The text of `vouch.toml`.
    pub source: Arc<str>,
}

/// `[access]`: how access requests and grants are judged.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    /// A regex every ticket must match whole (default: a letter or digit, then letters,
    /// digits and `._:/#-`).
    ticket_pattern: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTerraform {
    /// Values files passed to every plan (`-var-file`), relative to the repository root.
    #[serde(default)]
    var_files: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    #[serde(default)]
    exclude: Vec<String>,
    fail_on: Option<Severity>,
    /// Files larger than this many MiB are a problem instead of being read.
    max_file_mb: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLibrary {
    #[serde(default)]
    paths: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    control: Spanned<String>,
    resource: Spanned<String>,
    /// A glob on the file that declares the resource (relative to the root).
    path: Option<Spanned<String>>,
    reason: Option<String>,
    approver: Option<String>,
    expires: Option<Spanned<Datetime>>,
    ticket: Option<String>,
}

/// A waiver: a failing (control, resource) accepted until a date, with a reason and an approver.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub control: String,
    /// Exact address or glob.
    pub resource: String,
    pub matcher: globset::GlobMatcher,
    /// Only resources declared in files matching this glob (relative to the root): a waiver for
    /// `staging/**` never covers `prod/`'s resource of the same address.
    pub path: Option<String>,
    pub path_matcher: Option<globset::GlobMatcher>,
    pub reason: String,
    pub approver: String,
    pub expires: String,
    pub expires_days: i64,
    pub ticket: Option<String>,
    pub line: u32,
}

impl Waiver {
    /// True when the waiver covers a result on the resource `address` declared in `file`
    /// (relative to the root).
    pub fn applies(&self, address: &str, file: &str) -> bool {
        (address == self.resource || self.matcher.is_match(address))
            && self.path_matcher.as_ref().is_none_or(|m| m.is_match(file))
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub exclude: Vec<String>,
    pub fail_on: Option<Severity>,
    /// Custom library directories, resolved against the root.
    pub library_paths: Vec<PathBuf>,
    /// Library directories relative to the root (excluded from the scan).
    pub library_relative: Vec<String>,
    pub waivers: Vec<Waiver>,
    pub roadmap: Option<toml::Table>,
    /// `[access]`: the ticket pattern.
    pub access: crate::formats::inventory::AccessSettings,
    /// Terraform values files given to every root (`-var-file`), relative to the root.
    pub terraform_var_files: Vec<String>,
    /// The largest input file read, in bytes (`[check] max_file_mb`).
    pub max_file_bytes: u64,
    /// The whole file as parsed (empty without a file): the gate compares two sides' settings.
    pub document: toml::Table,
    /// `[[invariant]]`s, in file order.
    pub invariants: Vec<Invariant>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            exclude: Vec::new(),
            fail_on: None,
            library_paths: Vec::new(),
            library_relative: Vec::new(),
            waivers: Vec::new(),
            roadmap: None,
            terraform_var_files: Vec::new(),
            max_file_bytes: crate::source::MAX_FILE_BYTES,
            document: toml::Table::new(),
            access: crate::formats::inventory::AccessSettings::default(),
            invariants: Vec::new(),
        }
    }
}

impl Config {
    /// Reads `vouch.toml` at `root` if present; every problem is reported at once.
    pub fn load(root: &Path) -> Result<Config, Vec<Problem>> {
        let path = root.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text, root),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(vec![Problem::io(FILE_NAME, &e)]),
        }
    }

    /// Parses the text of a `vouch.toml` found at `root`.
    pub fn parse(text: &str, root: &Path) -> Result<Config, Vec<Problem>> {
        let text: Arc<str> = Arc::from(text);
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            let (offset, len) = e.span().map_or((0, 0), |r| (r.start, r.len()));
            let mut p = Problem::parse(
                FILE_NAME,
                &text,
                offset,
                len,
                format!(
                    "`{FILE_NAME}` is not valid: {}",
                    crate::error::lowercase_first(e.message().trim())
                ),
                "here",
            );
            p.kind = ProblemKind::Config;
            vec![p]
        })?;
        let mut problems = Vec::new();
        let mut waivers = Vec::new();
        for w in &raw.waiver {
            let start = w.span().start;
            let v = w.get_ref();
            let at = |offset: usize, len: usize, message: String, label: &str| {
                let mut p = Problem::parse(FILE_NAME, &text, offset, len, message, label);
                p.kind = ProblemKind::Config;
                p
            };
            let mut missing = Vec::new();
            if v.reason.as_deref().is_none_or(|s| s.trim().is_empty()) {
                missing.push("reason");
            }
            if v.approver.as_deref().is_none_or(|s| s.trim().is_empty()) {
                missing.push("approver");
            }
            if v.expires.is_none() {
                missing.push("expires");
            }
            if !missing.is_empty() {
                problems.push(
                    at(start, 0, format!(
                        "the waiver of `{}` on `{}` has no {}",
                        v.control.get_ref(),
                        v.resource.get_ref(),
                        missing.join(", ")
                    ), "this waiver")
                    .with_help("a waiver needs a reason, an approver and an expiry date (expires = 2027-01-31)"),
                );
                continue;
            }
            let Some(expires) = &v.expires else { continue };
            let Some(expires_days) = crate::dates::toml_days(expires.get_ref()) else {
                let r = expires.span();
                problems.push(at(
                    r.start,
                    r.len(),
                    "`expires` must be a date".to_owned(),
                    "not a date",
                ));
                continue;
            };
            let matcher = match globset::GlobBuilder::new(v.resource.get_ref())
                .literal_separator(false)
                .build()
            {
                Ok(g) => g.compile_matcher(),
                Err(e) => {
                    let r = v.resource.span();
                    problems.push(at(
                        r.start,
                        r.len(),
                        format!("invalid resource glob: {e}"),
                        "here",
                    ));
                    continue;
                }
            };
            let path_matcher = match &v.path {
                None => None,
                Some(p) => match path_glob(p.get_ref()) {
                    Ok(m) => Some(m),
                    Err(message) => {
                        let r = p.span();
                        problems.push(at(r.start, r.len(), message, "here").with_help(
                            "a path is a glob relative to this file's directory, such as `staging/**`",
                        ));
                        continue;
                    }
                },
            };
            waivers.push(Waiver {
                control: v.control.get_ref().clone(),
                resource: v.resource.get_ref().clone(),
                matcher,
                path: v.path.as_ref().map(|p| p.get_ref().clone()),
                path_matcher,
                reason: v.reason.clone().unwrap_or_default(),
                approver: v.approver.clone().unwrap_or_default(),
                expires: expires.get_ref().to_string(),
                expires_days,
                ticket: v.ticket.clone(),
                line: crate::lines::shared(&text)
                    .span(FILE_NAME, &text, start, 0)
                    .line,
            });
        }
        for g in &raw.check.exclude {
            if let Err(e) = globset::Glob::new(g) {
                problems.push(Problem::config(
                    format!("invalid exclude glob `{g}`: {e}"),
                    Some(FILE_NAME),
                ));
            }
        }
        let mut library_paths = Vec::new();
        let mut library_relative = Vec::new();
        for p in &raw.library.paths {
            let rel = p.trim_end_matches('/').to_owned();
            if Path::new(&rel).is_absolute() || rel.split('/').any(|c| c == "..") {
                problems.push(Problem::config(
                    format!("library path `{p}` must be a directory inside the repository"),
                    Some(FILE_NAME),
                ));
                continue;
            }
            library_paths.push(root.join(&rel));
            library_relative.push(rel);
        }
        let mut access = crate::formats::inventory::AccessSettings::default();
        if let Some(pattern) = &raw.access.ticket_pattern {
            match crate::formats::inventory::access::TicketPattern::new(pattern.get_ref()) {
                Ok(p) => access.ticket_pattern = p,
                Err(e) => {
                    let r = pattern.span();
                    let mut p = Problem::parse(
                        FILE_NAME,
                        &text,
                        r.start,
                        r.len(),
                        format!(
                            "`[access] ticket_pattern` is not a valid regex: {}",
                            one_line(&e)
                        ),
                        "this pattern",
                    )
                    .with_help("write a regex the whole ticket must match, e.g. `SEC-[0-9]+`");
                    p.kind = ProblemKind::Config;
                    problems.push(p);
                }
            }
        }
        let mut terraform_var_files = Vec::new();
        for f in &raw.terraform.var_files {
            let rel = f.trim_start_matches("./").to_owned();
            if Path::new(&rel).is_absolute() || rel.split('/').any(|c| c == "..") {
                problems.push(Problem::config(
                    format!("terraform var file `{f}` must be a file inside the repository"),
                    Some(FILE_NAME),
                ));
                continue;
            }
            terraform_var_files.push(rel);
        }
        let max_file_bytes = match raw.check.max_file_mb {
            Some(0) => {
                problems.push(Problem::config(
                    "`max_file_mb` must be at least 1".to_owned(),
                    Some(FILE_NAME),
                ));
                crate::source::MAX_FILE_BYTES
            }
            Some(mb) => mb.saturating_mul(1024 * 1024),
            None => crate::source::MAX_FILE_BYTES,
        };
        let invariants = invariants(&raw.invariant, &text, &mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Config {
            exclude: raw.check.exclude,
            fail_on: raw.check.fail_on,
            library_paths,
            library_relative,
            waivers,
            roadmap: raw.roadmap,
            document: toml::from_str(&text).unwrap_or_default(),
            access,
            terraform_var_files,
            max_file_bytes,
            invariants,
        })
    }

    /// Excludes for the walk: configured globs plus the custom library directories.
    pub fn walk_excludes(&self) -> Vec<String> {
        let mut globs = self.exclude.clone();
        for rel in &self.library_relative {
            globs.push(format!("{rel}/**"));
        }
        globs
    }
}

/// The access actions an invariant may name.
const INVARIANT_ACTIONS: &[&str] = &["admin", "read", "write"];

/// Validates `[[invariant]]` entries as TOML (names unique and set, actions known, a
/// condition); the Cedar condition itself is validated by `--prove` against the schema.
fn invariants(
    raw: &[Spanned<RawInvariant>],
    text: &Arc<str>,
    problems: &mut Vec<Problem>,
) -> Vec<Invariant> {
    let at = |r: std::ops::Range<usize>, message: String, label: &str| {
        let mut p = Problem::parse(FILE_NAME, text, r.start, r.len(), message, label);
        p.kind = ProblemKind::Config;
        p
    };
    let mut out: Vec<Invariant> = Vec::new();
    for entry in raw {
        let v = entry.get_ref();
        let name = v.name.get_ref().trim();
        let mut ok = true;
        if name.is_empty() {
            problems.push(
                at(
                    v.name.span(),
                    "an invariant needs a name".to_owned(),
                    "empty name",
                )
                .with_help("name it for what it protects, e.g. name = \"eu-data-stays-in-eu\""),
            );
            ok = false;
        } else if out.iter().any(|i| i.name == name) {
            problems.push(at(
                v.name.span(),
                format!("invariant `{name}` is defined twice"),
                "second definition",
            ));
            ok = false;
        }
        if v.condition.get_ref().trim().is_empty() {
            problems.push(
                at(
                    v.condition.span(),
                    format!("invariant `{name}` has an empty condition"),
                    "empty",
                )
                .with_help("write the Cedar condition that must never be allowed, e.g. condition = 'resource.customer_data && !(principal has region)'"),
            );
            ok = false;
        }
        let mut actions: Vec<String> = INVARIANT_ACTIONS.iter().map(|a| (*a).to_owned()).collect();
        if let Some(list) = &v.actions {
            for a in list.get_ref() {
                if !INVARIANT_ACTIONS.contains(&a.as_str()) {
                    problems.push(
                        at(
                            list.span(),
                            format!("invariant `{name}` names the action `{a}`, which is not an access action"),
                            "actions",
                        )
                        .with_help("access actions are read, write and admin"),
                    );
                    ok = false;
                }
            }
            actions.clone_from(list.get_ref());
            actions.sort();
            actions.dedup();
            if actions.is_empty() {
                problems.push(
                    at(
                        list.span(),
                        format!("invariant `{name}` names no action"),
                        "empty",
                    )
                    .with_help("leave `actions` out to mean every access action"),
                );
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        out.push(Invariant {
            name: name.to_owned(),
            description: v.description.trim().to_owned(),
            actions,
            condition: v.condition.get_ref().clone(),
            condition_offset: verbatim_offset(text, v.condition.span(), v.condition.get_ref()),
            span: (entry.span().start, entry.span().end),
            source: Arc::clone(text),
        });
    }
    out
}

/// Where a TOML string's value starts in `text`, when the quoted text is the value verbatim.
fn verbatim_offset(text: &str, span: std::ops::Range<usize>, value: &str) -> Option<usize> {
    let quoted = text.get(span.clone())?;
    for delim in ["'''", "\"\"\"", "'", "\""] {
        if let Some(rest) = quoted.strip_prefix(delim) {
            // A newline right after an opening triple quote is not part of the value.
            let skip = if delim.len() == 3 {
                if rest.starts_with("\r\n") {
                    2
                } else {
                    usize::from(rest.starts_with('\n'))
                }
            } else {
                0
            };
            let start = span.start + delim.len() + skip;
            return (text.get(start..start + value.len()) == Some(value)).then_some(start);
        }
    }
    None
}

/// A multi-line message (the regex crate draws a caret diagram) on one line.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A waiver's `path`: a glob relative to the root, where `*` stays within a directory and `**`
/// crosses directories.
fn path_glob(glob: &str) -> Result<globset::GlobMatcher, String> {
    let trimmed = glob.trim_start_matches("./");
    if trimmed.is_empty()
        || Path::new(trimmed).is_absolute()
        || trimmed.split('/').any(|c| c == "..")
    {
        return Err(format!(
            "waiver path `{glob}` must be a glob inside the repository"
        ));
    }
    globset::GlobBuilder::new(trimmed)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("invalid waiver path glob `{glob}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::Config;
    use proptest::prelude::*;

    fn waiver(path: &str) -> String {
        format!(
            "[[waiver]]\ncontrol = \"rds-not-public\"\nresource = \"aws_db_instance.db\"\npath = {}\nreason = \"r\"\napprover = \"a\"\nexpires = 2027-01-31\n",
            toml::Value::String(path.to_owned())
        )
    }

    #[test]
    fn a_path_scopes_a_waiver_to_matching_files() {
        let c = Config::parse(&waiver("staging/**"), std::path::Path::new(".")).unwrap();
        let w = &c.waivers[0];
        assert!(w.applies("aws_db_instance.db", "staging/main.tf"));
        assert!(w.applies("aws_db_instance.db", "staging/eu/main.tf"));
        assert!(!w.applies("aws_db_instance.db", "prod/main.tf"));
        assert!(!w.applies("aws_db_instance.other", "staging/main.tf"));
        let c = Config::parse(&waiver("staging/*.tf"), std::path::Path::new(".")).unwrap();
        assert!(!c.waivers[0].applies("aws_db_instance.db", "staging/eu/main.tf"));
    }

    #[test]
    fn a_path_outside_the_repository_is_an_error_at_its_span() {
        for bad in ["../x/**", "/etc/**", "", "a/../../b"] {
            let problems = Config::parse(&waiver(bad), std::path::Path::new(".")).unwrap_err();
            assert_eq!(problems.len(), 1, "{bad}");
            assert_eq!(problems[0].line, Some(4), "{bad}");
        }
    }

    proptest! {
        /// Any `path` string gives a configuration or one problem with its line, never a panic.
        #[test]
        fn any_waiver_path_parses_or_is_one_problem(path in "\\PC{0,40}") {
            match Config::parse(&waiver(&path), std::path::Path::new(".")) {
                Ok(c) => prop_assert_eq!(c.waivers.len(), 1),
                Err(ps) => {
                    prop_assert_eq!(ps.len(), 1);
                    prop_assert!(ps[0].line.is_some());
                }
            }
        }
    }
}
