//! Turns merged inventory entries into resources and computes the derived facts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;
use toml::Spanned;

use super::raw::{Requirement, UserStatus};
use super::residency::region_allowed;
use super::{InventoryFile, LoadContext};
use crate::dates::toml_days;
use crate::error::Problem;
use crate::model::{Resource, Span, Value};

/// Inventory id → something, for lookups only (never iterated: its order is the hash's).
type ById<'a, V> = std::collections::HashMap<&'a str, V, foldhash::fast::RandomState>;

/// An entry with the file it came from.
struct At<'a, T> {
    file: &'a InventoryFile,
    item: &'a Spanned<T>,
}

impl<T> At<'_, T> {
    fn span(&self) -> Span {
        let r = self.item.span();
        self.file
            .lines
            .span(&self.file.path, &self.file.text, r.start, 0)
    }

    fn get(&self) -> &T {
        self.item.get_ref()
    }

    fn problem_at<U>(&self, spanned: &Spanned<U>, message: String, label: &str) -> Problem {
        let r = spanned.span();
        Problem::parse(
            &self.file.path,
            &self.file.text,
            r.start,
            r.len(),
            message,
            label,
        )
    }
}

fn collect<'a, T>(
    files: &'a [Arc<InventoryFile>],
    pick: impl Fn(&'a InventoryFile) -> &'a [Spanned<T>],
) -> Vec<At<'a, T>> {
    files
        .iter()
        .flat_map(|f| pick(f).iter().map(move |item| At { file: f, item }))
        .collect()
}

/// Days from `date` to `as_of` (0 for a date in the future).
fn age(as_of: i64, date: Option<&toml::value::Datetime>) -> Option<i64> {
    date.and_then(toml_days).map(|d| (as_of - d).max(0))
}

/// Builds resources from every inventory file at once.
pub struct Builder<'a> {
    files: &'a [Arc<InventoryFile>],
    as_of: i64,
    access: &'a super::access::AccessSettings,
    problems: Vec<Problem>,
    out: Vec<Resource>,
}

impl<'a> Builder<'a> {
    pub fn new(files: &'a [Arc<InventoryFile>], ctx: &'a LoadContext) -> Self {
        Builder {
            files,
            as_of: ctx.as_of_days,
            access: &ctx.access,
            problems: Vec::new(),
            out: Vec::new(),
        }
    }

    fn age(&self, date: Option<&toml::value::Datetime>) -> Option<i64> {
        age(self.as_of, date)
    }

