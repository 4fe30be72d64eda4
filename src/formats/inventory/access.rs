//! Access resources and the facts grants are judged by: everything a grant can name, who may
//! read, write, administer or approve it *today*, and each grant's validity window, approval
//! and ticket.
//!
//! Grants are kept as data on the resource (`readers`, `writers`, `admins`, `approvers`), with
//! group grants expanded to every member through nested groups, so one generic permit per
//! action decides a request in microseconds (see CEDAR-NOTES: template links per grant cost
//! milliseconds). A grant gives access only within its window: from `since` through `until`
//! (both inclusive) on the evaluation date.

pub mod identity;
pub mod ticket;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::InventoryFile;
use super::raw::{RawGrant, RawUser, UserStatus};
use crate::dates::toml_days;
use crate::model::{Resource, Span, Value};

pub use identity::{BadName, Directory};
pub use ticket::{AccessSettings, TicketPattern, TicketVerdict};

/// True when a grant's target (`datastore:pg-eu`, `datastore:*`, `tenant:glo*`, `*`) names
/// the resource `id`: exactly, or by the prefix before a trailing `*`.
pub fn covers(target: &str, id: &str) -> bool {
    match target.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => target == id,
    }
}

/// True when every resource `inner` can name is named by `outer` too.
fn covers_pattern(outer: &str, inner: &str) -> bool {
    match (outer.strip_suffix('*'), inner.strip_suffix('*')) {
        (Some(o), Some(i)) => i.starts_with(o),
        (Some(o), None) => inner.starts_with(o),
        (None, Some(_)) => false,
        (None, None) => outer == inner,
    }
}

/// Where a grant stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// `since` is past (or absent) and `until` not yet past (or absent).
    InForce,
    /// `until` is before the date.
    Expired,
    /// `since` is after the date.
    NotYetValid,
}

/// A grant's window on `day` (days since the epoch); `since` and `until` are inclusive.
pub fn window(since: Option<i64>, until: Option<i64>, day: i64) -> Window {
    if until.is_some_and(|u| u < day) {
        Window::Expired
    } else if since.is_some_and(|s| s > day) {
        Window::NotYetValid
    } else {
        Window::InForce
    }
}

fn grant_window(g: &RawGrant, day: i64) -> Window {
    window(
        g.since.as_ref().and_then(toml_days),
        g.until.as_ref().and_then(toml_days),
        day,
    )
}

/// Group id → every user in it, directly or through nested groups.
fn members_of(files: &[Arc<InventoryFile>]) -> BTreeMap<String, BTreeSet<String>> {
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in files {
        for g in &f.raw.group {
            parents.insert(
                g.get_ref().id.clone(),
                g.get_ref().member_of.get_ref().clone(),
            );
        }
    }
    let mut users_in: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        for u in &f.raw.user {
            let u = u.get_ref();
            // Every group the user is in, through nesting (cycles are cut by `seen`).
            let mut stack: Vec<String> = u.groups.get_ref().clone();
            let mut seen = BTreeSet::new();
            while let Some(g) = stack.pop() {
                if seen.insert(g.clone()) {
                    users_in.entry(g.clone()).or_default().insert(u.id.clone());
                    stack.extend(parents.get(&g).cloned().unwrap_or_default());
                }
            }
        }
    }
    users_in
}

/// The people a grant is held by: its user, or every member of its group.
fn holders_of(g: &RawGrant, users_in: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    match (&g.user, &g.group) {
        (Some(u), _) => std::iter::once(u.get_ref().clone()).collect(),
        (None, Some(gr)) => users_in.get(gr.get_ref()).cloned().unwrap_or_default(),
        (None, None) => BTreeSet::new(),
    }
}

/// One grant of an approving role: the holder may approve access to what `target` names while
/// the grant is in force.
#[derive(Debug, Clone)]
struct Authority {
    target: String,
    since: Option<i64>,
    until: Option<i64>,
}

