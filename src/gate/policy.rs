//! What a change does to the policy the gate applies — `vouch.toml` (waivers, excludes, the
//! threshold, library directories, every other setting) and the organisation's own controls —
//! and, for each change, the head findings it would hide.
//!
//! The gate evaluates the head under the base's policy (unless `--trust-head-config`); a change
//! to the policy is evaluated too, reported, and takes effect once merged. What a change would
//! hide is found by evaluating the head under both policies and attributing every finding that
//! fails under the base's policy but not under the head's to the change that explains it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::assessment::{CheckResult, ResourceRef, Status};
use crate::check::CheckRun;
use crate::config::{Config, Waiver};
use crate::library::{Library, Origin, Severity};

/// A control whose definition or policies differ between base and head.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ChangedControl {
    pub control: String,
    /// `added`, `removed` or `modified`.
    pub change: String,
}

/// A finding that fails under one policy and would not under the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HiddenFinding {
    pub control: String,
    pub severity: Severity,
    pub resource: Option<std::sync::Arc<ResourceRef>>,
    pub fingerprint: String,
    /// True when the change under review introduces the finding itself.
    pub new: bool,
    /// How it would be hidden: `waived`, `excluded`, `below the threshold`, `no longer reported`.
    pub how: &'static str,
}

/// What the change does to one part of the policy.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyChange {
    /// `waiver_added`, `waiver_changed`, `waiver_removed`, `exclude_added`, `exclude_removed`,
    /// `fail_on_raised`, `fail_on_lowered`, `library_path_added`, `library_path_removed`,
    /// `control_added`, `control_removed`, `control_modified`, `setting_changed`,
    /// `config_invalid` or `other`.
    pub kind: &'static str,
    /// One sentence, such as "adds a waiver of `rds-not-public` on `aws_db_instance.db`".
    pub description: String,
    /// Its line in the head's `vouch.toml`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// True when it lets something pass that fails under the other policy.
    pub weakens: bool,
    /// The head findings it would hide (or, with `--trust-head-config`, hides).
    pub hides: Vec<HiddenFinding>,
    #[serde(skip)]
    cause: Cause,
}

/// What a change can explain, for attributing hidden findings.
#[derive(Debug, Clone)]
enum Cause {
    Waiver(Box<Waiver>),
    Exclude(globset::GlobMatcher),
    LibraryDir(String),
    Control(String),
    Threshold { from: Severity, to: Severity },
    Other,
    Nothing,
}

impl PolicyChange {
    fn new(kind: &'static str, description: String, weakens: bool, cause: Cause) -> Self {
        PolicyChange {
            kind,
            description,
            line: None,
            weakens,
            hides: Vec::new(),
            cause,
        }
    }
}

fn waiver_key(w: &Waiver) -> (&str, &str, Option<&str>) {
    (&w.control, &w.resource, w.path.as_deref())
}

fn waiver_name(w: &Waiver) -> String {
    let path = w
        .path
        .as_ref()
        .map_or_else(String::new, |p| format!(" in `{p}`"));
    format!("`{}` on `{}`{path}", w.control, w.resource)
}

/// Controls whose definition or policy files differ between two libraries (custom ones only:
/// the built-in library is the same binary on both sides).
pub fn changed_controls(base: &Library, head: &Library) -> Vec<ChangedControl> {
    let texts = |lib: &Library| -> BTreeMap<String, String> {
        let mut by_control: BTreeMap<String, String> = BTreeMap::new();
        for c in lib
            .controls
            .values()
            .filter(|c| c.origin != Origin::Builtin)
        {
            let mut text = String::new();
            if let Some(f) = lib.files.iter().find(|f| f.display_path() == c.file) {
                text.push_str(&f.text);
            }
            for p in lib.policies.iter().filter(|p| {
                p.origin == c.origin && p.text.contains(&format!("@control(\"{}\")", c.id))
            }) {
                text.push_str(&p.text);
            }
            by_control.insert(c.id.clone(), text);
        }
        by_control
    };
    let (b, h) = (texts(base), texts(head));
    let mut out = Vec::new();
    for (id, text) in &h {
        match b.get(id) {
            None => out.push(ChangedControl {
                control: id.clone(),
                change: "added".to_owned(),
            }),
            Some(t) if t != text => out.push(ChangedControl {
                control: id.clone(),
                change: "modified".to_owned(),
            }),
            Some(_) => {}
        }
    }
    for id in b.keys().filter(|id| !h.contains_key(*id)) {
        out.push(ChangedControl {
            control: id.clone(),
            change: "removed".to_owned(),
        });
    }
    out.sort();
    out
}

