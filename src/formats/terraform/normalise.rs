//! From raw resources to typed `Aws::*` resources, one function per entity type.
//!
//! Split resources (`aws_s3_bucket_versioning`, `aws_security_group_rule`,
//! `aws_iam_role_policy_attachment`, …) are joined to the resource they name through a
//! reference (`aws_s3_bucket.b.id`) or a literal name equal to the target's name attribute.
//! Attributes absent from the configuration take AWS's documented default.

mod data;
mod identity;
mod network;
mod storage;

use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};

use super::raw::{Raw, RawResource, ref_target, strip_index};
use crate::model::{Resource, Value};

/// Join key (`@address` or `=literal`) → the resources whose attribute has it.
type JoinIndex<'a> = HashMap<String, Vec<&'a RawResource>>;

/// The raw resources of one module (or plan), indexed for joins.
pub struct Module<'a> {
    by_address: HashMap<&'a str, &'a RawResource>,
    by_type: BTreeMap<&'a str, Vec<&'a RawResource>>,
    /// (type, attribute) → join key → referrers.
    /// The run's date (days since 1970-01-01): an IAM grant whose time window has ended by then
    /// grants nothing.
    pub as_of_days: Option<i64>,
    /// Built on first use; behind a lock, as resources are normalised in parallel.
    joins: std::sync::Mutex<HashMap<(String, String), JoinIndex<'a>>>,
}

