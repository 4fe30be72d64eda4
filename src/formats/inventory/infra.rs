//! The inventory against the infrastructure code: a datastore, search cluster, key or tenant of
//! the inventory links to its Terraform resource, and the two must agree on encryption, key,
//! region and dedication.
//!
//! Links: an explicit `terraform = "aws_db_instance.soylent"`, else the **match rule**: the one
//! Terraform resource of a matching type (datastore: `aws_db_instance`, `aws_rds_cluster`;
//! search cluster: `aws_opensearch_domain`, `aws_elasticsearch_domain`; key: `aws_kms_key`)
//! whose name equals the inventory id or ends it after a `-` (`pg-globex` ↔
//! `aws_db_instance.globex`; `_` and `-` are the same). No link: nothing is compared.
//!
//! A disagreement is recorded in `infrastructure_mismatches` (what disagrees) with a sentence
//! stating both sides with both locations; a side Terraform cannot know statically makes the
//! attribute unknown (undetermined), unless another side already disagrees.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use toml::Spanned;

use super::InventoryFile;
use crate::error::Problem;
use crate::model::{Resource, Value};

const DATASTORE_TYPES: &[&str] = &["aws_db_instance", "aws_rds_cluster"];
const SEARCH_TYPES: &[&str] = &["aws_opensearch_domain", "aws_elasticsearch_domain"];
const KEY_TYPES: &[&str] = &["aws_kms_key"];

/// `(type, name)` of a Terraform address (`module.m.aws_db_instance.x` → `aws_db_instance`, `x`).
fn split(address: &str) -> Option<(&str, &str)> {
    let mut parts = address.rsplitn(3, '.');
    let name = parts.next()?;
    let ty = parts.next()?;
    Some((ty, name))
}

fn norm(s: &str) -> String {
    s.to_ascii_lowercase().replace('_', "-")
}

/// True when the Terraform name `name` matches the inventory id `id`.
fn matches(id: &str, name: &str) -> bool {
    let (id, name) = (norm(id), norm(name));
    id == name || id.ends_with(&format!("-{name}"))
}

/// The Terraform side: resources by address, and which resources use each KMS key.
struct Infra<'a> {
    by_address: BTreeMap<&'a str, Vec<usize>>,
    resources: &'a [Resource],
    /// `aws_kms_key.x` → addresses of the resources referring to it.
    key_users: BTreeMap<String, BTreeSet<String>>,
}

impl<'a> Infra<'a> {
    fn new(resources: &'a [Resource]) -> Self {
        let mut by_address: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut key_users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (i, r) in resources.iter().enumerate() {
            if !r.entity_type.starts_with("Aws::") {
                continue;
            }
            by_address.entry(r.address.as_str()).or_default().push(i);
            for v in r.attrs.values() {
                if let Some(k) = key_ref(v) {
                    key_users.entry(k).or_default().insert(r.address.clone());
                }
            }
        }
        Infra {
            by_address,
            resources,
            key_users,
        }
    }

    /// The resource at an explicit address (`scope//address` allowed).
    fn explicit(&self, link: &str) -> Result<usize, String> {
        let (scope, address) = link
            .rsplit_once("//")
            .map_or((None, link), |(s, a)| (Some(s), a));
        let found: Vec<usize> = self
            .by_address
            .get(address)
            .into_iter()
            .flatten()
            .copied()
            .filter(|i| scope.is_none_or(|s| self.resources.get(*i).is_some_and(|r| r.scope == s)))
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!("no Terraform resource `{link}` is in the tree")),
            _ => Err(format!(
                "`{link}` is declared in more than one Terraform module; write `<module directory>//{address}`"
            )),
        }
    }

    /// The one resource of `types` whose name matches `id`.
    fn matched(&self, id: &str, types: &[&str]) -> Option<usize> {
        let found: Vec<usize> = self
            .by_address
            .iter()
            .filter(|(a, _)| split(a).is_some_and(|(t, n)| types.contains(&t) && matches(id, n)))
            .flat_map(|(_, is)| is.iter().copied())
            .collect();
        match found.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    fn at(&self, i: usize) -> String {
        self.resources.get(i).map_or_else(String::new, |r| {
            format!("`{}` ({}:{})", r.address, r.span.file, r.span.line)
        })
    }
}

/// `aws_kms_key.x` when a value refers to that key (`aws_kms_key.x.arn`, `.key_id`, `.id`).
/// A key in a module keeps its module path (`module.kms.aws_kms_key.x`).
fn key_ref(v: &Value) -> Option<String> {
    let Value::String(s) = v else { return None };
    let at = s.find("aws_kms_key.")?;
    if at > 0 && !s[..at].ends_with('.') {
        return None;
    }
    let rest = &s[at + "aws_kms_key.".len()..];
    let name = rest.split('.').next().filter(|n| !n.is_empty())?;
    Some(format!("{}aws_kms_key.{name}", &s[..at]))
}