/// Approval authority: user id → the approving grants they hold (`[[role]] approves = true`,
/// granted to them or to a group they are in).
fn authority(
    files: &[Arc<InventoryFile>],
    users_in: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, Vec<Authority>> {
    let approving: BTreeSet<&str> = files
        .iter()
        .flat_map(|f| f.raw.role.iter())
        .filter(|r| r.get_ref().approves)
        .map(|r| r.get_ref().id.as_str())
        .collect();
    let mut out: BTreeMap<String, Vec<Authority>> = BTreeMap::new();
    for f in files {
        for g in &f.raw.grant {
            let g = g.get_ref();
            if !approving.contains(g.role.get_ref().as_str()) {
                continue;
            }
            for user in holders_of(g, users_in) {
                out.entry(user).or_default().push(Authority {
                    target: g.resource.clone(),
                    since: g.since.as_ref().and_then(toml_days),
                    until: g.until.as_ref().and_then(toml_days),
                });
            }
        }
    }
    out
}

/// What is known about one access resource before the grants are folded in.
struct Facts {
    kind: String,
    environment: String,
    classification: String,
    tenants: BTreeSet<String>,
    span: Span,
}

/// Builds `Access::Resource` entities for every entity of the inventory a grant can name —
/// tenants, datastores, search clusters, services, applications, repositories, integrations,
/// audit-log sinks, identity providers, the cloud accounts tenants and datastores name
/// (`aws_account:<id>`) and declared `[[resource]]`s — plus every grant target not declared
/// elsewhere (with `unknown` environment and classification). Who holds each on `as_of` comes
/// from the grants in force that day.
#[expect(
    clippy::too_many_lines,
    reason = "one entry per kind of inventory entity, in one place"
)]
pub fn resources(files: &[Arc<InventoryFile>], as_of: i64) -> Vec<Resource> {
    let mut facts: BTreeMap<String, Facts> = BTreeMap::new();
    let span_of = |f: &InventoryFile, start: usize| f.lines.span(&f.path, &f.text, start, 0);
    let mut tenants_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut residency_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in files {
        for t in &f.raw.tenant {
            let t = t.get_ref();
            residency_of.insert(t.id.clone(), t.residency.clone());
            let mut holds = |id: String| {
                tenants_of.entry(id).or_default().insert(t.id.clone());
            };
            holds(format!("tenant:{}", t.id));
            for d in t.datastores.get_ref() {
                holds(format!("datastore:{d}"));
            }
            for c in t.search_clusters.get_ref() {
                holds(format!("search_cluster:{c}"));
            }
            if let Some(a) = &t.cloud_account {
                holds(format!("aws_account:{a}"));
            }
        }
    }
    let add = |facts: &mut BTreeMap<String, Facts>,
               id: String,
               kind: &str,
               environment: &str,
               classification: &str,
               span: Span| {
        let tenants = tenants_of.get(&id).cloned().unwrap_or_default();
        facts.entry(id).or_insert(Facts {
            kind: kind.to_owned(),
            environment: environment.to_owned(),
            classification: classification.to_owned(),
            tenants,
            span,
        });
    };
    for f in files {
        // Declared `[[resource]]`s first: their environment and classification win over
        // what another kind implies (an account a tenant names, say).
        for r in &f.raw.resource {
            let v = r.get_ref();
            let kind = v.id.split_once(':').map_or(v.id.as_str(), |(k, _)| k);
            add(
                &mut facts,
                v.id.clone(),
                kind,
                &v.environment,
                &v.classification,
                span_of(f, r.span().start),
            );
            if let Some(e) = facts.get_mut(&v.id) {
                e.tenants.extend(v.tenants.iter().cloned());
            }
        }
    }
    for f in files {
        for t in &f.raw.tenant {
            let v = t.get_ref();
            let span = span_of(f, t.span().start);
            add(
                &mut facts,
                format!("tenant:{}", v.id),
                "tenant",
                "production",
                "customer_data",
                span.clone(),
            );
            if let Some(a) = &v.cloud_account {
                add(
                    &mut facts,
                    format!("aws_account:{a}"),
                    "aws_account",
                    "production",
                    "customer_data",
                    span,
                );
            }
        }
        for d in &f.raw.datastore {
            let v = d.get_ref();
            let span = span_of(f, d.span().start);
            add(
                &mut facts,
                format!("datastore:{}", v.id),
                "datastore",
                &v.environment,
                &v.classification,
                span.clone(),
            );
            if let Some(a) = &v.cloud_account {
                // An account is as sensitive as the most sensitive data it holds: unknown.
                add(
                    &mut facts,
                    format!("aws_account:{a}"),
                    "aws_account",
                    "unknown",
                    "unknown",
                    span,
                );
            }
        }
        for c in &f.raw.search_cluster {
            let v = c.get_ref();
            add(
                &mut facts,
                format!("search_cluster:{}", v.id),
                "search_cluster",
                &v.environment,
                "customer_data",
                span_of(f, c.span().start),
            );
        }
        for s in &f.raw.service {
            let v = s.get_ref();
            add(
                &mut facts,
                format!("service:{}", v.id),
                "service",
                &v.environment,
                "internal",
                span_of(f, s.span().start),
            );
        }
        for a in &f.raw.application {
            let v = a.get_ref();
            let class = if v.critical_data {
                "confidential"
            } else {
                "internal"
            };
            add(
                &mut facts,
                format!("application:{}", v.id),
                "application",
                "production",
                class,
                span_of(f, a.span().start),
            );
        }
        for r in &f.raw.repository {
            let v = r.get_ref();
            add(
                &mut facts,
                format!("repository:{}", v.id),
                "repository",
                "production",
                "internal",
                span_of(f, r.span().start),
            );
        }
        for i in &f.raw.integration {
            let v = i.get_ref();
            add(
                &mut facts,
                format!("integration:{}", v.id),
                "integration",
                "production",
                "unknown",
                span_of(f, i.span().start),
            );
        }
        for a in &f.raw.audit_log {
            let v = a.get_ref();
            add(
                &mut facts,
                format!("audit_log:{}", v.id),
                "audit_log",
                "production",
                "confidential",
                span_of(f, a.span().start),
            );
        }
        for p in &f.raw.identity_provider {
            let v = p.get_ref();
            add(
                &mut facts,
                format!("identity_provider:{}", v.id),
                "identity_provider",
                "production",
                "confidential",
                span_of(f, p.span().start),
            );
        }
    }
    for f in files {
        for g in &f.raw.grant {
            let target = &g.get_ref().resource;
            if !target.ends_with('*') && !facts.contains_key(target) {
                let kind = target.split_once(':').map_or(target.as_str(), |(k, _)| k);
                add(
                    &mut facts,
                    target.clone(),
                    kind,
                    "unknown",
                    "unknown",
                    span_of(f, g.span().start),
                );
            }
        }
    }

    let users_in = members_of(files);
    let held = Held::build(files, &users_in, as_of);
    let approvers = authority(files, &users_in);
    let mut out = Vec::with_capacity(facts.len());
    for (id, fx) in facts {
        let residency: BTreeSet<String> = fx
            .tenants
            .iter()
            .flat_map(|t| residency_of.get(t).cloned().unwrap_or_default())
            .collect();
        let [readers, writers, admins] = held.on(&id);
        let may_approve = approvers
            .iter()
            .filter(|(_, grants)| {
                grants.iter().any(|a| {
                    window(a.since, a.until, as_of) == Window::InForce && covers(&a.target, &id)
                })
            })
            .map(|(user, _)| format!("user:{user}"));
        let users = |set: BTreeSet<&str>| {
            Value::entity_set("Access::User", set.into_iter().map(|u| format!("user:{u}")))
        };
        out.push(
            Resource::new("Access::Resource", id.clone(), fx.span)
                .with("kind", Value::str(fx.kind))
                .with("environment", Value::str(fx.environment.clone()))
                .with(
                    "production",
                    Value::Bool(
                        !["development", "staging", "test"].contains(&fx.environment.as_str()),
                    ),
                )
                .with(
                    "customer_data",
                    Value::Bool(
                        ["customer_data", "phi", "unknown"].contains(&fx.classification.as_str()),
                    ),
                )
                .with("classification", Value::str(fx.classification))
                .with("tenants", Value::string_set(fx.tenants))
                .with("residency", Value::string_set(residency))
                .with("readers", users(readers))
                .with("writers", users(writers))
                .with("admins", users(admins))
                .with("approvers", Value::entity_set("Access::User", may_approve)),
        );
    }
    out
}

