//! AWS managed policies vouch knows without an export (`data/aws-managed.json`): the dangerous
//! ones (`AdministratorAccess`, `PowerUserAccess`, `IAMFullAccess`, …) and those most often
//! attached by Terraform modules, each condensed to the statements the finding classes read.
//! Any other AWS managed policy is unknown unless the scanned tree holds its document.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use super::document::{self, Origin};
use super::eval::{Compiled, compile};

const DATA: &str = include_str!("data/aws-managed.json");

/// The table's documents as JSON, `path/Name` → document, parsed once per run.
fn documents() -> &'static serde_json::Map<String, serde_json::Value> {
    static DOCS: OnceLock<serde_json::Map<String, serde_json::Value>> = OnceLock::new();
    DOCS.get_or_init(|| {
        serde_json::from_str::<serde_json::Value>(DATA)
            .ok()
            .and_then(
                |mut v| match v.get_mut("policies").map(serde_json::Value::take) {
                    Some(serde_json::Value::Object(m)) => Some(m),
                    _ => None,
                },
            )
            .unwrap_or_default()
    })
}

/// The table: `path/Name` (without the leading `/`) → compiled document.
fn table() -> &'static BTreeMap<String, Arc<Compiled>> {
    static TABLE: OnceLock<BTreeMap<String, Arc<Compiled>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut out = BTreeMap::new();
        let policies = documents();
        for (name, doc) in policies {
            let arn = format!("arn:aws:iam::aws:policy/{name}");
            let origin = Origin {
                policy: arn.clone(),
                file: String::new(),
                line: 0,
            };
            if let Ok(d) = document::read(doc, &origin, &[]) {
                out.insert(
                    name.clone(),
                    Arc::new(compile(managed_name(&arn).unwrap_or(name), &d)),
                );
            }
        }
        out
    })
}

/// `arn:aws:iam::aws:policy/service-role/X` → `service-role/X` (any partition).
pub fn managed_path(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_, rest) = rest.split_once(':')?;
    rest.strip_prefix("iam::aws:policy/")
}

/// `arn:aws:iam::aws:policy/job-function/ViewOnlyAccess` → `ViewOnlyAccess`.
pub fn managed_name(arn: &str) -> Option<&str> {
    managed_path(arn).and_then(|p| p.rsplit('/').next())
}

/// An AWS managed policy by ARN.
pub fn by_arn(arn: &str) -> Option<Arc<Compiled>> {
    table().get(managed_path(arn)?).cloned()
}

/// The (condensed) document of an AWS managed policy by ARN, as JSON: what a Terraform
/// `data "aws_iam_policy"`'s `policy` holds when it names one.
pub fn document_by_arn(arn: &str) -> Option<serde_json::Value> {
    documents().get(managed_path(arn)?).cloned()
}

/// The (condensed) document of an AWS managed policy by name, whatever its path.
pub fn document_by_name(name: &str) -> Option<serde_json::Value> {
    documents()
        .iter()
        .find(|(k, _)| k.rsplit('/').next() == Some(name))
        .map(|(_, d)| d.clone())
}

/// An AWS managed policy by name (`AdministratorAccess`), whatever its path.
pub fn by_name(name: &str) -> Option<Arc<Compiled>> {
    table()
        .iter()
        .find(|(k, _)| k.rsplit('/').next() == Some(name))
        .map(|(_, v)| v.clone())
}

/// Every name in the table, for docs and tests.
pub fn names() -> Vec<&'static str> {
    table().keys().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::eval::Tri;
    use crate::iam::eval::{Holdings, Permissions};
    use crate::iam::findings::analyse;

    fn facts(arn: &str) -> crate::iam::findings::Facts {
        let policy =
            by_arn(arn).unwrap_or_else(|| crate::iam::principals::unknown_policy(arn, "missing"));
        analyse(&Permissions::of(Holdings {
            policies: vec![policy],
            boundary: None,
        }))
    }

    #[test]
    fn every_entry_reads() {
        assert_eq!(
            names().len(),
            serde_json::from_str::<serde_json::Value>(DATA)
                .ok()
                .and_then(|v| v
                    .get("policies")
                    .and_then(|p| p.as_object())
                    .map(|o| o.len()))
                .unwrap_or(0)
        );
        for (name, c) in table() {
            assert!(c.unknown.is_none(), "{name}");
        }
    }

    #[test]
    fn the_dangerous_ones_are_dangerous() {
        assert_eq!(
            facts("arn:aws:iam::aws:policy/AdministratorAccess")
                .full_admin
                .state,
            Tri::Yes
        );
        let power = facts("arn:aws:iam::aws:policy/PowerUserAccess");
        assert_eq!(power.full_admin.state, Tri::No);
        assert!(power.escalation.definite.contains("UpdateFunctionCode"));
        assert!(
            !power.escalation.definite.contains("PassRole+EC2"),
            "no iam:PassRole"
        );
        assert!(
            facts("arn:aws:iam::aws:policy/IAMFullAccess")
                .escalation
                .definite
                .contains("CreatePolicyVersion")
        );
        let lambda = facts("arn:aws:iam::aws:policy/AWSLambda_FullAccess");
        assert!(
            lambda
                .escalation
                .definite
                .contains("PassRole+Lambda+Invoke")
        );
        assert!(!lambda.escalation.definite.contains("PassRole+EC2"));
        let basic = facts("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole");
        assert!(basic.escalation.definite.is_empty());
        assert_eq!(
            by_name("ViewOnlyAccess").map(|c| c.name.clone()).as_deref(),
            Some("ViewOnlyAccess")
        );
    }
}
