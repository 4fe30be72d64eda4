//! `[exports]` of `vouch.toml`: how old each kind of export may be, the HR roster's columns,
//! and what each export file belongs to.
//!
//! ```toml
//! [exports]
//! max_export_age_days = { default = 30, scim = 7, hr_roster = 7, aws_backup = 2 }
//!
//! [exports.hr_roster]
//! email = "Work Email"
//! status = "Employment Status"
//! termination_date = "Termination Date"
//! active_statuses = ["Active", "On Leave"]
//! terminated_statuses = ["Terminated"]
//!
//! [[exports.file]]
//! path = "exports/apps/github-*.json"   # a glob, relative to the scanned root
//! application = "github"                 # whose accounts a SCIM export lists
//! collected_at = 2026-11-24T06:00:00Z    # when the export was taken
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use super::Kind;
use crate::error::Problem;
use crate::source::SourceFile;

#[derive(Deserialize, Default)]
struct Outer {
    #[serde(default)]
    exports: Option<Spanned<RawExports>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawExports {
    max_export_age_days: Option<Spanned<MaxAge>>,
    hr_roster: Option<RawHr>,
    #[serde(default)]
    file: Vec<Spanned<RawFile>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MaxAge {
    All(i64),
    PerKind(BTreeMap<String, i64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHr {
    employee_id: Option<String>,
    email: Option<String>,
    status: Option<String>,
    termination_date: Option<String>,
    active_statuses: Option<Vec<String>>,
    terminated_statuses: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    path: Spanned<String>,
    application: Option<String>,
    identity_provider: Option<String>,
    collected_at: Option<Spanned<Datetime>>,
}

/// The HR roster's column names and status values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrColumns {
    pub employee_id: String,
    pub email: String,
    pub status: String,
    pub termination_date: String,
    pub active_statuses: Vec<String>,
    pub terminated_statuses: Vec<String>,
}

impl Default for HrColumns {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect();
        HrColumns {
            employee_id: "employee_id".to_owned(),
            email: "email".to_owned(),
            status: "status".to_owned(),
            termination_date: "termination_date".to_owned(),
            active_statuses: v(&["active", "on leave", "leave of absence"]),
            terminated_statuses: v(&["terminated", "inactive", "former", "left"]),
        }
    }
}

/// What `vouch.toml` declares about one export file (or a glob of them).
#[derive(Debug, Clone)]
pub struct FileDecl {
    pub glob: globset::GlobMatcher,
    pub pattern: String,
    pub application: Option<String>,
    pub identity_provider: Option<String>,
    /// Day the export was taken.
    pub collected_at: Option<i64>,
    pub collected_text: Option<String>,
    /// Where it is declared (line of `vouch.toml`).
    pub line: u32,
}

/// The validated `[exports]` settings (defaults when absent).
#[derive(Debug, Clone)]
pub struct Settings {
    max_age: BTreeMap<Kind, i64>,
    pub hr: HrColumns,
    /// True when `[exports.hr_roster]` names the columns.
    pub hr_configured: bool,
    pub files: Vec<FileDecl>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_age: Kind::ALL.iter().map(|k| (*k, default_age(*k))).collect(),
            hr: HrColumns::default(),
            hr_configured: false,
            files: Vec::new(),
        }
    }
}

/// The default maximum age of a kind, in days: identities and backups move daily, incident
/// histories monthly.
pub fn default_age(kind: Kind) -> i64 {
    match kind {
        Kind::Scim
        | Kind::Okta
        | Kind::GoogleWorkspace
        | Kind::Entra
        | Kind::HrRoster
        | Kind::AwsBackup => 7,
        Kind::Github => 30,
        Kind::Statuspage | Kind::Pagerduty => 31,
    }
}

impl Settings {
    /// The maximum age of an export of `kind`, in days.
    pub fn max_age(&self, kind: Kind) -> i64 {
        self.max_age
            .get(&kind)
            .copied()
            .unwrap_or_else(|| default_age(kind))
    }

    /// The declaration matching `path`, if any (the first in file order).
    pub fn file(&self, path: &str) -> Option<&FileDecl> {
        self.files.iter().find(|f| f.glob.is_match(path))
    }