/// What one comparison found.
#[derive(Default)]
struct Verdict {
    mismatches: BTreeSet<&'static str>,
    details: Vec<String>,
    unknown: Vec<String>,
    /// The Terraform resources compared with: (file, line).
    compared: BTreeSet<(String, u32)>,
}

impl Verdict {
    fn into_value(self, r: &mut Resource) {
        let Verdict {
            mismatches,
            details,
            unknown,
            compared,
        } = self;
        for (file, line) in compared {
            r.facts_mut().import(
                "infrastructure_mismatches",
                crate::model::FactSource {
                    origin: crate::model::FactOrigin::Configuration,
                    format: "terraform".into(),
                    file: file.into(),
                    line,
                    digest: None,
                    collected_at: None,
                    age_days: None,
                    max_age_days: None,
                    stale: false,
                },
            );
        }
        if mismatches.is_empty() && !unknown.is_empty() {
            r.set(
                "infrastructure_mismatches",
                Value::unknown(unknown.join("; ")),
            );
        } else {
            r.set(
                "infrastructure_mismatches",
                Value::string_set(mismatches.iter().copied()),
            );
        }
        for d in details {
            r.facts_mut().explain("infrastructure_mismatches", d);
        }
    }
}

/// An inventory store (datastore or search cluster) as the comparison reads it.
struct Store<'a> {
    kind: &'static str,
    id: &'a str,
    encrypted: bool,
    key: Option<&'a str>,
    region: &'a str,
    link: Option<&'a Spanned<String>>,
    file: &'a InventoryFile,
    offset: usize,
}

/// Compares every linked inventory entry with its Terraform resource; returns the problems
/// (an explicit link to nothing).
pub fn crosscheck(files: &[Arc<InventoryFile>], resources: &mut [Resource]) -> Vec<Problem> {
    let (verdicts, problems) = compare(files, resources);
    let index: HashMap<&str, usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.entity_type.starts_with("Saas::"))
        .map(|(i, r)| (r.address.as_str(), i))
        .collect();
    let targets: Vec<(usize, Verdict)> = verdicts
        .into_iter()
        .filter_map(|(a, v)| index.get(a.as_str()).map(|i| (*i, v)))
        .collect();
    for (i, v) in targets {
        if let Some(r) = resources.get_mut(i) {
            v.into_value(r);
        }
    }
    problems
}

