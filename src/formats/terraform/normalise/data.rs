//! Datastores and keys: `Aws::DbInstance`, `Aws::KmsKey`, `Aws::CloudTrail`, `Aws::EbsVolume`,
//! `Aws::DynamoTable`, `Aws::ElastiCache` and `Aws::SearchDomain`.

use super::super::raw::{Field, RawResource, bool_of, field, literal_of, long_of, str_of};
use super::Module;
use crate::model::{Resource, Value};

fn new(entity: &str, r: &RawResource) -> Resource {
    Resource::new(entity, r.address.clone(), r.span.clone())
}

fn is_set(f: Field<'_>) -> bool {
    matches!(f, Field::Known(_))
}

/// An `aws_rds_cluster_instance` whose cluster is not in the evaluated configuration, on its
/// own: only what the instance itself sets (its public accessibility).
pub fn orphan_cluster_instance(r: &RawResource) -> Resource {
    let mut out = new("Aws::DbInstance", r);
    out.partial = true;
    out.set("cluster", Value::Bool(false));
    out.set(
        "publicly_accessible",
        bool_of(field(&r.attrs, &["publicly_accessible"]), false),
    );
    out
}

/// Normalises `aws_db_instance` (`cluster` false) and `aws_rds_cluster` (`cluster` true).
///
/// `backup_retention_period` is Optional+Computed in the provider with no default: when unset
/// Terraform sends nothing and the RDS API default applies, which is 1 day for instances and
/// clusters alike (0 for an instance that is a read replica).
pub fn db(m: &Module<'_>, r: &RawResource, cluster: bool) -> Resource {
    let a = &r.attrs;
    let mut out = new("Aws::DbInstance", r);
    out.set("cluster", Value::Bool(cluster));
    let engine = str_of(field(a, &["engine"]));
    if let Some(e) = engine.or_else(|| cluster.then(|| Value::str("aurora"))) {
        out.set("engine", e);
    }
    let from_snapshot = is_set(field(a, &["snapshot_identifier"]))
        || is_set(field(a, &["replicate_source_db"]))
        || is_set(field(a, &["restore_to_point_in_time"]))
        || is_set(field(a, &["s3_import"]));
    let serverless = matches!(
        literal_of(field(a, &["engine_mode"]))
            .ok()
            .flatten()
            .as_deref(),
        Some("serverless")
    );
    let encrypted = match field(a, &["storage_encrypted"]) {
        Field::Absent if is_set(field(a, &["kms_key_id"])) || serverless => Value::Bool(true),
        Field::Absent if from_snapshot => {
            Value::unknown("encryption is inherited from the snapshot or source database")
        }
        f => bool_of(f, false),
    };
    out.set("storage_encrypted", encrypted);
    if let Some(k) = str_of(field(a, &["kms_key_id"])) {
        out.set("kms_key", k);
    }
    let replica = !cluster && is_set(field(a, &["replicate_source_db"]));
    if let Some(days) = long_of(
        field(a, &["backup_retention_period"]),
        Some(if replica { 0 } else { 1 }),
    ) {
        out.set("backup_retention_days", days);
    }
    out.set(
        "deletion_protection",
        bool_of(field(a, &["deletion_protection"]), false),
    );
    out.set(
        "iam_auth",
        bool_of(field(a, &["iam_database_authentication_enabled"]), false),
    );
    if cluster {
        let members = m.referrers(
            "aws_rds_cluster_instance",
            "cluster_identifier",
            r,
            &["cluster_identifier", "id"],
        );
        let mut public = bool_of(field(a, &["publicly_accessible"]), false);
        let mut count = Some(0i64);
        for i in &members {
            let member = bool_of(field(&i.attrs, &["publicly_accessible"]), false);
            public = super::either(
                public,
                super::if_present(member, i.presence.as_ref(), Value::Bool(false)),
            );
            count = match (count, &i.presence) {
                (Some(c), None) => Some(c + 1),
                _ => None,
            };
        }
        out.set("publicly_accessible", public);
        // A Multi-AZ DB cluster (`db_cluster_instance_class`) places its instances in three
        // zones itself; an Aurora cluster is in as many zones as it has instances.
        let multi_az_cluster = is_set(field(a, &["db_cluster_instance_class"]));
        out.set(
            "multi_az",
            match count {
                _ if multi_az_cluster => Value::Bool(true),
                Some(c) => Value::Bool(c >= 2),
                None => Value::unknown("the number of cluster instances is not known"),
            },
        );
    } else {
        out.set(
            "publicly_accessible",
            bool_of(field(a, &["publicly_accessible"]), false),
        );
        out.set("multi_az", bool_of(field(a, &["multi_az"]), false));
    }
    out
}