/// Who holds which level on which grant target, from the grants in force on a date.
struct Held<'a> {
    /// Exact target → [read, write, admin] holders.
    exact: HashMap<&'a str, [BTreeSet<&'a str>; 3]>,
    /// Wildcard targets (`*`, `datastore:*`, `tenant:glo*`) → holders.
    patterns: Vec<(&'a str, [BTreeSet<&'a str>; 3])>,
}

impl<'a> Held<'a> {
    fn build(
        files: &'a [Arc<InventoryFile>],
        users_in: &'a BTreeMap<String, BTreeSet<String>>,
        as_of: i64,
    ) -> Held<'a> {
        // Role → how many levels it gives (admin implies write and read): 0 none … 3 admin.
        let mut levels: BTreeMap<&str, usize> = BTreeMap::new();
        for f in files {
            for r in &f.raw.role {
                let r = r.get_ref();
                let n = match (r.access, r.approves) {
                    // An approving role gives authority, not data access, unless it says so.
                    (None, true) => 0,
                    _ => match r.level() {
                        super::raw::AccessLevel::Read => 1,
                        super::raw::AccessLevel::Write => 2,
                        super::raw::AccessLevel::Admin => 3,
                    },
                };
                levels.insert(&r.id, n);
            }
        }
        let mut held = Held {
            exact: HashMap::new(),
            patterns: Vec::new(),
        };
        let mut pattern_index: HashMap<&str, usize> = HashMap::new();
        for f in files {
            for g in &f.raw.grant {
                let g = g.get_ref();
                let n = levels.get(g.role.get_ref().as_str()).copied().unwrap_or(0);
                if n == 0 || grant_window(g, as_of) != Window::InForce {
                    continue;
                }
                let holders: Vec<&str> = match (&g.user, &g.group) {
                    (Some(u), _) => vec![u.get_ref().as_str()],
                    (None, Some(gr)) => users_in
                        .get(gr.get_ref())
                        .map(|m| m.iter().map(String::as_str).collect())
                        .unwrap_or_default(),
                    (None, None) => Vec::new(),
                };
                let target = g.resource.as_str();
                let slot = if target.ends_with('*') {
                    let i = *pattern_index.entry(target).or_insert_with(|| {
                        held.patterns.push((target, Default::default()));
                        held.patterns.len() - 1
                    });
                    &mut held.patterns[i].1
                } else {
                    held.exact.entry(target).or_default()
                };
                // Levels are cumulative: slot 0 read, 1 write, 2 admin.
                for level in slot.iter_mut().take(n) {
                    level.extend(holders.iter().copied());
                }
            }
        }
        held
    }

    /// [readers, writers, admins] of one resource. An admin is also listed as writer and
    /// reader (the grant permits read any of the three sets).
    fn on(&self, id: &str) -> [BTreeSet<&'a str>; 3] {
        let mut out: [BTreeSet<&str>; 3] = Default::default();
        let exact = self.exact.get(id).into_iter();
        let wild = self
            .patterns
            .iter()
            .filter(|(p, _)| covers(p, id))
            .map(|(_, h)| h);
        for sets in exact.chain(wild) {
            for (o, s) in out.iter_mut().zip(sets) {
                o.extend(s.iter().copied());
            }
        }
        out
    }
}