    /// Reads `[exports]` from the text of `vouch.toml` (other tables are the config layer's).
    pub fn parse(file: &SourceFile) -> Result<Settings, Vec<Problem>> {
        let outer: Outer = toml::from_str(&file.text).map_err(|e| {
            vec![crate::formats::inventory::toml_problem(
                file,
                &e,
                "has an invalid `[exports]` table",
            )]
        })?;
        let mut s = Settings::default();
        let Some(raw) = outer.exports else {
            return Ok(s);
        };
        let mut problems = Vec::new();
        let lines = crate::lines::LineIndex::new(&file.text);
        let at = |span: std::ops::Range<usize>, message: String, help: &str| {
            Problem::parse(
                &file.path,
                &file.text,
                span.start,
                span.len(),
                message,
                "here",
            )
            .with_help(help)
        };
        let raw_span = raw.span();
        let raw = raw.into_inner();
        if let Some(m) = raw.max_export_age_days {
            let span = m.span();
            match m.into_inner() {
                MaxAge::All(n) if n > 0 => {
                    for k in Kind::ALL {
                        s.max_age.insert(k, n);
                    }
                }
                MaxAge::PerKind(map) => {
                    if let Some(n) = map.get("default") {
                        for k in Kind::ALL {
                            s.max_age.insert(k, *n);
                        }
                    }
                    for (name, n) in &map {
                        if *n <= 0 {
                            problems.push(at(
                                span.clone(),
                                format!("`max_export_age_days.{name}` must be at least 1 day"),
                                "an age of 0 would make every export stale",
                            ));
                            continue;
                        }
                        if name == "default" {
                            continue;
                        }
                        match Kind::ALL.iter().find(|k| k.as_str() == name) {
                            Some(k) => {
                                s.max_age.insert(*k, *n);
                            }
                            None => {
                                let known: Vec<&str> =
                                    Kind::ALL.iter().map(|k| k.as_str()).collect();
                                problems.push(at(
                                    span.clone(),
                                    format!("`max_export_age_days` names `{name}`, which is not a kind of export"),
                                    &crate::error::did_you_mean(name, &known).unwrap_or_else(|| format!("kinds: default, {}", known.join(", "))),
                                ));
                            }
                        }
                    }
                }
                MaxAge::All(_) => problems.push(at(
                    span,
                    "`max_export_age_days` must be at least 1 day".to_owned(),
                    "an age of 0 would make every export stale",
                )),
            }
        }
        if let Some(hr) = raw.hr_roster {
            let d = HrColumns::default();
            s.hr_configured = hr.email.is_some() || hr.status.is_some();
            s.hr = HrColumns {
                employee_id: hr.employee_id.unwrap_or(d.employee_id),
                email: hr.email.unwrap_or(d.email),
                status: hr.status.unwrap_or(d.status),
                termination_date: hr.termination_date.unwrap_or(d.termination_date),
                active_statuses: hr.active_statuses.unwrap_or(d.active_statuses),
                terminated_statuses: hr.terminated_statuses.unwrap_or(d.terminated_statuses),
            };
        }
        for f in raw.file {
            let line = lines.span(&file.path, &file.text, f.span().start, 0).line;
            let f = f.into_inner();
            let glob = match globset::Glob::new(f.path.get_ref()) {
                Ok(g) => g.compile_matcher(),
                Err(e) => {
                    problems.push(at(
                        f.path.span(),
                        format!(
                            "`{}` is not a valid path glob: {}",
                            f.path.get_ref(),
                            crate::error::lowercase_first(&e.kind().to_string())
                        ),
                        "paths are relative to the scanned root, `*` and `**` allowed",
                    ));
                    continue;
                }
            };
            let collected = f.collected_at.as_ref().map(|c| {
                (
                    crate::dates::toml_days(c.get_ref()),
                    c.span(),
                    c.get_ref().to_string(),
                )
            });
            if let Some((None, span, _)) = &collected {
                problems.push(at(
                    span.clone(),
                    "`collected_at` needs a date".to_owned(),
                    "write it as 2026-11-24 or 2026-11-24T06:00:00Z",
                ));
            }
            s.files.push(FileDecl {
                glob,
                pattern: f.path.into_inner(),
                application: f.application,
                identity_provider: f.identity_provider,
                collected_at: collected.as_ref().and_then(|c| c.0),
                collected_text: collected.map(|c| c.2),
                line,
            });
        }
        let _ = raw_span;
        if problems.is_empty() {
            Ok(s)
        } else {
            Err(problems)
        }
    }
}
