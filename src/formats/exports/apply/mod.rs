//! Joins the parsed exports with the inventory's resources: each imported attribute remembers
//! its export (file, digest, export time, age, staleness), a declared value that an export
//! contradicts is recorded on the resource with both sides, and the cross-system comparisons
//! run (identity provider and HR roster against every application's accounts).
//!
//! One module per subject: [`people`] (directories, factors, HR roster, application accounts),
//! [`backups`] (AWS Backup jobs), [`code`] (GitHub), [`incidents`] (Statuspage, PagerDuty).

mod backups;
mod code;
mod incidents;
mod people;

use std::collections::HashMap;
use std::sync::Arc;

use super::{ExportFile, Settings};
use crate::error::Problem;
use crate::model::{FactOrigin, FactSource, Resource, Value};

/// Everything the join needs.
pub struct Join<'a> {
    pub exports: &'a [Arc<ExportFile>],
    pub settings: &'a Settings,
    pub as_of: i64,
    pub resources: &'a mut Vec<Resource>,
    pub problems: Vec<Problem>,
    /// (entity type, address) → index into `resources`.
    index: HashMap<(String, String), usize>,
    /// Inventory user id → e-mail (lowercased), to find people in directories.
    pub user_emails: HashMap<String, String>,
    /// Files that turned out not to be exports (a CSV without roster columns).
    pub unrecognised: Vec<String>,
}

impl<'a> Join<'a> {
    fn new(
        exports: &'a [Arc<ExportFile>],
        settings: &'a Settings,
        as_of: i64,
        resources: &'a mut Vec<Resource>,
    ) -> Self {
        let index = resources
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.entity_type.starts_with("Saas::") || r.entity_type.starts_with("Access::")
            })
            .map(|(i, r)| ((r.entity_type.clone(), r.address.clone()), i))
            .collect();
        Join {
            exports,
            settings,
            as_of,
            resources,
            problems: Vec::new(),
            index,
            user_emails: HashMap::new(),
            unrecognised: Vec::new(),
        }
    }

    /// The resource of `entity_type` at `address`.
    fn get(&mut self, entity_type: &str, address: &str) -> Option<&mut Resource> {
        let i = *self
            .index
            .get(&(entity_type.to_owned(), address.to_owned()))?;
        self.resources.get_mut(i)
    }

    /// Indexes of every resource of a type.
    fn of_type(&self, entity_type: &str) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .index
            .iter()
            .filter(|((t, _), _)| t == entity_type)
            .map(|(_, i)| *i)
            .collect();
        v.sort_unstable();
        v
    }

    /// Marks `attr` of the resource at `idx` unknown, with the reason a user can act on.
    fn set_unknown(&mut self, idx: usize, attr: &'static str, reason: String) {
        if let Some(r) = self.resources.get_mut(idx) {
            r.facts_mut().explain(attr, format!("not known: {reason}"));
            r.set(attr, Value::unknown(reason));
        }
    }

    /// Adds a resource built from exports.
    fn push(&mut self, r: Resource) {
        self.index.insert(
            (r.entity_type.clone(), r.address.clone()),
            self.resources.len(),
        );
        self.resources.push(r);
    }

    /// The export time of a file: declared in `vouch.toml`, else the file's own.
    fn collected_at(&self, e: &ExportFile) -> (Option<i64>, &'static str) {
        match self.settings.file(&e.path).and_then(|d| d.collected_at) {
            Some(d) => (Some(d), "vouch.toml collected_at"),
            None => (e.collected_at, e.collected_from),
        }
    }

    /// The provenance record of facts imported from `e`.
    pub fn source(&self, e: &ExportFile) -> FactSource {
        let (at, _) = self.collected_at(e);
        let age = at.map(|d| (self.as_of - d).max(0));
        let max = self.settings.max_age(e.format.kind());
        FactSource {
            origin: FactOrigin::Imported,
            format: e.format.as_str().into(),
            file: e.path.as_str().into(),
            line: 1,
            digest: Some(e.digest.as_str().into()),
            collected_at: at.map(|d| crate::dates::format_days(d).into()),
            age_days: age,
            max_age_days: Some(max),
            stale: age.is_none_or(|a| a > max),
        }
    }

    /// Sets `attr` on the resource at `idx` from an export, recording its source and, when a
    /// declared value differs, the contradiction with both sides.
    fn import(
        &mut self,
        idx: usize,
        attr: &'static str,
        value: Value,
        e: &ExportFile,
        offset: usize,
        shown: &str,
    ) {
        let source = self.source(e);
        let Some(r) = self.resources.get_mut(idx) else {
            return;
        };
        let declared = r.attrs.get(attr).cloned();
        let was_imported = r
            .facts
            .as_ref()
            .is_some_and(|f| f.imported.contains_key(attr));
        // A time that moves on (a last sign-in) is not a declaration to contradict.
        let comparable = !MOVING.contains(&attr);
        if let Some(d) =
            declared.filter(|d| comparable && *d != value && !was_imported && !d.is_unknown())
        {
            let declared_at = format!("{}:{}", r.span.file, r.span.line);
            let text = format!(
                "`{attr}` is declared `{}` ({declared_at}) but the {} export says `{shown}` ({})",
                show(&d),
                e.format.as_str(),
                e.at(offset)
            );
            let facts = r.facts_mut();
            facts.explain("contradictions", text);
            contradiction(r, attr);
        }
        r.set(attr, value);
        r.facts_mut().import(attr, source);
    }
}