/// The verdict of every linked inventory entry (by address), and the link problems.
fn compare(
    files: &[Arc<InventoryFile>],
    resources: &[Resource],
) -> (Vec<(String, Verdict)>, Vec<Problem>) {
    let mut problems = Vec::new();
    let infra = Infra::new(resources);
    if infra.by_address.is_empty() {
        return (Vec::new(), problems);
    }
    // Inventory keys → their Terraform keys, and back.
    let mut key_ids: BTreeSet<String> = BTreeSet::new();
    let mut explicit_keys: BTreeMap<String, (&InventoryFile, &Spanned<String>)> = BTreeMap::new();
    for f in files {
        for k in &f.raw.key {
            key_ids.insert(k.get_ref().id.clone());
            if let Some(t) = &k.get_ref().terraform {
                explicit_keys.insert(k.get_ref().id.clone(), (f, t));
            }
        }
        key_ids.extend(
            f.raw
                .datastore
                .iter()
                .filter_map(|d| d.get_ref().encryption_key.clone()),
        );
        key_ids.extend(
            f.raw
                .search_cluster
                .iter()
                .filter_map(|d| d.get_ref().encryption_key.clone()),
        );
        key_ids.extend(
            f.raw
                .tenant
                .iter()
                .filter_map(|t| t.get_ref().customer_key.clone()),
        );
    }
    let mut tf_key_of: BTreeMap<String, String> = BTreeMap::new();
    for id in &key_ids {
        let linked = match explicit_keys.get(id) {
            Some((f, t)) => match infra.explicit(t.get_ref()) {
                Ok(i) => Some(i),
                Err(why) => {
                    problems.push(link_problem(f, t, &format!("key `{id}`"), &why));
                    None
                }
            },
            None => infra.matched(id, KEY_TYPES),
        };
        if let Some(r) = linked.and_then(|i| infra.resources.get(i)) {
            tf_key_of.insert(id.clone(), r.address.clone());
        }
    }
    let inv_key_of: HashMap<&str, &str> = tf_key_of
        .iter()
        .map(|(k, v)| (v.as_str(), k.as_str()))
        .collect();

    let mut stores = Vec::new();
    for f in files {
        for d in &f.raw.datastore {
            let v = d.get_ref();
            stores.push(Store {
                kind: "datastore",
                id: &v.id,
                encrypted: v.encrypted,
                key: v.encryption_key.as_deref(),
                region: &v.region,
                link: v.terraform.as_ref(),
                file: f,
                offset: d.span().start,
            });
        }
        for c in &f.raw.search_cluster {
            let v = c.get_ref();
            stores.push(Store {
                kind: "search_cluster",
                id: &v.id,
                encrypted: v.encrypted,
                key: v.encryption_key.as_deref(),
                region: &v.region,
                link: v.terraform.as_ref(),
                file: f,
                offset: c.span().start,
            });
        }
    }
    // Dedicated tenants' stores, to check that no two stores share one Terraform resource.
    let mut dedicated: BTreeMap<&str, &str> = BTreeMap::new();
    for f in files {
        for t in &f.raw.tenant {
            let t = t.get_ref();
            if matches!(
                t.isolation,
                super::raw::Isolation::DedicatedDatabase | super::raw::Isolation::DedicatedAccount
            ) {
                for ds in t
                    .datastores
                    .get_ref()
                    .iter()
                    .chain(t.search_clusters.get_ref())
                {
                    dedicated.insert(ds.as_str(), t.id.as_str());
                }
            }
        }
    }
    let mut linked: BTreeMap<(&'static str, &str), usize> = BTreeMap::new();
    let mut users_of_tf: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for s in &stores {
        let types = if s.kind == "datastore" {
            DATASTORE_TYPES
        } else {
            SEARCH_TYPES
        };
        let tf = match s.link {
            Some(t) => match infra.explicit(t.get_ref()) {
                Ok(i) => Some(i),
                Err(why) => {
                    problems.push(link_problem(
                        s.file,
                        t,
                        &format!("{} `{}`", s.kind.replace('_', " "), s.id),
                        &why,
                    ));
                    None
                }
            },
            None => infra.matched(s.id, types),
        };
        if let Some(i) = tf {
            linked.insert((s.kind, s.id), i);
            users_of_tf.entry(i).or_default().push(s.id);
        }
    }

    let mut verdicts: Vec<(String, Verdict)> = Vec::new();
    for s in &stores {
        let Some(&i) = linked.get(&(s.kind, s.id)) else {
            continue;
        };
        let Some(tf) = infra.resources.get(i) else {
            continue;
        };
        let inv_at = format!(
            "{}:{}",
            s.file.path,
            s.file
                .lines
                .span(&s.file.path, &s.file.text, s.offset, 0)
                .line
        );
        let tf_at = infra.at(i);
        let mut v = Verdict::default();
        v.compared.insert((tf.span.file.clone(), tf.span.line));
        let enc_attr = if s.kind == "datastore" {
            "storage_encrypted"
        } else {
            "at_rest_encryption"
        };
        match tf.attrs.get(enc_attr) {
            Some(Value::Bool(b)) if *b != s.encrypted => {
                v.mismatches.insert("encryption");
                v.details.push(format!(
                    "encryption: the inventory declares `{}` {} ({inv_at}) but Terraform {tf_at} is {}",
                    s.id,
                    if s.encrypted { "encrypted" } else { "unencrypted" },
                    if *b { "encrypted" } else { "not encrypted (no `storage_encrypted`)" }
                ));
            }
            Some(Value::Unknown(u)) => v
                .unknown
                .push(format!("encryption of {tf_at}: {}", u.unknown)),
            _ => {}
        }
        if let Some(key) = s.key {
            match tf.attrs.get("kms_key") {
                Some(val) if key_ref(val).is_some() => {
                    let tf_key = key_ref(val).unwrap_or_default();
                    let tf_key_at = infra.explicit(&tf_key).map(|k| infra.at(k)).unwrap_or_else(|_| format!("`{tf_key}`"));
                    match inv_key_of.get(tf_key.as_str()) {
                        Some(k) if *k == key => {}
                        Some(k) => {
                            v.mismatches.insert("key");
                            v.details.push(format!("key: the inventory declares `{}` encrypted with `{key}` ({inv_at}) but Terraform {tf_at} uses {tf_key_at}, which is the inventory's `{k}`", s.id));
                        }
                        None => {
                            v.mismatches.insert("key");
                            let expected = tf_key_of.get(key).map_or_else(|| format!("no Terraform key links to `{key}`"), |a| format!("`{key}` is `{a}`"));
                            v.details.push(format!("key: the inventory declares `{}` encrypted with `{key}` ({inv_at}) but Terraform {tf_at} uses {tf_key_at} ({expected})", s.id));
                        }
                    }
                }
                Some(Value::Unknown(u)) => v.unknown.push(format!("key of {tf_at}: {}", u.unknown)),
                Some(Value::String(arn)) => v.unknown.push(format!("{tf_at} names its key by `{arn}`; link the inventory key with `[[key]] terraform = …` or refer to the `aws_kms_key` resource")),
                None if matches!(tf.attrs.get(enc_attr), Some(Value::Bool(true))) => {
                    v.mismatches.insert("key");
                    v.details.push(format!("key: the inventory declares `{}` encrypted with `{key}` ({inv_at}) but Terraform {tf_at} uses the AWS-managed key (no `kms_key_id`)", s.id));
                }
                _ => {}
            }
        }
        if let Some(Value::String(region)) = tf.attrs.get("region")
            && region != s.region
        {
            v.mismatches.insert("region");
            v.details.push(format!("region: the inventory declares `{}` in `{}` ({inv_at}) but Terraform {tf_at} is in `{region}`", s.id, s.region));
        }
        if let Some(tenant) = dedicated.get(s.id) {
            let sharing: Vec<&str> = users_of_tf
                .get(&i)
                .into_iter()
                .flatten()
                .copied()
                .filter(|o| *o != s.id)
                .collect();
            if !sharing.is_empty() {
                v.mismatches.insert("dedication");
                v.details.push(format!("dedication: `{}` is dedicated to tenant `{tenant}` ({inv_at}) but Terraform {tf_at} also backs `{}`", s.id, sharing.join("`, `")));
            }
        }
        verdicts.push((format!("{}:{}", s.kind, s.id), v));
    }

    // Tenants: the customer key must be the tenant's own in Terraform too.
    for f in files {
        for t in &f.raw.tenant {
            let tv = t.get_ref();
            let Some(key) = &tv.customer_key else {
                continue;
            };
            let inv_at = format!(
                "{}:{}",
                f.path,
                f.lines.span(&f.path, &f.text, t.span().start, 0).line
            );
            let mine: BTreeSet<String> = tv
                .datastores
                .get_ref()
                .iter()
                .map(|d| ("datastore", d.as_str()))
                .chain(
                    tv.search_clusters
                        .get_ref()
                        .iter()
                        .map(|c| ("search_cluster", c.as_str())),
                )
                .filter_map(|k| linked.get(&k))
                .filter_map(|i| infra.resources.get(*i))
                .map(|r| r.address.clone())
                .collect();
            if mine.is_empty() {
                continue;
            }
            let mut v = Verdict::default();
            v.compared.extend(
                mine.iter()
                    .filter_map(|a| infra.explicit(a).ok())
                    .filter_map(|i| infra.resources.get(i))
                    .map(|r| (r.span.file.clone(), r.span.line)),
            );
            let used: BTreeSet<String> = mine
                .iter()
                .filter_map(|a| infra.explicit(a).ok())
                .filter_map(|i| infra.resources.get(i))
                .filter_map(|r| r.attrs.get("kms_key").and_then(key_ref))
                .collect();
            for tf_key in &used {
                let others: Vec<&String> = infra
                    .key_users
                    .get(tf_key)
                    .into_iter()
                    .flatten()
                    .filter(|u| !mine.contains(*u))
                    .collect();
                let tf_key_at = infra
                    .explicit(tf_key)
                    .map(|k| infra.at(k))
                    .unwrap_or_else(|_| format!("`{tf_key}`"));
                if !others.is_empty() {
                    v.mismatches.insert("dedication");
                    let names: Vec<String> =
                        others.iter().take(6).map(|o| format!("`{o}`")).collect();
                    v.details.push(format!(
                        "dedication: tenant `{}` has its own key `{key}` ({inv_at}) but its data in Terraform is encrypted with {tf_key_at}, which also encrypts {}{}",
                        tv.id,
                        names.join(", "),
                        if others.len() > 6 { format!(" and {} more", others.len() - 6) } else { String::new() }
                    ));
                }
            }
            verdicts.push((format!("tenant:{}", tv.id), v));
        }
    }
    (verdicts, problems)
}

fn link_problem(f: &InventoryFile, t: &Spanned<String>, what: &str, why: &str) -> Problem {
    let r = t.span();
    Problem::parse(
        &f.path,
        &f.text,
        r.start,
        r.len(),
        format!("{what} links to Terraform `{}`: {why}", t.get_ref()),
        "this link",
    )
    .with_help(
        "write the Terraform address as `terraform plan` shows it (`aws_db_instance.soylent`)",
    )
}
