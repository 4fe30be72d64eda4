//! `Aws::IamPolicy`, `Aws::IamRole` and `Aws::IamUser`, with policy documents read from JSON
//! strings, `jsonencode(…)` or `data "aws_iam_policy_document"` blocks.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use super::super::raw::{
    Field, Raw, RawResource, blocks, field, literal_of, ref_target, strings_of,
};
use super::{Module, as_whole_ref};
use crate::formats::iam;
use crate::model::{Resource, Value};

/// The policy document an attribute holds: `Ok(None)` when absent, `Err(reason)` when it
/// cannot be known.
pub fn document(m: &Module<'_>, f: Field<'_>) -> Result<Option<Json>, String> {
    let reference = match f {
        Field::Absent => return Ok(None),
        Field::Unknown(why) => return Err(why.to_owned()),
        Field::Known(Raw::Ref(r)) => r.as_str(),
        Field::Known(Raw::String(s)) => match as_whole_ref(s) {
            Some(r) => r,
            None => {
                return serde_json::from_str(s)
                    .map(Some)
                    .map_err(|_| "the policy is not valid JSON".to_owned());
            }
        },
        Field::Known(_) => return Err("the policy is not a JSON string".to_owned()),
    };
    let doc = ref_target(reference)
        .filter(|t| t.contains("data.aws_iam_policy_document."))
        .and_then(|t| m.get(&t));
    match doc {
        Some(d) => policy_document(&d.attrs).map(Some),
        None => Err(format!("the policy comes from `{reference}`")),
    }
}

/// The JSON of a `data "aws_iam_policy_document"` (its `json` when a plan knows it).
fn policy_document(a: &BTreeMap<String, Raw>) -> Result<Json, String> {
    if let Some(Raw::String(s)) = a.get("json") {
        return serde_json::from_str(s).map_err(|_| "the policy is not valid JSON".to_owned());
    }
    for merged in [
        "source_policy_documents",
        "override_policy_documents",
        "source_json",
        "override_json",
    ] {
        if matches!(field(a, &[merged]), Field::Known(_) | Field::Unknown(_)) {
            return Err(format!("the policy document merges `{merged}`"));
        }
    }
    let mut statements = Vec::new();
    for s in blocks(a, "statement")? {
        let mut st = Map::new();
        if let Some(sid) = literal_of(field(s, &["sid"]))? {
            st.insert("Sid".into(), Json::String(sid));
        }
        let effect = literal_of(field(s, &["effect"]))?.unwrap_or_else(|| "Allow".into());
        st.insert("Effect".into(), Json::String(effect));
        for (tf, key) in [
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
        ] {
            if !matches!(field(s, &[tf]), Field::Absent) {
                st.insert(key.into(), json!(strings_of(field(s, &[tf]))?));
            }
        }
        for (tf, key) in [
            ("principals", "Principal"),
            ("not_principals", "NotPrincipal"),
        ] {
            let list = blocks(s, tf)?;
            if list.is_empty() {
                continue;
            }
            let mut p: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for b in list {
                let kind = literal_of(field(b, &["type"]))?.unwrap_or_default();
                p.entry(kind)
                    .or_default()
                    .extend(strings_of(field(b, &["identifiers"]))?);
            }
            let value = match p.get("*") {
                Some(_) => json!("*"),
                None => json!(p),
            };
            st.insert(key.into(), value);
        }
        let conditions = blocks(s, "condition")?;
        if !conditions.is_empty() {
            let mut c: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
            for b in conditions {
                let test = literal_of(field(b, &["test"]))?.unwrap_or_default();
                let var = literal_of(field(b, &["variable"]))?.unwrap_or_default();
                c.entry(test)
                    .or_default()
                    .insert(var, strings_of(field(b, &["values"]))?);
            }
            st.insert("Condition".into(), json!(c));
        }
        statements.push(Json::Object(st));
    }
    let version = literal_of(field(a, &["version"]))?.unwrap_or_else(|| "2012-10-17".into());
    Ok(json!({ "Version": version, "Statement": statements }))
}

/// Sets the derived policy facts from a document attribute.
fn set_facts(m: &Module<'_>, f: Field<'_>, out: &mut Resource) {
    match document(m, f) {
        Ok(Some(doc)) => match iam::analyse(&doc) {
            Ok(facts) => iam::apply_facts(&facts, out),
            Err(why) => iam::unknown_facts(out, &format!("the policy is not valid: {why}")),
        },
        Ok(None) => iam::unknown_facts(out, "the policy is not set"),
        Err(why) => iam::unknown_facts(out, &why),
    }
}

/// Normalises `aws_iam_policy` and the inline role, user and group policies.
pub fn policy(m: &Module<'_>, r: &RawResource) -> Resource {
    let mut out = Resource::new("Aws::IamPolicy", r.address.clone(), r.span.clone());
    set_facts(m, field(&r.attrs, &["policy"]), &mut out);
    let attached = match r.rtype.as_str() {
        "aws_iam_user_policy" => Value::Bool(true),
        "aws_iam_policy" => {
            let direct = !m
                .referrers("aws_iam_user_policy_attachment", "policy_arn", r, &["arn"])
                .is_empty();
            let mut v = Value::Bool(direct);
            for att in m.referrers("aws_iam_policy_attachment", "policy_arn", r, &["arn"]) {
                v = super::either(
                    v,
                    match strings_of(field(&att.attrs, &["users"])) {
                        Ok(users) => Value::Bool(!users.is_empty()),
                        // Fail closed: an unknown user list may name a user.
                        Err(_) => Value::Bool(true),
                    },
                );
            }
            v
        }
        _ => Value::Bool(false),
    };
    out.set("attached_to_user", attached);
    out
}