/// Attributes that move on by themselves: a newer export replaces the declaration silently.
const MOVING: &[&str] = &["days_since_login", "downtime_minutes"];

/// A value as a message shows it.
fn show(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Long(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// Adds `attr` to the resource's `contradictions` set.
fn contradiction(r: &mut Resource, attr: &str) {
    let mut names: Vec<String> = match r.attrs.get("contradictions") {
        Some(Value::Set(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    names.push(attr.to_owned());
    r.set("contradictions", Value::string_set(names));
}

/// Marks the inventory facts of every Saas and Access resource as declared (their source is
/// the inventory file), and gives the types that can be contradicted an empty
/// `contradictions` set.
fn declare(resources: &mut [Resource]) {
    // One shared name per inventory file, whatever the number of resources declared in it.
    let inventory: std::sync::Arc<str> = "inventory".into();
    let mut files: HashMap<String, std::sync::Arc<str>> = HashMap::new();
    for r in resources.iter_mut() {
        if !(r.entity_type.starts_with("Saas::") || r.entity_type.starts_with("Access::")) {
            continue;
        }
        if CONTRADICTABLE.contains(&r.entity_type.as_str())
            && !r.attrs.contains_key("contradictions")
        {
            r.set("contradictions", Value::Set(Vec::new()));
        }
        let s = FactSource {
            origin: FactOrigin::Declared,
            format: inventory.clone(),
            file: match files.get(r.span.file.as_str()) {
                Some(f) => f.clone(),
                None => {
                    let f: std::sync::Arc<str> = r.span.file.as_str().into();
                    files.insert(r.span.file.clone(), f.clone());
                    f
                }
            },
            line: r.span.line,
            digest: None,
            collected_at: None,
            age_days: None,
            max_age_days: None,
            stale: false,
        };
        r.facts_mut().source(s);
    }
}

/// Entity types that carry `contradictions` (declared facts an export can contradict).
pub const CONTRADICTABLE: &[&str] = &[
    "Saas::IdentityProvider",
    "Saas::Application",
    "Saas::Datastore",
    "Saas::Repository",
    "Saas::Incident",
];

/// What applying the exports found besides facts.
#[derive(Debug, Default)]
pub struct Applied {
    /// An export naming something the inventory does not declare, an HR roster with unmapped
    /// statuses, …
    pub problems: Vec<Problem>,
    /// Files read as candidate exports that are none (a CSV without roster columns).
    pub unrecognised: Vec<String>,
}

/// Applies every export to the resources.
pub fn apply(
    exports: &[Arc<ExportFile>],
    settings: &Settings,
    as_of: i64,
    resources: &mut Vec<Resource>,
    user_emails: HashMap<String, String>,
) -> Applied {
    let has_inventory = resources
        .iter()
        .any(|r| r.entity_type.starts_with("Saas::") || r.entity_type.starts_with("Access::"));
    if has_inventory {
        declare(resources);
    }
    let mut j = Join::new(exports, settings, as_of, resources);
    j.user_emails = user_emails;
    people::apply(&mut j);
    backups::apply(&mut j);
    code::apply(&mut j);
    incidents::apply(&mut j);
    let mut problems = j.problems;
    for r in j.resources.iter_mut() {
        if let Some(f) = r.facts.as_mut() {
            for v in f.details.values_mut() {
                v.sort();
                v.dedup();
            }
        }
    }
    problems.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Applied {
        problems,
        unrecognised: j.unrecognised,
    }
}
