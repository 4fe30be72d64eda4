//! Access resources: everything a grant can name, with who may read, write or administer it.
//!
//! Grants are kept as data on the resource (`readers`, `writers`, `admins`), with group grants
//! expanded to every member through nested groups, so one generic permit per action decides a
//! request in microseconds (see CEDAR-NOTES: template links per grant cost milliseconds).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::InventoryFile;
use crate::model::{Resource, Span, Value};

/// What is known about one access resource before the grants are folded in.
struct Facts {
    kind: String,
    environment: String,
    classification: String,
    tenants: BTreeSet<String>,
    span: Span,
}

/// Builds `Access::Resource` entities for every datastore, search cluster, service,
/// application, repository and declared `[[resource]]`, plus every grant target not declared
/// elsewhere (with `unknown` environment and classification).
pub fn resources(files: &[Arc<InventoryFile>]) -> Vec<Resource> {
    let mut facts: BTreeMap<String, Facts> = BTreeMap::new();
    let span_of = |f: &InventoryFile, start: usize| f.lines.span(&f.path, &f.text, start, 0);
    let mut tenants_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut residency_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in files {
        for t in &f.raw.tenant {
            let t = t.get_ref();
            residency_of.insert(t.id.clone(), t.residency.clone());
            for d in t.datastores.get_ref() {
                tenants_of
                    .entry(format!("datastore:{d}"))
                    .or_default()
                    .insert(t.id.clone());
            }
            for c in t.search_clusters.get_ref() {
                tenants_of
                    .entry(format!("search_cluster:{c}"))
                    .or_default()
                    .insert(t.id.clone());
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
        for d in &f.raw.datastore {
            let v = d.get_ref();
            add(
                &mut facts,
                format!("datastore:{}", v.id),
                "datastore",
                &v.environment,
                &v.classification,
                span_of(f, d.span().start),
            );
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
        for g in &f.raw.grant {
            let target = &g.get_ref().resource;
            if target != "*" && !target.ends_with(":*") && !facts.contains_key(target) {
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

    let holders = holders(files);
    let mut out = Vec::with_capacity(facts.len());
    for (id, fx) in facts {
        let residency: BTreeSet<String> = fx
            .tenants
            .iter()
            .flat_map(|t| residency_of.get(t).cloned().unwrap_or_default())
            .collect();
        let who = |action: &str| -> BTreeSet<String> {
            let mut users = BTreeSet::new();
            let kind_wildcard = format!("{}:*", fx.kind);
            for key in [id.as_str(), kind_wildcard.as_str(), "*"] {
                if let Some(by_action) = holders.get(key) {
                    for a in [action, "*"] {
                        users.extend(by_action.get(a).cloned().unwrap_or_default());
                    }
                }
            }
            users
        };
        let (readers, writers, admins) = (who("read"), who("write"), who("admin"));
        let users = |set: BTreeSet<String>| {
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
                .with("admins", users(admins)),
        );
    }
    out
}

/// resource id (or `*`) → action (or `*`) → user ids holding it, group grants expanded.
fn holders(files: &[Arc<InventoryFile>]) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut role_level: BTreeMap<&str, &'static str> = BTreeMap::new();
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut users_in: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        for r in &f.raw.role {
            role_level.insert(&r.get_ref().id, r.get_ref().level().as_str());
        }
        for g in &f.raw.group {
            parents.insert(
                g.get_ref().id.clone(),
                g.get_ref().member_of.get_ref().clone(),
            );
        }
    }
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
    let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for f in files {
        for g in &f.raw.grant {
            let g = g.get_ref();
            let members: BTreeSet<String> = match (&g.user, &g.group) {
                (Some(u), _) => std::iter::once(u.get_ref().clone()).collect(),
                (None, Some(gr)) => users_in.get(gr.get_ref()).cloned().unwrap_or_default(),
                (None, None) => BTreeSet::new(),
            };
            // A level implies the ones below it (admin can write and read).
            let levels: &[&str] = match role_level.get(g.role.get_ref().as_str()).copied() {
                Some("admin") => &["admin", "write", "read"],
                Some("write") => &["write", "read"],
                Some(_) => &["read"],
                None => &[],
            };
            for a in levels {
                out.entry(g.resource.clone())
                    .or_default()
                    .entry((*a).to_owned())
                    .or_default()
                    .extend(members.iter().cloned());
            }
        }
    }
    out
}