impl<'a> Module<'a> {
    fn new(raws: &'a [RawResource], as_of_days: Option<i64>) -> Self {
        let mut by_address = HashMap::new();
        let mut by_type: BTreeMap<&str, Vec<&RawResource>> = BTreeMap::new();
        for r in raws {
            by_address.entry(r.address.as_str()).or_insert(r);
            if !r.data {
                by_type.entry(r.rtype.as_str()).or_default().push(r);
            }
        }
        Module {
            as_of_days,
            by_address,
            by_type,
            joins: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The resource or data source at `address`.
    pub fn get(&self, address: &str) -> Option<&'a RawResource> {
        self.by_address
            .get(address)
            .or_else(|| self.by_address.get(strip_index(address)))
            .copied()
    }

    /// Managed resources of a type.
    pub fn of_type(&self, rtype: &str) -> &[&'a RawResource] {
        self.by_type.get(rtype).map_or(&[], Vec::as_slice)
    }

    /// Resources of `rtype` whose `attr` names `target`: by a reference to it, or by a literal
    /// equal to one of the target's `name_attrs` (a bucket name, a role name).
    pub fn referrers(
        &self,
        rtype: &str,
        attr: &str,
        target: &RawResource,
        name_attrs: &[&str],
    ) -> Vec<&'a RawResource> {
        let mut keys = vec![
            format!("@{}", target.address),
            format!("@{}", strip_index(&target.address)),
        ];
        for n in name_attrs {
            if let Some(Raw::String(s)) = target.attrs.get(*n) {
                keys.push(format!("={s}"));
            }
            keys.extend(variable_keys(target, n));
        }
        // A poisoned lock only means another thread panicked; the index is still whole.
        let mut joins = self
            .joins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let index = joins
            .entry((rtype.to_owned(), attr.to_owned()))
            .or_insert_with(|| self.index(rtype, attr));
        let mut out: Vec<&RawResource> = Vec::new();
        for k in keys {
            for r in index.get(&k).map_or(&[][..], Vec::as_slice) {
                if !out.iter().any(|o| std::ptr::eq(*o, *r)) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// True when `child`'s `attr` names some resource of `parent_type` in this module (by
    /// reference, or by a literal equal to one of the parent's `name_attrs`).
    pub fn joins(
        &self,
        child: &RawResource,
        attr: &str,
        parent_type: &str,
        name_attrs: &[&str],
    ) -> bool {
        let mut keys = Vec::new();
        if let Some(v) = child.attrs.get(attr) {
            join_keys(v, &mut keys);
        }
        for reference in child.refs.get(attr).map_or(&[][..], Vec::as_slice) {
            if let Some(t) = ref_target(reference) {
                keys.push(format!("@{t}"));
            }
        }
        keys.extend(variable_keys(child, attr));
        self.of_type(parent_type).iter().any(|p| {
            keys.iter().any(|k| {
                if k.starts_with('#') {
                    return name_attrs.iter().any(|n| variable_keys(p, n).contains(k));
                }
                k.strip_prefix('@')
                    .is_some_and(|t| t == p.address || t == strip_index(&p.address))
                    || k.strip_prefix('=').is_some_and(|lit| {
                        name_attrs
                            .iter()
                            .any(|n| matches!(p.attrs.get(*n), Some(Raw::String(s)) if s == lit))
                    })
            })
        })
    }

    fn index(&self, rtype: &str, attr: &str) -> JoinIndex<'a> {
        let mut index: HashMap<String, Vec<&RawResource>> = HashMap::new();
        for r in self.of_type(rtype) {
            let mut keys = Vec::new();
            if let Some(v) = r.attrs.get(attr) {
                join_keys(v, &mut keys);
            }
            for reference in r.refs.get(attr).map_or(&[][..], Vec::as_slice) {
                if let Some(t) = ref_target(reference) {
                    keys.push(format!("@{t}"));
                }
            }
            keys.extend(variable_keys(r, attr));
            keys.sort();
            keys.dedup();
            for k in keys {
                index.entry(k).or_default().push(r);
            }
        }
        index
    }
}

/// The join keys of an attribute that is exactly a variable not known (`#var:…`): the same
/// variable is the same value, whatever it is.
fn variable_keys(r: &RawResource, attr: &str) -> Vec<String> {
    r.refs
        .get(attr)
        .into_iter()
        .flatten()
        .filter(|v| v.starts_with(super::eval::VARIABLE_REF))
        .map(|v| format!("#{v}"))
        .collect()
}

/// The join keys of a value: `@address` for a reference, `=literal` for a literal.
pub fn join_keys(v: &Raw, out: &mut Vec<String>) {
    match v {
        Raw::Ref(r) => {
            if let Some(t) = ref_target(r) {
                out.push(format!("@{t}"));
            }
        }
        Raw::String(s) => match as_whole_ref(s) {
            Some(r) => {
                if let Some(t) = ref_target(r) {
                    out.push(format!("@{t}"));
                }
            }
            None => out.push(format!("={s}")),
        },
        Raw::List(items) => items.iter().for_each(|i| join_keys(i, out)),
        _ => {}
    }
}

/// `"${aws_s3_bucket.b.id}"` → `aws_s3_bucket.b.id` (a template that is one reference).
fn as_whole_ref(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    (!inner.contains("${")).then_some(inner)
}

/// Every managed resource type a normaliser reads, as a resource of its own or folded into
/// another (a test keeps it equal to the types the normalisers name). Resources of any other
/// type are counted in the run's summary as read by no control: never a silent pass.
pub const READ_TYPES: &[&str] = &[
    "aws_alb",
    "aws_alb_listener",
    "aws_cloudtrail",
    "aws_db_instance",
    "aws_dynamodb_table",
    "aws_ebs_encryption_by_default",
    "aws_ebs_volume",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_elasticsearch_domain",
    "aws_iam_access_key",
    "aws_iam_group",
    "aws_iam_group_membership",
    "aws_iam_group_policy",
    "aws_iam_group_policy_attachment",
    "aws_iam_policy",
    "aws_iam_policy_attachment",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_iam_user",
    "aws_iam_user_group_membership",
    "aws_iam_user_login_profile",
    "aws_iam_user_policy",
    "aws_iam_user_policy_attachment",
    "aws_kms_key",
    "aws_lb",
    "aws_lb_listener",
    "aws_opensearch_domain",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_s3_account_public_access_block",
    "aws_s3_bucket",
    "aws_s3_bucket_acl",
    "aws_s3_bucket_logging",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
];

/// Counts, by type, the managed resources no normaliser reads.
pub fn types_not_read(raws: &[RawResource], into: &mut std::collections::BTreeMap<String, usize>) {
    for r in raws.iter().filter(|r| !r.data) {
        if READ_TYPES.binary_search(&r.rtype.as_str()).is_err() {
            *into.entry(r.rtype.clone()).or_default() += 1;
        }
    }
}

/// Normalises the raw resources of one module (or one plan) as of a date, sorted by type and
/// address.
pub fn normalise(raws: &[RawResource], as_of_days: Option<i64>) -> Vec<Resource> {
    let m = Module::new(raws, as_of_days);
    // Each resource is normalised on its own (joins read the shared index), in parallel; IAM
    // principals alongside.
    let (each, principals) = rayon::join(
        || {
            raws.par_iter()
                .filter(|r| !r.data)
                .map(|r| normalise_one(&m, r))
                .collect::<Vec<Vec<Resource>>>()
        },
        || identity::principals(&m),
    );
    let mut out: Vec<Resource> = each.into_iter().flatten().collect();
    // IAM users, groups and roles are evaluated together (groups, boundaries, assume-role chains).
    out.extend(principals);
    out.par_sort_by(|a, b| (&a.entity_type, &a.address).cmp(&(&b.entity_type, &b.address)));
    out
}

/// The resources one raw resource becomes (none, one, or one per cluster member).
fn normalise_one(m: &Module<'_>, r: &RawResource) -> Vec<Resource> {
    let mut out = Vec::new();
    match r.rtype.as_str() {
        "aws_s3_bucket" => out.push(storage::bucket(m, r)),
        "aws_db_instance" => out.push(data::db(m, r, false)),
        "aws_rds_cluster" => out.push(data::db(m, r, true)),
        "aws_kms_key" => out.push(data::kms_key(r)),
        "aws_cloudtrail" => out.push(data::cloudtrail(r)),
        "aws_ebs_volume" => out.push(data::ebs_volume(m, r)),
        "aws_dynamodb_table" => out.push(data::dynamo_table(r)),
        "aws_elasticache_replication_group" => out.push(data::elasticache_group(r)),
        "aws_elasticache_cluster" => out.extend(data::elasticache_cluster(r)),
        "aws_opensearch_domain" | "aws_elasticsearch_domain" => {
            out.push(data::search_domain(r));
        }
        "aws_security_group" => out.push(network::security_group(m, r)),
        "aws_lb_listener" | "aws_alb_listener" => out.push(network::listener(m, r)),
        "aws_iam_policy"
        | "aws_iam_role_policy"
        | "aws_iam_user_policy"
        | "aws_iam_group_policy" => out.push(identity::policy(m, r)),
        // Children whose parent is not in the evaluated configuration: on their own.
        "aws_security_group_rule" | "aws_vpc_security_group_ingress_rule"
            if !m.joins(r, "security_group_id", "aws_security_group", &["id"]) =>
        {
            out.extend(network::orphan_rule(r));
        }
        "aws_s3_bucket_public_access_block"
            if !m.joins(r, "bucket", "aws_s3_bucket", storage::NAMES) =>
        {
            out.push(storage::orphan_access_block(r));
        }
        "aws_rds_cluster_instance"
            if !m.joins(
                r,
                "cluster_identifier",
                "aws_rds_cluster",
                &["cluster_identifier", "id"],
            ) =>
        {
            out.push(data::orphan_cluster_instance(r));
        }
        _ => {}
    }
    for made in &mut out {
        made.presence.clone_from(&r.presence);
    }
    out
}

/// Folds two boolean facts: an unknown wins, else true when either is true.
pub fn either(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Bool(true), _) | (_, Value::Bool(true)) => Value::Bool(true),
        (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
        (u @ Value::Unknown(_), _) | (_, u @ Value::Unknown(_)) => u,
        (x, _) => x,
    }
}

/// A value contributed by a split resource that may not exist (an unknown `count`): unknown
/// unless it equals what its absence gives.
pub fn if_present(v: Value, presence: Option<&String>, absent: Value) -> Value {
    match presence {
        Some(why) if v != absent => {
            Value::unknown(format!("a resource that sets it may not exist: {why}"))
        }
        _ => v,
    }
}

#[cfg(test)]
mod read_types_tests {
    use super::READ_TYPES;

    /// The list names exactly the resource types the normalisers' sources name, sorted (the
    /// lookup is a binary search).
    #[test]
    fn read_types_are_the_types_the_normalisers_name() {
        let sources = [
            include_str!("normalise.rs"),
            include_str!("normalise/data.rs"),
            include_str!("normalise/identity.rs"),
            include_str!("normalise/network.rs"),
            include_str!("normalise/storage.rs"),
        ];
        let mut named: Vec<String> = Vec::new();
        for src in sources {
            // The code without the list itself and without this test.
            let code = src.split("mod read_types_tests").next().unwrap_or(src);
            let code = match code.split_once("pub const READ_TYPES") {
                Some((before, after)) => {
                    format!("{before}{}", after.split_once("];").map_or("", |(_, a)| a))
                }
                None => code.to_owned(),
            };
            for piece in code.split('"').skip(1).step_by(2) {
                if piece.starts_with("aws_")
                    && piece
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    && piece != "aws_iam_policy_document"
                {
                    named.push(piece.to_owned());
                }
            }
        }
        named.sort_unstable();
        named.dedup();
        let mut sorted = READ_TYPES.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, READ_TYPES, "READ_TYPES must stay sorted");
        assert_eq!(named, READ_TYPES);
    }
}