/// Normalises an `aws_kms_key`.
pub fn kms_key(r: &RawResource) -> Resource {
    let a = &r.attrs;
    let mut out = new("Aws::KmsKey", r);
    out.set(
        "rotation_enabled",
        bool_of(field(a, &["enable_key_rotation"]), false),
    );
    let spec = match field(a, &["customer_master_key_spec"]) {
        Field::Absent => field(a, &["key_spec"]),
        f => f,
    };
    out.set(
        "symmetric",
        match literal_of(spec) {
            Ok(None) => Value::Bool(true),
            Ok(Some(s)) => Value::Bool(s == "SYMMETRIC_DEFAULT"),
            Err(why) => Value::unknown(why),
        },
    );
    if let Some(d) = long_of(field(a, &["deletion_window_in_days"]), Some(30)) {
        out.set("deletion_window_days", d);
    }
    out
}

/// Normalises an `aws_cloudtrail`.
pub fn cloudtrail(r: &RawResource) -> Resource {
    let a = &r.attrs;
    let mut out = new("Aws::CloudTrail", r);
    out.set(
        "multi_region",
        bool_of(field(a, &["is_multi_region_trail"]), false),
    );
    out.set(
        "log_file_validation",
        bool_of(field(a, &["enable_log_file_validation"]), false),
    );
    if let Some(k) = str_of(field(a, &["kms_key_id"])) {
        out.set("kms_key", k);
    }
    out.set("logging", bool_of(field(a, &["enable_logging"]), true));
    out.set(
        "cloudwatch_logs",
        match field(a, &["cloud_watch_logs_group_arn"]) {
            Field::Absent => Value::Bool(false),
            Field::Unknown(why) => Value::unknown(why),
            Field::Known(v) => Value::Bool(v.as_text().is_some_and(|s| !s.is_empty())),
        },
    );
    out
}

/// Normalises an `aws_ebs_volume` (an `aws_ebs_encryption_by_default` in the module counts).
pub fn ebs_volume(m: &Module<'_>, r: &RawResource) -> Resource {
    let a = &r.attrs;
    let mut out = new("Aws::EbsVolume", r);
    let mut by_default = Value::Bool(false);
    for d in m.of_type("aws_ebs_encryption_by_default") {
        by_default = super::either(by_default, bool_of(field(&d.attrs, &["enabled"]), true));
    }
    let encrypted = match field(a, &["encrypted"]) {
        Field::Absent if is_set(field(a, &["snapshot_id"])) => super::either(
            by_default,
            Value::unknown("encryption is inherited from the snapshot"),
        ),
        Field::Absent => by_default,
        f => bool_of(f, false),
    };
    out.set("encrypted", encrypted);
    if let Some(k) = str_of(field(a, &["kms_key_id"])) {
        out.set("kms_key", k);
    }
    out
}

/// Normalises an `aws_dynamodb_table`.
pub fn dynamo_table(r: &RawResource) -> Resource {
    let a = &r.attrs;
    let mut out = new("Aws::DynamoTable", r);
    out.set(
        "kms_encrypted",
        bool_of(field(a, &["server_side_encryption", "enabled"]), false),
    );
    if let Some(k) = str_of(field(a, &["server_side_encryption", "kms_key_arn"])) {
        out.set("kms_key", k);
    }
    out.set(
        "point_in_time_recovery",
        bool_of(field(a, &["point_in_time_recovery", "enabled"]), false),
    );
    out
}