/// Normalises an `aws_iam_role`, plus one `Aws::IamPolicy` per `inline_policy` block.
pub fn role(m: &Module<'_>, r: &RawResource) -> Vec<Resource> {
    let a = &r.attrs;
    let mut out = Resource::new("Aws::IamRole", r.address.clone(), r.span.clone());
    match document(m, field(a, &["assume_role_policy"])).and_then(|d| {
        d.map_or(Ok(iam::TrustFacts::default()), |doc| {
            iam::trust(&doc).map_err(|why| format!("the trust policy is not valid: {why}"))
        })
    }) {
        Ok(t) => {
            out.set("trust_any_principal", Value::Bool(t.any_principal));
            out.set(
                "trust_external_without_condition",
                Value::Bool(t.external_without_condition),
            );
        }
        Err(why) => {
            out.set("trust_any_principal", Value::unknown(&why));
            out.set("trust_external_without_condition", Value::unknown(why));
        }
    }
    let mut arns: Result<Vec<String>, String> = strings_of(field(a, &["managed_policy_arns"]));
    let names = &["name", "id"];
    let attachments = m
        .referrers("aws_iam_role_policy_attachment", "role", r, names)
        .into_iter()
        .chain(m.referrers("aws_iam_policy_attachment", "roles", r, names));
    for att in attachments {
        if let (Ok(list), more) = (&mut arns, strings_of(field(&att.attrs, &["policy_arn"]))) {
            match more {
                Ok(more) => list.extend(more),
                Err(why) => arns = Err(why),
            }
        }
    }
    out.set(
        "managed_policies",
        match arns {
            Ok(list) => Value::string_set(list.iter().filter_map(|a| aws_managed_name(a))),
            Err(why) => Value::unknown(why),
        },
    );
    let mut all = vec![out];
    if let Ok(inline) = blocks(a, "inline_policy") {
        for (i, b) in inline.into_iter().enumerate() {
            let name = literal_of(field(b, &["name"]))
                .ok()
                .flatten()
                .unwrap_or_else(|| i.to_string());
            let mut p = Resource::new(
                "Aws::IamPolicy",
                format!("{}.inline_policy[{name:?}]", r.address),
                r.span.clone(),
            );
            set_facts(m, field(b, &["policy"]), &mut p);
            p.set("attached_to_user", Value::Bool(false));
            all.push(p);
        }
    }
    all
}

/// `arn:aws:iam::aws:policy/job-function/ViewOnlyAccess` → `ViewOnlyAccess`.
fn aws_managed_name(arn: &str) -> Option<&str> {
    let rest = arn
        .strip_prefix("arn:aws:iam::aws:policy/")
        .or_else(|| arn.strip_prefix("arn:aws-us-gov:iam::aws:policy/"))
        .or_else(|| arn.strip_prefix("arn:aws-cn:iam::aws:policy/"))?;
    rest.rsplit('/').next()
}

/// How a policy ARN reads in `direct_policies`: the AWS managed name, the Terraform address
/// of a policy declared here, or the ARN.
fn policy_label(arn: &str) -> String {
    if let Some(name) = aws_managed_name(arn) {
        return name.to_owned();
    }
    let reference = as_whole_ref(arn).unwrap_or(arn);
    match ref_target(reference) {
        Some(t) if !arn.starts_with("arn:") => t,
        _ => arn.to_owned(),
    }
}

/// Normalises an `aws_iam_user` with its keys, login profile and directly attached policies.
pub fn user(m: &Module<'_>, r: &RawResource) -> Resource {
    let mut out = Resource::new("Aws::IamUser", r.address.clone(), r.span.clone());
    let names = &["name", "id"];
    out.set("root", Value::Bool(false));
    let has_key = !m
        .referrers("aws_iam_access_key", "user", r, names)
        .is_empty();
    out.set("has_access_key", Value::Bool(has_key));
    if has_key {
        out.set(
            "access_key_age_days",
            Value::unknown("a key's age is known only once it exists"),
        );
    }
    let console = !m
        .referrers("aws_iam_user_login_profile", "user", r, names)
        .is_empty();
    out.set("console_access", Value::Bool(console));
    out.set("mfa", Value::Bool(false));

    let mut policies: Result<Vec<String>, String> = Ok(m
        .referrers("aws_iam_user_policy", "user", r, names)
        .iter()
        .map(|p| p.address.clone())
        .collect());
    let attachments = m
        .referrers("aws_iam_user_policy_attachment", "user", r, names)
        .into_iter()
        .chain(m.referrers("aws_iam_policy_attachment", "users", r, names));
    for att in attachments {
        if let (Ok(list), more) = (
            &mut policies,
            strings_of(field(&att.attrs, &["policy_arn"])),
        ) {
            match more {
                Ok(more) => list.extend(more.iter().map(|a| policy_label(a))),
                Err(why) => policies = Err(why),
            }
        }
    }
    out.set(
        "direct_policies",
        match policies {
            Ok(list) => Value::string_set(list),
            Err(why) => Value::unknown(why),
        },
    );
    out
}