/// A short rendering of a TOML value for a sentence.
fn short_value(v: Option<&toml::Value>) -> String {
    let Some(v) = v else {
        return "(unset)".to_owned();
    };
    let s = v.to_string();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 80 {
        format!("`{}…`", s.chars().take(79).collect::<String>())
    } else {
        format!("`{s}`")
    }
}

/// Settings other than the ones described on their own, as `section.key` → value.
fn other_settings(doc: &toml::Table) -> BTreeMap<String, toml::Value> {
    let known = [
        ("check", "exclude"),
        ("check", "fail_on"),
        ("library", "paths"),
    ];
    let mut out = BTreeMap::new();
    for (section, value) in doc {
        if section == "waiver" {
            continue;
        }
        match value {
            toml::Value::Table(t) => {
                for (key, v) in t {
                    if !known.contains(&(section.as_str(), key.as_str())) {
                        out.insert(format!("{section}.{key}"), v.clone());
                    }
                }
            }
            v => {
                out.insert(section.clone(), v.clone());
            }
        }
    }
    out
}

/// Every difference between the base's and the head's policy (none of them hiding anything
/// yet: see [`attribute`]).
pub fn changes(
    base: &Config,
    head: &Config,
    base_lib: &Library,
    head_lib: &Library,
) -> Vec<PolicyChange> {
    let mut out = Vec::new();
    // Waivers, by (control, resource, path).
    let base_waivers: BTreeMap<_, &Waiver> =
        base.waivers.iter().map(|w| (waiver_key(w), w)).collect();
    let head_waivers: BTreeMap<_, &Waiver> =
        head.waivers.iter().map(|w| (waiver_key(w), w)).collect();
    for (key, w) in &head_waivers {
        let mut change = match base_waivers.get(key) {
            None => PolicyChange::new(
                "waiver_added",
                format!(
                    "adds a waiver of {}, approved by {} until {}: {}",
                    waiver_name(w),
                    w.approver,
                    w.expires,
                    w.reason
                ),
                true,
                Cause::Waiver(Box::new((*w).clone())),
            ),
            Some(b) => {
                let mut what = Vec::new();
                if b.expires != w.expires {
                    what.push(format!("expiry {} → {}", b.expires, w.expires));
                }
                if b.approver != w.approver {
                    what.push(format!("approver {} → {}", b.approver, w.approver));
                }
                if b.reason != w.reason {
                    what.push("reason".to_owned());
                }
                if b.ticket != w.ticket {
                    what.push("ticket".to_owned());
                }
                if what.is_empty() {
                    continue;
                }
                PolicyChange::new(
                    "waiver_changed",
                    format!(
                        "changes the waiver of {}: {}",
                        waiver_name(w),
                        what.join(", ")
                    ),
                    w.expires_days > b.expires_days,
                    Cause::Waiver(Box::new((*w).clone())),
                )
            }
        };
        change.line = Some(w.line);
        out.push(change);
    }
    for (key, w) in &base_waivers {
        if !head_waivers.contains_key(key) {
            out.push(PolicyChange::new(
                "waiver_removed",
                format!("removes the waiver of {}", waiver_name(w)),
                false,
                Cause::Nothing,
            ));
        }
    }
    // Excludes.
    let base_ex: BTreeSet<&String> = base.exclude.iter().collect();
    let head_ex: BTreeSet<&String> = head.exclude.iter().collect();
    for g in head_ex.difference(&base_ex) {
        let cause = globset::Glob::new(g)
            .map(|g| Cause::Exclude(g.compile_matcher()))
            .unwrap_or(Cause::Other);
        out.push(PolicyChange::new(
            "exclude_added",
            format!("excludes `{g}` from the scan"),
            true,
            cause,
        ));
    }
    for g in base_ex.difference(&head_ex) {
        out.push(PolicyChange::new(
            "exclude_removed",
            format!("stops excluding `{g}`"),
            false,
            Cause::Nothing,
        ));
    }
    // The threshold.
    let (from, to) = (
        base.fail_on.unwrap_or(Severity::Low),
        head.fail_on.unwrap_or(Severity::Low),
    );
    if to > from {
        out.push(PolicyChange::new(
            "fail_on_raised",
            format!(
                "raises `fail_on` from `{}` to `{}`: new findings below `{}` would no longer fail the gate",
                from.as_str(),
                to.as_str(),
                to.as_str()
            ),
            true,
            Cause::Threshold { from, to },
        ));
    } else if to < from {
        out.push(PolicyChange::new(
            "fail_on_lowered",
            format!(
                "lowers `fail_on` from `{}` to `{}`",
                from.as_str(),
                to.as_str()
            ),
            false,
            Cause::Nothing,
        ));
    }
    // Library directories.
    let base_dirs: BTreeSet<&String> = base.library_relative.iter().collect();
    let head_dirs: BTreeSet<&String> = head.library_relative.iter().collect();
    for d in head_dirs.difference(&base_dirs) {
        out.push(PolicyChange::new(
            "library_path_added",
            format!("adds the library directory `{d}` (its files are no longer scanned as inputs)"),
            true,
            Cause::LibraryDir((*d).clone()),
        ));
    }
    for d in base_dirs.difference(&head_dirs) {
        out.push(PolicyChange::new(
            "library_path_removed",
            format!("removes the library directory `{d}` (its controls are no longer evaluated)"),
            true,
            Cause::Other,
        ));
    }
    // The organisation's own controls.
    for c in changed_controls(base_lib, head_lib) {
        let (kind, description, weakens) = match c.change.as_str() {
            "added" => (
                "control_added",
                format!("adds control `{}`", c.control),
                false,
            ),
            "removed" => (
                "control_removed",
                format!("removes control `{}`", c.control),
                true,
            ),
            _ => (
                "control_modified",
                format!("changes control `{}`", c.control),
                false,
            ),
        };
        out.push(PolicyChange::new(
            kind,
            description,
            weakens,
            Cause::Control(c.control),
        ));
    }
    // Every other setting (roadmap targets, Terraform variable files, limits, …).
    let (b, h) = (
        other_settings(&base.document),
        other_settings(&head.document),
    );
    let keys: BTreeSet<&String> = b.keys().chain(h.keys()).collect();
    for k in keys {
        if b.get(k) != h.get(k) {
            let (section, key) = k.split_once('.').unwrap_or(("", k));
            let name = if section.is_empty() {
                format!("`{key}`")
            } else {
                format!("`[{section}] {key}`")
            };
            out.push(PolicyChange::new(
                "setting_changed",
                format!(
                    "changes {name} from {} to {}",
                    short_value(b.get(k)),
                    short_value(h.get(k))
                ),
                false,
                Cause::Other,
            ));
        }
    }
    out
}

