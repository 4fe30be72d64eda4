//! `Aws::S3Bucket`: the bucket with its inline (provider v3) settings, overridden by the split
//! `aws_s3_bucket_*` resources that name it.

use std::collections::BTreeMap;

use super::super::raw::{Field, Raw, RawResource, blocks, bool_of, field, literal_of, str_of};
use super::{Module, either, identity, if_present};
use crate::model::{Resource, Value};

/// The bucket's name attributes a split resource may use literally instead of a reference.
pub const NAMES: &[&str] = &["bucket", "id"];

/// Normalises an `aws_s3_bucket`.
pub fn bucket(m: &Module<'_>, r: &RawResource) -> Resource {
    let a = &r.attrs;
    let mut out = Resource::new("Aws::S3Bucket", r.address.clone(), r.span.clone());
    let split = |t: &str| m.referrers(t, "bucket", r, NAMES);

    out.set(
        "acl",
        str_of(field(a, &["acl"])).unwrap_or_else(|| Value::str("private")),
    );
    for acl in split("aws_s3_bucket_acl") {
        let before = out
            .attrs
            .get("acl")
            .cloned()
            .unwrap_or_else(|| Value::str("private"));
        out.set(
            "acl",
            if_present(split_acl(&acl.attrs), acl.presence.as_ref(), before),
        );
    }

    let (mut alg, mut key) = match blocks(a, "server_side_encryption_configuration") {
        Ok(cfgs) => cfgs.first().map_or((Value::str("none"), None), |c| sse(c)),
        Err(why) => (Value::unknown(&why), Some(Value::unknown(why))),
    };
    for s in split("aws_s3_bucket_server_side_encryption_configuration") {
        let (a2, k2) = sse(&s.attrs);
        alg = if_present(a2, s.presence.as_ref(), alg);
        key = match (k2, key) {
            (Some(k2), Some(k1)) => Some(if_present(k2, s.presence.as_ref(), k1)),
            (Some(k2), None) if s.presence.is_some() => {
                Some(if_present(k2, s.presence.as_ref(), Value::str("")))
            }
            (k2, k1) => k2.or(k1),
        };
    }
    out.set("sse_algorithm", alg);
    if let Some(k) = key {
        out.set("kms_key", k);
    }

    let mut versioning = bool_of(field(a, &["versioning", "enabled"]), false);
    for v in split("aws_s3_bucket_versioning") {
        let set = match literal_of(field(&v.attrs, &["versioning_configuration", "status"])) {
            Ok(Some(s)) => Value::Bool(s == "Enabled"),
            Ok(None) => Value::Bool(false),
            Err(why) => Value::unknown(why),
        };
        versioning = if_present(set, v.presence.as_ref(), versioning);
    }
    out.set("versioning", versioning);

    let mut logging = match blocks(a, "logging") {
        Ok(b) => Value::Bool(!b.is_empty()),
        Err(why) => Value::unknown(why),
    };
    for l in split("aws_s3_bucket_logging") {
        let set = match field(&l.attrs, &["target_bucket"]) {
            Field::Unknown(why) => Value::unknown(why),
            Field::Absent => Value::Bool(false),
            Field::Known(_) => Value::Bool(true),
        };
        logging = if_present(set, l.presence.as_ref(), logging);
    }
    out.set("logging", logging);

    let mut blocked = Value::Bool(false);
    for b in split("aws_s3_bucket_public_access_block") {
        blocked = if_present(all_four(&b.attrs), b.presence.as_ref(), blocked);
    }
    for b in m.of_type("aws_s3_account_public_access_block") {
        let account = if_present(all_four(&b.attrs), b.presence.as_ref(), Value::Bool(false));
        blocked = either(blocked, account);
    }
    out.set("public_access_blocked", blocked);

    let mut public = public_policy(m, field(a, &["policy"]));
    for p in split("aws_s3_bucket_policy") {
        let set = public_policy(m, field(&p.attrs, &["policy"]));
        public = either(
            public,
            if_present(set, p.presence.as_ref(), Value::Bool(false)),
        );
    }
    out.set("public_policy", public);
    out
}

/// An `aws_s3_bucket_public_access_block` whose bucket is not in the evaluated configuration,
/// on its own: whether it blocks all public access.
pub fn orphan_access_block(r: &RawResource) -> Resource {
    let mut out = Resource::new("Aws::S3Bucket", r.address.clone(), r.span.clone());
    out.partial = true;
    out.set("public_access_blocked", all_four(&r.attrs));
    out
}

/// `sse_algorithm` and `kms_key` from a map holding `rule` blocks.
fn sse(cfg: &BTreeMap<String, Raw>) -> (Value, Option<Value>) {
    let rules = match blocks(cfg, "rule") {
        Ok(r) => r,
        Err(why) => return (Value::unknown(&why), Some(Value::unknown(why))),
    };
    for rule in rules {
        let default = ["apply_server_side_encryption_by_default"];
        if matches!(field(rule, &default), Field::Absent) {
            continue;
        }
        let alg = str_of(field(
            rule,
            &["apply_server_side_encryption_by_default", "sse_algorithm"],
        ))
        .unwrap_or_else(|| Value::str("none"));
        let key = str_of(field(
            rule,
            &[
                "apply_server_side_encryption_by_default",
                "kms_master_key_id",
            ],
        ));
        return (alg, key);
    }
    (Value::str("none"), None)
}

/// The four public-access-block settings all true.
fn all_four(a: &BTreeMap<String, Raw>) -> Value {
    let mut all = Value::Bool(true);
    for k in [
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ] {
        all = match (all, bool_of(field(a, &[k]), false)) {
            (Value::Bool(false), _) | (_, Value::Bool(false)) => Value::Bool(false),
            (u @ Value::Unknown(_), _) | (_, u @ Value::Unknown(_)) => u,
            (x, _) => x,
        };
    }
    all
}

/// The canned ACL of an `aws_s3_bucket_acl`, or one read from its grants.
fn split_acl(a: &BTreeMap<String, Raw>) -> Value {
    if let Some(acl) = str_of(field(a, &["acl"])) {
        return acl;
    }
    let policy = match blocks(a, "access_control_policy") {
        Ok(p) => p,
        Err(why) => return Value::unknown(why),
    };
    let mut acl = "private";
    for p in policy {
        let grants = match blocks(p, "grant") {
            Ok(g) => g,
            Err(why) => return Value::unknown(why),
        };
        for g in grants {
            let uri = match literal_of(field(g, &["grantee", "uri"])) {
                Ok(u) => u.unwrap_or_default(),
                Err(why) => return Value::unknown(why),
            };
            let write = matches!(
                literal_of(field(g, &["permission"]))
                    .ok()
                    .flatten()
                    .as_deref(),
                Some("WRITE" | "FULL_CONTROL")
            );
            if uri.ends_with("/global/AllUsers") {
                acl = if write {
                    "public-read-write"
                } else {
                    "public-read"
                };
            } else if uri.ends_with("/global/AuthenticatedUsers") && acl == "private" {
                acl = "authenticated-read";
            }
        }
    }
    Value::str(acl)
}

/// Whether a bucket policy lets any principal in without a condition.
fn public_policy(m: &Module<'_>, f: Field<'_>) -> Value {
    match identity::document(m, f) {
        Ok(None) => Value::Bool(false),
        Ok(Some(doc)) => match crate::formats::iam::public_principal(&doc) {
            Ok(b) => Value::Bool(b),
            Err(why) => Value::unknown(format!("the bucket policy is not valid: {why}")),
        },
        Err(why) => Value::unknown(why),
    }
}