/// Normalises an `aws_elasticache_replication_group` (at-rest and in-transit encryption
/// default to true for the valkey engine, false otherwise).
pub fn elasticache_group(r: &RawResource) -> Resource {
    let a = &r.attrs;
    let mut out = new("Aws::ElastiCache", r);
    let valkey = matches!(
        literal_of(field(a, &["engine"])).ok().flatten().as_deref(),
        Some("valkey")
    );
    out.set(
        "at_rest_encryption",
        bool_of(field(a, &["at_rest_encryption_enabled"]), valkey),
    );
    out.set(
        "transit_encryption",
        bool_of(field(a, &["transit_encryption_enabled"]), valkey),
    );
    if let Some(k) = str_of(field(a, &["kms_key_id"])) {
        out.set("kms_key", k);
    }
    out
}

/// Normalises a standalone `aws_elasticache_cluster` (a member of a replication group is
/// evaluated through the group). A standalone cluster cannot encrypt at rest.
pub fn elasticache_cluster(r: &RawResource) -> Option<Resource> {
    let a = &r.attrs;
    if is_set(field(a, &["replication_group_id"])) {
        return None;
    }
    let mut out = new("Aws::ElastiCache", r);
    out.set("at_rest_encryption", Value::Bool(false));
    out.set(
        "transit_encryption",
        bool_of(field(a, &["transit_encryption_enabled"]), false),
    );
    Some(out)
}

/// Normalises `aws_opensearch_domain` and `aws_elasticsearch_domain`.
///
/// Without a `domain_endpoint_options` block AWS does not enforce HTTPS; inside the block
/// `enforce_https` defaults to true. An unset TLS policy is the API default,
/// `Policy-Min-TLS-1-0-2019-07`.
pub fn search_domain(r: &RawResource) -> Resource {
    let a = &r.attrs;
    let mut out = new("Aws::SearchDomain", r);
    out.set(
        "at_rest_encryption",
        bool_of(field(a, &["encrypt_at_rest", "enabled"]), false),
    );
    if let Some(k) = str_of(field(a, &["encrypt_at_rest", "kms_key_id"])) {
        out.set("kms_key", k);
    }
    out.set(
        "node_to_node_encryption",
        bool_of(field(a, &["node_to_node_encryption", "enabled"]), false),
    );
    let options = field(a, &["domain_endpoint_options"]);
    out.set(
        "enforce_https",
        match options {
            Field::Absent => Value::Bool(false),
            Field::Unknown(why) => Value::unknown(why),
            Field::Known(_) => bool_of(
                field(a, &["domain_endpoint_options", "enforce_https"]),
                true,
            ),
        },
    );
    let policy = literal_of(field(
        a,
        &["domain_endpoint_options", "tls_security_policy"],
    ));
    out.set(
        "tls_min_version",
        match policy {
            Ok(p) => {
                let p = p.unwrap_or_else(|| "Policy-Min-TLS-1-0-2019-07".to_owned());
                search_tls(&p).map_or_else(
                    || Value::unknown(format!("`{p}` is not a known TLS security policy")),
                    Value::str,
                )
            }
            Err(why) => Value::unknown(why),
        },
    );
    out
}

/// `Policy-Min-TLS-1-2-2019-07` → `1.2`.
fn search_tls(policy: &str) -> Option<&'static str> {
    let rest = policy.strip_prefix("Policy-Min-TLS-")?;
    tls_version(rest)
}

/// `1-2…` → `1.2` for TLS 1.0 to 1.3.
pub fn tls_version(rest: &str) -> Option<&'static str> {
    ["1-0", "1-1", "1-2", "1-3"]
        .iter()
        .zip(["1.0", "1.1", "1.2", "1.3"])
        .find(|(p, _)| rest.starts_with(*p))
        .map(|(_, v)| v)
}