    /// Reports ids declared twice within one kind.
    fn check_unique<T>(&mut self, kind: &str, items: &[At<'_, T>], id: impl Fn(&T) -> &str) {
        let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
        for it in items {
            let key = id(it.get());
            if seen.insert(key, ()).is_some() {
                let r = it.item.span();
                self.problems.push(
                    Problem::parse(
                        &it.file.path,
                        &it.file.text,
                        r.start,
                        0,
                        format!("{kind} `{key}` is declared more than once"),
                        "second declaration",
                    )
                    .with_help("ids must be unique across all inventory files"),
                );
            }
        }
    }

    pub fn build(mut self) -> (Vec<Resource>, Vec<Problem>) {
        let files = self.files;
        self.organization(files);
        self.identity(files);
        self.tenancy(files);
        self.operations(files);
        self.access(files);
        self.out.extend(super::access::resources(files, self.as_of));
        self.out
            .sort_by(|a, b| (&a.entity_type, &a.address).cmp(&(&b.entity_type, &b.address)));
        (self.out, self.problems)
    }

    fn organization(&mut self, files: &'a [Arc<InventoryFile>]) {
        let orgs: Vec<_> = files
            .iter()
            .filter_map(|f| f.raw.organization.as_ref().map(|o| At { file: f, item: o }))
            .collect();
        if orgs.len() > 1 {
            let r = orgs[1].item.span();
            self.problems.push(Problem::parse(
                &orgs[1].file.path,
                &orgs[1].file.text,
                r.start,
                0,
                "`[organization]` is declared in more than one inventory file".to_owned(),
                "second declaration",
            ));
        }
        let break_glass = collect(files, |f| &f.raw.user)
            .iter()
            .filter(|u| u.get().break_glass && u.get().status == UserStatus::Active)
            .count();
        if let Some(o) = orgs.first() {
            let v = o.get();
            let mut r = Resource::new(
                "Saas::Organization",
                format!("organization:{}", v.name),
                o.span(),
            )
            .with("has_dr_plan", Value::Bool(v.dr_plan))
            .with(
                "break_glass_accounts",
                Value::Long(i64::try_from(break_glass).unwrap_or(i64::MAX)),
            )
            .with(
                "break_glass_monitored",
                Value::Bool(v.break_glass_monitored),
            );
            if let Some(d) = self.age(v.last_access_review.as_ref()) {
                r.set("days_since_access_review", Value::Long(d));
            }
            if let Some(d) = self.age(v.last_dr_exercise.as_ref()) {
                r.set("days_since_dr_exercise", Value::Long(d));
            }
            self.out.push(r);
        }
    }

    fn identity(&mut self, files: &'a [Arc<InventoryFile>]) {
        let idps = collect(files, |f| &f.raw.identity_provider);
        self.check_unique("identity provider", &idps, |v| &v.id);
        for it in &idps {
            let v = it.get();
            let mut r = Resource::new(
                "Saas::IdentityProvider",
                format!("identity_provider:{}", v.id),
                it.span(),
            )
            .with("sso_enforced", Value::Bool(v.sso_enforced))
            .with("mfa", Value::str(v.mfa.as_str()))
            .with(
                "admin_mfa",
                Value::str(v.admin_mfa.unwrap_or(v.mfa).as_str()),
            )
            .with("scim_enabled", Value::Bool(v.scim.enabled))
            .with("local_password_login", Value::Bool(v.local_password_login));
            if let Some(h) = v.scim.deprovision_within_hours {
                r.set("deprovision_within_hours", Value::Long(h));
            }
            if let Some(m) = v.session_timeout_minutes {
                r.set("session_timeout_minutes", Value::Long(m));
            }
            self.out.push(r);
        }
        let apps = collect(files, |f| &f.raw.application);
        self.check_unique("application", &apps, |v| &v.id);
        for it in &apps {
            let v = it.get();
            self.out.push(
                Resource::new(
                    "Saas::Application",
                    format!("application:{}", v.id),
                    it.span(),
                )
                .with("critical_data", Value::Bool(v.critical_data))
                .with("sso", Value::Bool(v.sso))
                .with("scim", Value::Bool(v.scim)),
            );
        }
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one pass over the tenancy graph reads best in one place"
    )]
    fn tenancy(&mut self, files: &'a [Arc<InventoryFile>]) {
        let tiers = collect(files, |f| &f.raw.tier);
        let tenants = collect(files, |f| &f.raw.tenant);
        let datastores = collect(files, |f| &f.raw.datastore);
        let clusters = collect(files, |f| &f.raw.search_cluster);
        let services = collect(files, |f| &f.raw.service);
        self.check_unique("tier", &tiers, |v| &v.id);
        self.check_unique("tenant", &tenants, |v| &v.id);
        self.check_unique("datastore", &datastores, |v| &v.id);
        self.check_unique("search cluster", &clusters, |v| &v.id);

        let tier_reqs: BTreeMap<&str, &[Requirement]> = tiers
            .iter()
            .map(|t| (t.get().id.as_str(), t.get().requires.as_slice()))
            .collect();
        let ds_by_id: BTreeMap<&str, &At<'_, _>> = datastores
            .iter()
            .map(|d| (d.get().id.as_str(), d))
            .collect();
        let cl_by_id: BTreeMap<&str, &At<'_, _>> =
            clusters.iter().map(|c| (c.get().id.as_str(), c)).collect();

        // Which tenants use each datastore / cluster, and their residencies.
        let mut ds_tenants: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut cl_tenants: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut residency_of: BTreeMap<&str, String> = BTreeMap::new();
        for t in &tenants {
            let v = t.get();
            let mut res = v.residency.clone();
            res.sort();
            residency_of.insert(
                v.id.as_str(),
                if res.is_empty() {
                    "any".to_owned()
                } else {
                    res.join("+")
                },
            );
            for ds in v.datastores.get_ref() {
                ds_tenants
                    .entry(ds.as_str())
                    .or_default()
                    .insert(v.id.as_str());
            }
            for cl in v.search_clusters.get_ref() {
                cl_tenants
                    .entry(cl.as_str())
                    .or_default()
                    .insert(v.id.as_str());
            }
        }
        let reported: BTreeSet<&str> = services
            .iter()
            .flat_map(|s| s.get().tenant_uptime_reports.iter().map(String::as_str))
            .collect();

        for t in &tenants {
            let v = t.get();
            if !tier_reqs.contains_key(v.tier.get_ref().as_str()) && !tiers.is_empty() {
                self.problems.push(t.problem_at(
                    &v.tier,
                    format!(
                        "tenant `{}` names tier `{}`, which no `[[tier]]` declares",
                        v.id,
                        v.tier.get_ref()
                    ),
                    "unknown tier",
                ));
            }
            let mut reqs: BTreeSet<Requirement> = v.requires.iter().copied().collect();
            reqs.extend(
                tier_reqs
                    .get(v.tier.get_ref().as_str())
                    .copied()
                    .unwrap_or_default()
                    .iter()
                    .copied(),
            );
            let requires_key = reqs.contains(&Requirement::CustomerKey);
            let requires_account = reqs.contains(&Requirement::DedicatedAccount);
            let requires_db = requires_account || reqs.contains(&Requirement::DedicatedDatabase);

            let mut outside_residency = BTreeSet::new();
            let mut without_key = BTreeSet::new();
            let mut shared = BTreeSet::new();
            let mut outside_account = BTreeSet::new();
            let key_ok =
                |k: Option<&String>| v.customer_key.is_some() && k == v.customer_key.as_ref();
            let account_ok =
                |a: Option<&String>| v.cloud_account.is_some() && a == v.cloud_account.as_ref();

            for ds_id in v.datastores.get_ref() {
                let Some(ds) = ds_by_id.get(ds_id.as_str()) else {
                    self.problems.push(t.problem_at(
                        &v.datastores,
                        format!("tenant `{}` names datastore `{ds_id}`, which no `[[datastore]]` declares", v.id),
                        "unknown datastore",
                    ));
                    continue;
                };
                let d = ds.get();
                if !region_allowed(&d.region, &v.residency) {
                    outside_residency.insert(d.id.clone());
                }
                for copy in &d.backup.copies {
                    if !region_allowed(copy, &v.residency) {
                        outside_residency.insert(format!("{}/backup:{copy}", d.id));
                    }
                }
                if !key_ok(d.encryption_key.as_ref()) {
                    without_key.insert(d.id.clone());
                }
                if d.backup.enabled
                    && !key_ok(
                        d.backup
                            .encryption_key
                            .as_ref()
                            .or(d.encryption_key.as_ref()),
                    )
                {
                    without_key.insert(format!("{}/backup", d.id));
                }
                if ds_tenants.get(d.id.as_str()).is_some_and(|s| s.len() > 1) {
                    shared.insert(d.id.clone());
                }
                if !account_ok(d.cloud_account.as_ref()) {
                    outside_account.insert(d.id.clone());
                }
            }
            for cl_id in v.search_clusters.get_ref() {
                let Some(cl) = cl_by_id.get(cl_id.as_str()) else {
                    self.problems.push(t.problem_at(
                        &v.search_clusters,
                        format!("tenant `{}` names search cluster `{cl_id}`, which no `[[search_cluster]]` declares", v.id),
                        "unknown search cluster",
                    ));
                    continue;
                };
                let c = cl.get();
                if !region_allowed(&c.region, &v.residency) {
                    outside_residency.insert(c.id.clone());
                }
                if !key_ok(c.encryption_key.as_ref()) {
                    without_key.insert(c.id.clone());
                }
                if cl_tenants.get(c.id.as_str()).is_some_and(|s| s.len() > 1) {
                    shared.insert(c.id.clone());
                }
                if !account_ok(c.cloud_account.as_ref()) {
                    outside_account.insert(c.id.clone());
                }
            }
            let mut r = Resource::new("Saas::Tenant", format!("tenant:{}", v.id), t.span())
                .with("tier", Value::str(v.tier.get_ref()))
                .with("isolation", Value::str(v.isolation.as_str()))
                .with("residency", Value::string_set(v.residency.iter().cloned()))
                .with("requires_customer_key", Value::Bool(requires_key))
                .with("requires_dedicated_database", Value::Bool(requires_db))
                .with("requires_dedicated_account", Value::Bool(requires_account))
                .with(
                    "resources_outside_residency",
                    Value::string_set(outside_residency),
                )
                .with(
                    "resources_without_customer_key",
                    Value::string_set(if requires_key {
                        without_key
                    } else {
                        BTreeSet::new()
                    }),
                )
                .with("shared_resources", Value::string_set(shared))
                .with(
                    "resources_outside_account",
                    Value::string_set(if requires_account {
                        outside_account
                    } else {
                        BTreeSet::new()
                    }),
                )
                .with(
                    "uptime_reporting",
                    Value::Bool(reqs.contains(&Requirement::UptimeReporting)),
                )
                .with(
                    "uptime_reported",
                    Value::Bool(reported.contains(v.id.as_str())),
                );
            for (name, val) in [
                ("shard", &v.shard),
                ("region", &v.region),
                ("customer_key", &v.customer_key),
                ("cloud_account", &v.cloud_account),
            ] {
                if let Some(s) = val {
                    r.set(name, Value::str(s));
                }
            }
            self.out.push(r);
        }

        let residencies = |tenants: Option<&BTreeSet<&str>>| -> BTreeSet<String> {
            tenants
                .into_iter()
                .flatten()
                .filter_map(|t| residency_of.get(t).cloned())
                .collect()
        };
        for ds in &datastores {
            let d = ds.get();
            let tenants_of = ds_tenants.get(d.id.as_str());
            let res = residencies(tenants_of);
            let mut r = Resource::new("Saas::Datastore", format!("datastore:{}", d.id), ds.span())
                .with("engine", Value::str(&d.engine))
                .with("environment", Value::str(&d.environment))
                .with("region", Value::str(&d.region))
                .with("encrypted", Value::Bool(d.encrypted))
                .with("public", Value::Bool(d.public))
                .with("backup_enabled", Value::Bool(d.backup.enabled))
                .with(
                    "backup_retention_days",
                    Value::Long(d.backup.retention_days),
                )
                .with(
                    "backup_copy_regions",
                    Value::string_set(d.backup.copies.iter().cloned()),
                )
                .with(
                    "backup_encrypted",
                    Value::Bool(d.backup.enabled && d.backup.encrypted.unwrap_or(d.encrypted)),
                )
                .with(
                    "tenants",
                    Value::string_set(tenants_of.into_iter().flatten().copied()),
                )
                .with("mixes_residency", Value::Bool(res.len() > 1))
                .with("tenant_residencies", Value::string_set(res));
            if let Some(k) = &d.encryption_key {
                r.set("encryption_key", Value::str(k));
            }
            if let Some(a) = &d.cloud_account {
                r.set("cloud_account", Value::str(a));
            }
            if let Some(age) = self.age(d.last_restore_test.as_ref()) {
                r.set("days_since_restore_test", Value::Long(age));
            }
            self.out.push(r);
        }
        for cl in &clusters {
            let c = cl.get();
            let tenants_of = cl_tenants.get(c.id.as_str());
            let res = residencies(tenants_of);
            let mut r = Resource::new(
                "Saas::SearchCluster",
                format!("search_cluster:{}", c.id),
                cl.span(),
            )
            .with("region", Value::str(&c.region))
            .with("environment", Value::str(&c.environment))
            .with("encrypted", Value::Bool(c.encrypted))
            .with("public", Value::Bool(c.public))
            .with(
                "tenants",
                Value::string_set(tenants_of.into_iter().flatten().copied()),
            )
            .with("mixes_residency", Value::Bool(res.len() > 1))
            .with("tenant_residencies", Value::string_set(res));
            if let Some(k) = &c.encryption_key {
                r.set("encryption_key", Value::str(k));
            }
            if let Some(a) = &c.cloud_account {
                r.set("cloud_account", Value::str(a));
            }
            self.out.push(r);
        }
    }

