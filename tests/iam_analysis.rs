//! IAM policy analysis: standalone documents and the facts Terraform reuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use serde_json::json;
use vouch::error::ProblemKind;
use vouch::formats::iam::{self, PolicyFacts};
use vouch::formats::{LoadContext, load};
use vouch::model::Value;
use vouch::source::SourceFile;

fn facts(doc: serde_json::Value) -> PolicyFacts {
    iam::analyse(&doc).unwrap()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn full_admin_and_wildcards() {
    let f = facts(json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}));
    assert!(f.full_admin && f.wildcard_action);
    assert_eq!(f.escalation_paths.len(), iam::ESCALATION_PATHS.len());

    let f = facts(json!({"Statement": [
        {"Effect": "Allow", "Action": ["S3:*", "ec2:Describe*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "*:*", "Resource": "arn:aws:s3:::b"}
    ]}));
    assert!(!f.full_admin);
    assert!(f.wildcard_action);
    assert_eq!(f.wildcard_services, set(&["s3"]));
}

#[test]
fn escalation_paths_need_every_action() {
    let f = facts(json!({"Statement": [
        {"Effect": "Allow", "Action": "IAM:PassRole", "Resource": "*"},
        {"Effect": "Allow", "Action": ["lambda:CreateFunction"], "Resource": "*"}
    ]}));
    assert!(f.escalation_paths.is_empty());

    let f = facts(json!({"Statement": [
        {"Effect": "Allow", "Action": "iam:Pass*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["lambda:*"], "Resource": "*"}
    ]}));
    assert_eq!(
        f.escalation_paths,
        set(&[
            "iam:PassRole+lambda:CreateFunction+lambda:InvokeFunction",
            "lambda:UpdateFunctionCode"
        ])
    );
}

#[test]
fn deny_never_grants_and_removes() {
    let f = facts(json!({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}));
    assert_eq!(f, PolicyFacts::default());

    let f = facts(json!({"Statement": [
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:Create*", "Resource": "*"}
    ]}));
    assert!(!f.escalation_paths.contains("iam:CreateAccessKey"));
    assert!(f.escalation_paths.contains("iam:PutUserPolicy"));
    assert_eq!(f.wildcard_services, set(&["iam"]));
}

#[test]
fn not_action_allows_the_rest() {
    let f = facts(json!({"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}));
    assert!(!f.full_admin);
    assert!(f.escalation_paths.contains("lambda:UpdateFunctionCode"));
    assert!(!f.escalation_paths.contains("iam:CreateAccessKey"));
}

#[test]
fn malformed_documents_are_errors() {
    assert!(iam::analyse(&json!({"Statement": "x"})).is_err());
    assert!(iam::analyse(&json!({"Statement": {"Action": "*"}})).is_err());
    assert!(iam::analyse(&json!({"Statement": {"Effect": "Maybe", "Action": "*"}})).is_err());
    assert!(iam::analyse(&json!({"Statement": {"Effect": "Allow", "Action": 3}})).is_err());
    assert!(iam::analyse(&json!([1])).is_err());
}

#[test]
fn trust_and_public_principals() {
    let t = iam::trust(&json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}})).unwrap();
    assert!(t.any_principal);
    let t = iam::trust(
        &json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": ["123456789012"]},
        "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}}),
    )
    .unwrap();
    assert!(!t.any_principal && !t.external_without_condition);
    let t = iam::trust(&json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}})).unwrap();
    assert_eq!(t, iam::TrustFacts::default());
    assert!(iam::public_principal(&json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}})).unwrap());
    assert!(
        !iam::public_principal(
            &json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}})
        )
        .unwrap()
    );
}

#[test]
fn standalone_policy_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iam");
    let read = |name: &str| {
        SourceFile::new(
            format!("policies/{name}"),
            std::fs::read_to_string(dir.join(name)).unwrap(),
        )
    };
    let loaded = load(
        &[read("admin.json"), read("broken.json")],
        &LoadContext {
            as_of_days: 20_000,
            ..LoadContext::default()
        },
    );
    assert_eq!(loaded.resources.len(), 1);
    let r = &loaded.resources[0];
    assert_eq!(r.address, "iam:policies/admin.json");
    assert_eq!(r.entity_type, "Aws::IamPolicy");
    assert_eq!(r.span.line, 1);
    assert_eq!(r.attrs["full_admin"], Value::Bool(true));
    assert_eq!(r.attrs["attached_to_user"], Value::Bool(false));
    assert_eq!(loaded.problems.len(), 1);
    let p = &loaded.problems[0];
    assert_eq!(p.kind, ProblemKind::Parse);
    assert_eq!(p.line, Some(3));
    assert!(p.message.contains("has no `Effect`"), "{}", p.message);
}

proptest! {
    #[test]
    fn analysis_never_panics(text in "\\PC{0,300}") {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            let _ = iam::analyse(&v);
            let _ = iam::trust(&v);
        }
    }

    #[test]
    fn analysis_never_panics_on_statements(
        effect in "(Allow|Deny|x)",
        actions in proptest::collection::vec("[a-zA-Z:*?]{0,12}", 0..4),
        resource in "[*a-z]{0,3}",
    ) {
        let doc = json!({"Statement": [{"Effect": effect, "Action": actions, "Resource": resource,
            "Principal": {"AWS": resource}}]});
        let _ = iam::analyse(&doc);
        let _ = iam::trust(&doc);
        let _ = iam::public_principal(&doc);
    }
}