/// Every name a person goes by, for approver matching: their id and their email.
pub fn names_of(u: &RawUser) -> Vec<&str> {
    std::iter::once(u.id.as_str())
        .chain(u.email.as_deref())
        .collect()
}

/// The folded names of a person (the `aliases` attribute); an id or email with an invisible
/// character is an error (it would let one person pass for two).
pub fn aliases(u: &RawUser) -> Result<Value, (String, BadName)> {
    let mut out = Vec::new();
    for name in names_of(u) {
        match identity::fold(name) {
            Ok(f) => out.push(f),
            Err(bad @ BadName::Invisible(_)) => return Err((name.to_owned(), bad)),
            Err(_) => {}
        }
    }
    Ok(Value::string_set(out))
}

/// Everything a grant is judged by that needs the other entries: its window on the
/// evaluation date, its approval (who approved, whether that person was active and held
/// approval authority for the grant's target when it was approved) and its ticket.
pub struct GrantJudge<'a> {
    as_of: i64,
    settings: &'a AccessSettings,
    directory: Directory,
    users: BTreeMap<&'a str, &'a RawUser>,
    authority: BTreeMap<String, Vec<Authority>>,
}

impl<'a> GrantJudge<'a> {
    pub fn new(files: &'a [Arc<InventoryFile>], as_of: i64, settings: &'a AccessSettings) -> Self {
        let mut directory = Directory::default();
        let mut users = BTreeMap::new();
        for f in files {
            for u in &f.raw.user {
                let u = u.get_ref();
                directory.add(&u.id, names_of(u));
                users.insert(u.id.as_str(), u);
            }
        }
        let users_in = members_of(files);
        GrantJudge {
            as_of,
            settings,
            directory,
            users,
            authority: authority(files, &users_in),
        }
    }