    fn operations(&mut self, files: &'a [Arc<InventoryFile>]) {
        let services = collect(files, |f| &f.raw.service);
        self.check_unique("service", &services, |v| &v.id);
        let service_ids: BTreeSet<&str> = services.iter().map(|s| s.get().id.as_str()).collect();
        for it in &services {
            let v = it.get();
            let mut r = Resource::new("Saas::Service", format!("service:{}", v.id), it.span())
                .with("customer_facing", Value::Bool(v.customer_facing))
                .with(
                    "uptime_monitor",
                    Value::Bool(
                        v.uptime_monitor
                            .as_deref()
                            .is_some_and(|m| !m.trim().is_empty()),
                    ),
                )
                .with("environment", Value::str(&v.environment));
            if let Some(s) = &v.slo {
                r.set("slo", Value::str(s));
            }
            if let Some(t) = &v.tls_min_version {
                r.set("tls_min_version", Value::str(t));
            }
            self.out.push(r);
        }
        let incidents = collect(files, |f| &f.raw.incident);
        self.check_unique("incident", &incidents, |v| &v.id);
        for it in &incidents {
            let v = it.get();
            if !service_ids.contains(v.service.get_ref().as_str()) {
                self.problems.push(it.problem_at(
                    &v.service,
                    format!(
                        "incident `{}` names service `{}`, which no `[[service]]` declares",
                        v.id,
                        v.service.get_ref()
                    ),
                    "unknown service",
                ));
            }
            let mut r = Resource::new("Saas::Incident", format!("incident:{}", v.id), it.span())
                .with("service", Value::str(v.service.get_ref()))
                .with("downtime_minutes", Value::Long(v.downtime_minutes))
                .with("postmortem", Value::Bool(v.postmortem));
            if let Some(c) = v.cause.as_deref().filter(|c| !c.trim().is_empty()) {
                r.set("cause", Value::str(c));
            }
            self.out.push(r);
        }
        let integrations = collect(files, |f| &f.raw.integration);
        self.check_unique("integration", &integrations, |v| &v.id);
        for it in &integrations {
            let v = it.get();
            self.out.push(
                Resource::new(
                    "Saas::Integration",
                    format!("integration:{}", v.id),
                    it.span(),
                )
                .with("approved", Value::Bool(v.approved))
                .with("category", Value::str(&v.category))
                .with(
                    "data_access",
                    Value::string_set(v.data_access.iter().cloned()),
                )
                .with("baa_signed", Value::Bool(v.baa_signed)),
            );
        }
        let sinks = collect(files, |f| &f.raw.audit_log);
        self.check_unique("audit log", &sinks, |v| &v.id);
        for it in &sinks {
            let v = it.get();
            self.out.push(
                Resource::new(
                    "Saas::AuditLogSink",
                    format!("audit_log:{}", v.id),
                    it.span(),
                )
                .with("source", Value::str(&v.source))
                .with(
                    "siem_export",
                    Value::Bool(v.siem.as_deref().is_some_and(|s| !s.trim().is_empty())),
                )
                .with("retention_days", Value::Long(v.retention_days))
                .with("immutable", Value::Bool(v.immutable)),
            );
        }
        let repos = collect(files, |f| &f.raw.repository);
        self.check_unique("repository", &repos, |v| &v.id);
        for it in &repos {
            let v = it.get();
            self.out.push(
                Resource::new(
                    "Saas::Repository",
                    format!("repository:{}", v.id),
                    it.span(),
                )
                .with("infrastructure", Value::Bool(v.infrastructure))
                .with(
                    "protected_default_branch",
                    Value::Bool(v.protected_default_branch),
                )
                .with("required_reviews", Value::Long(v.required_reviews))
                .with("signed_commits", Value::Bool(v.signed_commits)),
            );
        }
    }