/// The change that explains a head whose `vouch.toml` does not parse.
pub fn invalid_config() -> PolicyChange {
    PolicyChange::new(
        "config_invalid",
        "changes `vouch.toml` so that it no longer loads (see the problems)".to_owned(),
        true,
        Cause::Nothing,
    )
}

/// Identity of a finding across two policies: control and resource (not the fired policies,
/// which a changed control may change).
type Key<'a> = (&'a str, Option<(&'a str, &'a str, &'a str)>);

fn key(r: &CheckResult) -> Key<'_> {
    (
        r.control.as_ref(),
        r.resource.as_ref().map(|res| {
            (
                res.entity_type.as_str(),
                res.scope.as_str(),
                res.address.as_str(),
            )
        }),
    )
}

/// Fills each change's `hides`: every finding failing on the head under the base's policy
/// (`under_base`) that the head's policy (`under_head`) would let pass, attributed to the first
/// change that explains it. `counts_threshold` says which findings the threshold decides
/// (new ones, and existing ones with `--all`).
pub fn attribute(
    changes: &mut Vec<PolicyChange>,
    under_base: &CheckRun,
    under_head: &CheckRun,
    new: &BTreeSet<&str>,
    counts_threshold: &dyn Fn(&CheckResult) -> bool,
    threshold_overridden: bool,
) {
    let failing = |r: &CheckResult| matches!(r.status, Status::Fail | Status::Error);
    let mut head: BTreeMap<Key<'_>, &CheckResult> = BTreeMap::new();
    for r in &under_head.assessment.results {
        if failing(r) || r.status == Status::Waived {
            // A failing result wins over a waived one of the same key.
            let keep = head.get(&key(r)).is_some_and(|h| failing(h));
            if !keep {
                head.insert(key(r), r);
            }
        }
    }
    let mut other: Vec<HiddenFinding> = Vec::new();
    for f in under_base.assessment.results.iter().filter(|r| failing(r)) {
        let file = f.resource.as_ref().map_or("", |r| r.file.as_str());
        let address = f.resource.as_ref().map_or("", |r| r.address.as_str());
        let (how, at): (&'static str, Option<usize>) = match head.get(&key(f)) {
            Some(h) if h.status == Status::Waived => (
                "waived",
                changes.iter().position(|c| match &c.cause {
                    Cause::Waiver(w) => {
                        *w.control == *f.control
                            && (f.resource.is_some() && w.applies(address, file)
                                || f.resource.is_none() && w.resource == "*")
                    }
                    _ => false,
                }),
            ),
            Some(h) => {
                let below = changes.iter().position(|c| match c.cause {
                    Cause::Threshold { from, to } => {
                        !threshold_overridden
                            && h.severity >= from
                            && h.severity < to
                            && h.status == Status::Fail
                            && counts_threshold(f)
                    }
                    _ => false,
                });
                match below {
                    Some(i) => ("below the threshold", Some(i)),
                    None => continue,
                }
            }
            None => {
                let excluded = changes.iter().position(|c| match &c.cause {
                    Cause::Exclude(m) => f.resource.is_some() && m.is_match(file),
                    Cause::LibraryDir(d) => {
                        f.resource.is_some() && file.starts_with(&format!("{d}/"))
                    }
                    _ => false,
                });
                let control = changes
                    .iter()
                    .position(|c| matches!(&c.cause, Cause::Control(id) if **id == *f.control));
                match (excluded, control) {
                    (Some(i), _) => ("excluded", Some(i)),
                    (None, Some(i)) => ("no longer reported", Some(i)),
                    (None, None) => ("no longer reported", None),
                }
            }
        };
        let hidden = HiddenFinding {
            control: f.control.to_string(),
            severity: f.severity,
            resource: f.resource.clone(),
            fingerprint: f.fingerprint.to_string(),
            new: new.contains(f.fingerprint.as_str()),
            how,
        };
        match at {
            Some(i) => {
                if let Some(c) = changes.get_mut(i) {
                    c.hides.push(hidden);
                }
            }
            None => other.push(hidden),
        }
    }
    if !other.is_empty() {
        // Findings no single change explains: the changes that can hide anything share them.
        let target = changes
            .iter()
            .position(|c| matches!(c.cause, Cause::Other | Cause::Exclude(_)));
        match target {
            Some(i) => {
                if let Some(c) = changes.get_mut(i) {
                    c.hides.extend(other);
                }
            }
            None => {
                let mut c = PolicyChange::new(
                    "other",
                    "changes the policy in ways the findings below depend on".to_owned(),
                    true,
                    Cause::Other,
                );
                c.hides = other;
                changes.push(c);
            }
        }
    }
    for c in changes.iter_mut() {
        if !c.hides.is_empty() {
            c.weakens = true;
            if c.kind == "control_modified" {
                c.description = c
                    .description
                    .replacen("changes control", "weakens control", 1);
            }
        }
        c.hides.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then((!a.new).cmp(&!b.new))
                .then(a.control.cmp(&b.control))
                .then(a.resource.cmp(&b.resource))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::changes;
    use crate::config::Config;
    use crate::library::Library;

    fn config(text: &str) -> Config {
        Config::parse(text, std::path::Path::new(".")).unwrap()
    }

    fn kinds_and_descriptions(base: &str, head: &str) -> Vec<(&'static str, String, bool)> {
        let (lib, _) = Library::with_custom_files(Vec::new());
        changes(&config(base), &config(head), &lib, &lib)
            .into_iter()
            .map(|c| (c.kind, c.description, c.weakens))
            .collect()
    }

    #[test]
    fn every_edit_to_vouch_toml_is_listed() {
        let base = "[check]\nexclude = [\"a/**\"]\nfail_on = \"high\"\n";
        let head =
            "[check]\nexclude = [\"b/**\"]\nfail_on = \"low\"\n[roadmap]\ntargets = [\"soc2\"]\n";
        let got = kinds_and_descriptions(base, head);
        assert_eq!(
            got,
            vec![
                (
                    "exclude_added",
                    "excludes `b/**` from the scan".to_owned(),
                    true
                ),
                (
                    "exclude_removed",
                    "stops excluding `a/**`".to_owned(),
                    false
                ),
                (
                    "fail_on_lowered",
                    "lowers `fail_on` from `high` to `low`".to_owned(),
                    false
                ),
                (
                    "setting_changed",
                    "changes `[roadmap] targets` from (unset) to `[\"soc2\"]`".to_owned(),
                    false
                ),
            ]
        );
    }

    #[test]
    fn a_waiver_extended_is_a_weakening_change() {
        let w = "[[waiver]]\ncontrol = \"c\"\nresource = \"r\"\nreason = \"x\"\napprover = \"a\"\nexpires = 2027-01-31\n";
        let got = kinds_and_descriptions(w, &w.replace("2027-01-31", "2030-01-31"));
        assert_eq!(
            got,
            vec![(
                "waiver_changed",
                "changes the waiver of `c` on `r`: expiry 2027-01-31 → 2030-01-31".to_owned(),
                true
            )]
        );
        assert!(kinds_and_descriptions(w, w).is_empty());
    }
}