    /// The grant's derived attributes. `holder` is the user id for a user's grant.
    pub fn attributes(&self, g: &RawGrant, holder: Option<&str>) -> Vec<(&'static str, Value)> {
        let since = g.since.as_ref().and_then(toml_days);
        let until = g.until.as_ref().and_then(toml_days);
        let state = window(since, until, self.as_of);
        let mut out = vec![
            ("in_force", Value::Bool(state == Window::InForce)),
            ("expired", Value::Bool(state == Window::Expired)),
            ("not_yet_valid", Value::Bool(state == Window::NotYetValid)),
        ];
        // Unused since the last use, or since the grant started when it was never used: a
        // grant younger than the bound is not unused.
        let last_used = g.last_used.as_ref().and_then(toml_days);
        match last_used.or(since) {
            Some(d) => out.push(("days_unused", Value::Long((self.as_of - d).max(0)))),
            None => out.push((
                "days_unused",
                Value::unknown("the grant records neither `last_used` nor `since`"),
            )),
        }
        let ticket = g.ticket.as_deref().unwrap_or_default();
        out.push((
            "ticket_valid",
            Value::Bool(self.settings.ticket_pattern.judge(ticket) == TicketVerdict::Valid),
        ));
        // The approval is judged on the day it was given: the grant's start (or, without
        // one, the evaluation date).
        let approved_on = since.unwrap_or(self.as_of);
        let approval = self.approval(
            g.approved_by.as_deref().unwrap_or_default(),
            &g.resource,
            approved_on,
        );
        out.push((
            "self_approved",
            Value::Bool(holder.is_some_and(|h| approval.user == h)),
        ));
        out.push(("approver_user", Value::str(approval.user)));
        out.push(("approver_invisible", Value::Bool(approval.invisible)));
        out.push(("approver_authorized", Value::Bool(approval.authorized)));
        out.push(("approver_active_known", Value::Bool(approval.active_known)));
        out.push(("approver_active", Value::Bool(approval.active)));
        out
    }

    /// Judges `approver` for access to `target` on day `on`.
    pub fn approval(&self, approver: &str, target: &str, on: i64) -> Approval {
        let user = match self.directory.resolve(approver) {
            identity::Resolved::Person(id) => id,
            identity::Resolved::Bad(BadName::Invisible(_)) => {
                return Approval {
                    invisible: true,
                    ..Approval::default()
                };
            }
            _ => return Approval::default(),
        };
        let Some(u) = self.users.get(user.as_str()) else {
            return Approval::default();
        };
        let end = u.employment_end.as_ref().and_then(toml_days);
        // Active on the day: employment not yet ended then, and the account active — known
        // only while it is active now, or when it ended before the day anyway.
        let (active_known, active) = match (end, u.status) {
            (Some(e), _) if e <= on => (true, false),
            (_, UserStatus::Active) => (true, true),
            _ if on >= self.as_of => (true, false),
            _ => (false, false),
        };
        let authorized = self.authority.get(&user).is_some_and(|grants| {
            grants.iter().any(|a| {
                window(a.since, a.until, on) == Window::InForce && covers_pattern(&a.target, target)
            })
        });
        Approval {
            user,
            invisible: false,
            active_known,
            active,
            authorized,
        }
    }
}

/// An approval judged: who approved (the person's id, empty when nobody could be identified)
/// and whether they could.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approval {
    pub user: String,
    /// The approver's name contains an invisible character.
    pub invisible: bool,
    /// Whether the approver's activity on the day is known (a disabled account without an
    /// `employment_end` leaves a past approval undetermined).
    pub active_known: bool,
    pub active: bool,
    /// The approver held approval authority for the target on the day.
    pub authorized: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_resources_exactly_or_by_prefix() {
        assert!(covers("*", "tenant:globex"));
        assert!(covers("tenant:*", "tenant:globex"));
        assert!(covers("tenant:glo*", "tenant:globex"));
        assert!(covers("datastore:pg", "datastore:pg"));
        assert!(!covers("datastore:pg", "datastore:pg-eu"));
        assert!(!covers("tenant:*", "datastore:pg"));
        assert!(covers_pattern("*", "datastore:*"));
        assert!(covers_pattern("datastore:*", "datastore:pg-*"));
        assert!(covers_pattern("datastore:*", "datastore:pg"));
        assert!(!covers_pattern("datastore:pg", "datastore:*"));
        assert!(!covers_pattern("tenant:*", "datastore:pg"));
    }

    #[test]
    fn a_grant_is_in_force_from_since_through_until() {
        let (since, until) = (Some(10), Some(20));
        assert_eq!(window(since, until, 9), Window::NotYetValid);
        assert_eq!(window(since, until, 10), Window::InForce);
        assert_eq!(window(since, until, 20), Window::InForce);
        assert_eq!(window(since, until, 21), Window::Expired);
        assert_eq!(window(None, None, 0), Window::InForce);
        assert_eq!(window(None, Some(5), 6), Window::Expired);
    }
}