    #[expect(
        clippy::too_many_lines,
        reason = "users, groups, roles and grants are derived together"
    )]
    fn access(&mut self, files: &'a [Arc<InventoryFile>]) {
        let users = collect(files, |f| &f.raw.user);
        let groups = collect(files, |f| &f.raw.group);
        let org = files
            .iter()
            .find_map(|f| f.raw.organization.as_ref().map(|o| o.get_ref()));
        let inactive_after = org
            .and_then(|o| o.inactive_after_days)
            .unwrap_or(90)
            .clamp(0, 36_500);
        let unused_after = org
            .and_then(|o| o.unused_after_days)
            .unwrap_or(90)
            .clamp(0, 36_500);
        let roles = collect(files, |f| &f.raw.role);
        let grants = collect(files, |f| &f.raw.grant);
        let sods = collect(files, |f| &f.raw.separation_of_duties);
        self.check_unique("user", &users, |v| &v.id);
        self.check_unique("group", &groups, |v| &v.id);
        self.check_unique("role", &roles, |v| &v.id);

        let group_ids: BTreeSet<&str> = groups.iter().map(|g| g.get().id.as_str()).collect();
        let role_by_id: BTreeMap<&str, &super::raw::RawRole> = roles
            .iter()
            .map(|r| (r.get().id.as_str(), r.get()))
            .collect();
        // Looked up once per grant (50,000 on a large inventory): hashed, never iterated.
        let user_by_id: ById<&super::raw::RawUser> = users
            .iter()
            .map(|u| (u.get().id.as_str(), u.get()))
            .collect();

        for g in &groups {
            let v = g.get();
            let mut r = Resource::new("Access::Group", format!("group:{}", v.id), g.span());
            for parent in v.member_of.get_ref() {
                if group_ids.contains(parent.as_str()) {
                    r.parents
                        .push(("Access::Group".to_owned(), format!("group:{parent}")));
                } else {
                    self.problems.push(g.problem_at(
                        &v.member_of,
                        format!(
                            "group `{}` is nested in `{parent}`, which no `[[group]]` declares",
                            v.id
                        ),
                        "unknown group",
                    ));
                }
            }
            self.out.push(r);
        }

        // Roles each user holds (directly), for grant counts and separation of duties.
        let mut held: ById<BTreeSet<&str>> = ById::default();
        let mut grant_count: ById<i64> = ById::default();
        for g in &grants {
            let v = g.get();
            if let Some(u) = &v.user {
                held.entry(u.get_ref().as_str())
                    .or_default()
                    .insert(v.role.get_ref().as_str());
                *grant_count.entry(u.get_ref().as_str()).or_default() += 1;
            }
        }
        let sod_pairs: Vec<BTreeSet<&str>> = sods
            .iter()
            .map(|s| s.get().roles.get_ref().iter().map(String::as_str).collect())
            .collect();
        for s in &sods {
            for role in s.get().roles.get_ref() {
                if !role_by_id.contains_key(role.as_str()) {
                    self.problems.push(s.problem_at(
                        &s.get().roles,
                        format!(
                            "separation of duties names role `{role}`, which no `[[role]]` declares"
                        ),
                        "unknown role",
                    ));
                }
            }
        }

        // Users and grants are the bulk of a large inventory: built in parallel, kept in order.
        let as_of = self.as_of;
        let built: Vec<(Resource, Vec<Problem>)> = users
            .par_iter()
            .map(|u| {
                let v = u.get();
                let mut problems = Vec::new();
                let end = v.employment_end.as_ref().and_then(toml_days);
                let ended = end.is_some_and(|e| e <= as_of);
                let mut r = Resource::new("Access::User", format!("user:{}", v.id), u.span())
                    .with("status", Value::str(v.status.as_str()))
                    .with("employment_ended", Value::Bool(ended))
                    .with(
                        "days_since_employment_end",
                        Value::Long(end.filter(|_| ended).map_or(0, |e| as_of - e)),
                    )
                    .with("mfa", Value::Bool(v.mfa))
                    .with("admin", Value::Bool(v.admin))
                    .with("break_glass", Value::Bool(v.break_glass))
                    .with(
                        "grant_count",
                        Value::Long(grant_count.get(v.id.as_str()).copied().unwrap_or(0)),
                    )
                    .with("login", Value::str(&v.id))
                    .with("inactive_after_days", Value::Long(inactive_after))
                    .with(
                        "support_rotations",
                        Value::string_set(v.support_rotation.iter().cloned()),
                    );
                if let Some(d) = age(as_of, v.last_login.as_ref()) {
                    r.set("days_since_login", Value::Long(d));
                }
                match super::access::aliases(v) {
                    Ok(names) => r.set("aliases", names),
                    Err((name, bad)) => problems.push(u.problem_at(
                        u.item,
                        format!("user `{}` has the name `{name}`, which {}", v.id, bad.describe().replacen("it ", "", 1)),
                        "this user",
                    ).with_help("remove the invisible character: a name that looks like another person's must not be a different person")),
                }
                if let Some(reg) = &v.region {
                    r.set("region", Value::str(reg));
                }
                for g in v.groups.get_ref() {
                    if group_ids.contains(g.as_str()) {
                        r.parents
                            .push(("Access::Group".to_owned(), format!("group:{g}")));
                    } else {
                        problems.push(u.problem_at(
                            &v.groups,
                            format!(
                                "user `{}` is in group `{g}`, which no `[[group]]` declares",
                                v.id
                            ),
                            "unknown group",
                        ));
                    }
                }
                (r, problems)
            })
            .collect();
        for (r, problems) in built {
            self.out.push(r);
            self.problems.extend(problems);
        }

        for it in &roles {
            let v = it.get();
            self.out.push(
                Resource::new("Access::Role", format!("role:{}", v.id), it.span())
                    .with("privileged", Value::Bool(v.privileged))
                    .with("actions", Value::string_set(v.actions.iter().cloned()))
                    .with("wildcard", Value::Bool(v.actions.iter().any(|a| a == "*"))),
            );
        }

        let mut grant_addresses: std::collections::HashSet<String, foldhash::fast::RandomState> =
            std::collections::HashSet::default();
        let mut valid = Vec::with_capacity(grants.len());
        for g in &grants {
            let v = g.get();
            let role = v.role.get_ref().as_str();
            if !role_by_id.contains_key(role) {
                self.problems.push(g.problem_at(
                    &v.role,
                    format!("grant names role `{role}`, which no `[[role]]` declares"),
                    "unknown role",
                ));
            }
            let (holder, holder_kind) = match (&v.user, &v.group) {
                (Some(u), None) => (u, "user"),
                (None, Some(gr)) => (gr, "group"),
                _ => {
                    let r = g.item.span();
                    self.problems.push(Problem::parse(
                        &g.file.path,
                        &g.file.text,
                        r.start,
                        0,
                        "a grant names exactly one of `user` or `group`".to_owned(),
                        "this grant",
                    ));
                    continue;
                }
            };
            let holder_id = holder.get_ref().as_str();
            let user = user_by_id.get(holder_id).filter(|_| holder_kind == "user");
            if holder_kind == "user" && user.is_none() {
                self.problems.push(g.problem_at(
                    holder,
                    format!("grant names user `{holder_id}`, which no `[[user]]` declares"),
                    "unknown user",
                ));
            }
            if holder_kind == "group" && !group_ids.contains(holder_id) {
                self.problems.push(g.problem_at(
                    holder,
                    format!("grant names group `{holder_id}`, which no `[[group]]` declares"),
                    "unknown group",
                ));
            }
            let address = match &v.id {
                Some(id) => format!("grant:{id}"),
                None => format!("grant:{holder_kind}:{holder_id}/{role}@{}", v.resource),
            };
            if !grant_addresses.insert(address.clone()) {
                let r = g.item.span();
                self.problems.push(Problem::parse(
                    &g.file.path,
                    &g.file.text,
                    r.start,
                    0,
                    format!("`{address}` is declared more than once"),
                    "second declaration",
                ));
                continue;
            }
            valid.push((g, address, holder_id, holder_kind, user));
        }
        let judge = super::access::GrantJudge::new(files, as_of, self.access);
        let built: Vec<Resource> = valid
            .par_iter()
            .map(|&(g, ref address, holder_id, holder_kind, user)| {
                let v = g.get();
                let role = v.role.get_ref().as_str();
                let role_def = role_by_id.get(role);
                let status = user.map_or("group", |u| u.status.as_str());
                let ended = user
                    .and_then(|u| u.employment_end.as_ref())
                    .and_then(toml_days)
                    .is_some_and(|e| e <= as_of);
                let conflicts: BTreeSet<String> = if holder_kind == "user" {
                    let mine = held.get(holder_id);
                    sod_pairs
                        .iter()
                        .filter(|pair| pair.contains(role))
                        .flat_map(|pair| {
                            pair.iter()
                                .filter(|r| **r != role && mine.is_some_and(|m| m.contains(*r)))
                                .map(|r| (*r).to_owned())
                        })
                        .collect()
                } else {
                    BTreeSet::new()
                };
                let mut r = Resource::new("Access::Grant", address.clone(), g.span())
                    .with("user", Value::str(holder_id))
                    .with("role", Value::str(role))
                    .with("resource", Value::str(&v.resource))
                    .with(
                        "privileged",
                        Value::Bool(role_def.is_some_and(|r| r.privileged)),
                    )
                    .with("holder_status", Value::str(status))
                    .with("holder_employment_ended", Value::Bool(ended))
                    .with(
                        "holder_is_admin",
                        Value::Bool(user.is_some_and(|u| u.admin)),
                    )
                    .with("has_expiry", Value::Bool(v.until.is_some()))
                    .with("sod_conflicts", Value::string_set(conflicts))
                    .with("unused_after_days", Value::Long(unused_after))
                    .with(
                        "actions",
                        // An approving role gives authority, not access, unless it says so.
                        Value::string_set(
                            role_def
                                .filter(|r| !(r.approves && r.access.is_none()))
                                .map(|r| r.level().as_str()),
                        ),
                    );
                if let (Some(since), Some(until)) = (
                    v.since.as_ref().and_then(toml_days),
                    v.until.as_ref().and_then(toml_days),
                ) {
                    r.set("duration_days", Value::Long((until - since).max(0)));
                }
                if let Some(a) = v.approved_by.as_deref().filter(|a| !a.trim().is_empty()) {
                    r.set("approver", Value::str(a));
                }
                if let Some(t) = v.ticket.as_deref().filter(|t| !t.trim().is_empty()) {
                    r.set("ticket", Value::str(t));
                }
                if let Some(d) = age(as_of, v.last_used.as_ref()) {
                    r.set("days_since_used", Value::Long(d));
                }
                let holder = (holder_kind == "user").then_some(holder_id);
                for (name, value) in judge.attributes(v, holder) {
                    r.set(name, value);
                }
                r
            })
            .collect();
        self.out.extend(built);
    }
}
