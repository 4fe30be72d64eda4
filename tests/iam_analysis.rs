//! IAM analysis: AWS policy evaluation semantics, every catalogued escalation path both ways,
//! the finding classes, scoped unknowns, account exports, and the real binary on them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use assert_cmd::Command;
use proptest::prelude::*;
use serde_json::{Value as Json, json};
use vouch::error::ProblemKind;
use vouch::formats::{LoadContext, load};
use vouch::iam::document::{Origin, read};
use vouch::iam::eval::{Holdings, Permissions, Tri, compile};
use vouch::iam::findings::{Facts, analyse};
use vouch::iam::paths::{self, PATHS};
use vouch::model::{Resource, Value};
use vouch::source::SourceFile;

fn facts_of(docs: &[Json]) -> Facts {
    let policies = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let doc = read(d, &Origin::default(), &[]).unwrap();
            Arc::new(compile(&format!("p{i}"), &doc))
        })
        .collect();
    analyse(&Permissions::of(Holdings {
        policies,
        boundary: None,
    }))
}

fn facts(doc: Json) -> Facts {
    facts_of(&[doc])
}

fn allow(actions: &[&str], resource: Json) -> Json {
    json!({"Effect": "Allow", "Action": actions, "Resource": resource})
}

fn doc(statements: Vec<Json>) -> Json {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The actions a path needs (first alternative of each step), PassRole included.
fn needs(p: &paths::Path) -> Vec<&'static str> {
    let mut v: Vec<&str> = p.steps.iter().map(|s| s[0]).collect();
    if !p.passed_to.is_empty() {
        v.push("iam:PassRole");
    }
    v
}

#[test]
fn every_catalogued_path_is_found_by_name() {
    for p in PATHS {
        let f = facts(doc(vec![allow(&needs(p), json!("*"))]));
        assert!(
            f.escalation.definite.contains(p.name),
            "{} not found: {:?}",
            p.name,
            f.escalation.definite
        );
        // Each finding names the statement that opens it.
        let notes = f.notes.get("iam-no-privilege-escalation").unwrap();
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with(p.name) && n.contains("statement 1")),
            "{notes:?}"
        );
    }
}

#[test]
fn every_catalogued_path_stays_closed_when_narrowed() {
    for p in PATHS {
        // Without its last step, the path is not open.
        let all = needs(p);
        let missing = p.steps.last().unwrap();
        let fewer: Vec<&str> = all
            .iter()
            .copied()
            .filter(|a| !missing.contains(a))
            .collect();
        if !fewer.is_empty() {
            let f = facts(doc(vec![allow(&fewer, json!("*"))]));
            assert!(
                !f.escalation.definite.contains(p.name),
                "{} open without {missing:?}",
                p.name
            );
        }
        // Narrowed by a resource condition, or PassRole passed to another service only.
        let narrowed = if p.passed_to.is_empty() {
            doc(vec![
                json!({"Effect": "Allow", "Action": all, "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/team": "payments"}}}),
            ])
        } else {
            let steps: Vec<&str> = p.steps.iter().map(|s| s[0]).collect();
            doc(vec![
                allow(&steps, json!("*")),
                json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
                    "Condition": {"StringEquals": {"iam:PassedToService": "nosuchservice.amazonaws.com"}}}),
            ])
        };
        let f = facts(narrowed);
        assert!(
            !f.escalation.definite.contains(p.name),
            "{} open though narrowed",
            p.name
        );
        // Scoped to one named resource of the right type: least privilege, not a path.
        let f = facts(doc(vec![allow(
            &all,
            json!("arn:aws:iam::111122223333:role/app"),
        )]));
        assert!(
            !f.escalation.definite.contains(p.name),
            "{} open on one role",
            p.name
        );
    }
}

#[test]
fn passed_to_service_closes_paths_to_other_services() {
    // The issue's example: PassRole to EC2 only, plus cloudformation:CreateStack.
    let f = facts(doc(vec![
        json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}),
        allow(
            &["cloudformation:CreateStack", "ec2:RunInstances"],
            json!("*"),
        ),
    ]));
    assert!(!f.escalation.definite.contains("PassRole+CloudFormation"));
    assert!(f.escalation.definite.contains("PassRole+EC2"));
    // `StringNotEquals` excludes only the services it names.
    let f = facts(doc(vec![
        json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
            "Condition": {"StringNotEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}),
        allow(
            &[
                "lambda:CreateFunction",
                "lambda:InvokeFunction",
                "glue:CreateDevEndpoint",
            ],
            json!("*"),
        ),
    ]));
    assert!(!f.escalation.definite.contains("PassRole+Lambda+Invoke"));
    assert!(f.escalation.definite.contains("PassRole+Glue"));
}

#[test]
fn explicit_deny_subtracts_and_conditional_deny_does_not() {
    let f = facts(doc(vec![
        allow(&["iam:*"], json!("*")),
        json!({"Effect": "Deny", "Action": "iam:Create*", "Resource": "*"}),
    ]));
    assert!(!f.escalation.definite.contains("CreateAccessKey"));
    assert!(!f.escalation.definite.contains("CreatePolicyVersion"));
    assert!(f.escalation.definite.contains("PutUserPolicy"));
    let f = facts(doc(vec![
        allow(&["iam:CreateAccessKey"], json!("*")),
        json!({"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}),
    ]));
    assert!(f.escalation.definite.contains("CreateAccessKey"));
    // A Deny on one resource leaves the others.
    let f = facts(doc(vec![
        allow(&["iam:CreateAccessKey"], json!("*")),
        json!({"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::*:user/admin"}),
    ]));
    assert!(f.escalation.definite.contains("CreateAccessKey"));
    // Deny in one policy removes what another grants.
    let f = facts_of(&[
        doc(vec![allow(
            &["iam:PassRole", "ec2:RunInstances"],
            json!("*"),
        )]),
        doc(vec![
            json!({"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}),
        ]),
    ]);
    assert!(f.escalation.definite.is_empty());
}

#[test]
fn actions_match_case_insensitively_and_resources_by_type() {
    let f = facts(doc(vec![allow(
        &["IAM:passROLE", "EC2:Run*"],
        json!("arn:aws:iam::*:role/*"),
    )]));
    // PassRole covers every role; RunInstances takes no role resource: not granted.
    assert!(!f.escalation.definite.contains("PassRole+EC2"));
    let f = facts(doc(vec![
        allow(&["IAM:passROLE"], json!("arn:aws:iam::123456789012:role/*")),
        allow(&["ec2:RunInstances"], json!("arn:aws:ec2:*:*:instance/*")),
    ]));
    assert!(f.escalation.definite.contains("PassRole+EC2"));
    let f = facts(doc(vec![allow(
        &["iam:CreateAccessKey"],
        json!("arn:aws:iam::*:user/${aws:username}"),
    )]));
    assert!(f.credentials.definite.is_empty() && f.escalation.definite.is_empty());
}

#[test]
fn full_admin_in_all_its_forms() {
    for d in [
        doc(vec![allow(&["*"], json!("*"))]),
        doc(vec![allow(&["*:*"], json!("*"))]),
        doc(vec![
            json!({"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "*"}),
        ]),
        doc(vec![
            json!({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::audit/*"}),
        ]),
        doc(vec![allow(&["*"], json!("arn:aws:*"))]),
        doc(vec![allow(&["*"], json!("arn:*:*:*:*:*"))]),
    ] {
        assert_eq!(facts(d.clone()).full_admin.state, Tri::Yes, "{d}");
    }
    for d in [
        doc(vec![
            json!({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}),
        ]),
        doc(vec![allow(&["*"], json!("arn:aws:s3:::*"))]),
        doc(vec![allow(&["iam:*", "ec2:*"], json!("*"))]),
        doc(vec![
            json!({"Effect": "Deny", "Action": "*", "Resource": "*"}),
        ]),
    ] {
        assert_eq!(facts(d.clone()).full_admin.state, Tri::No, "{d}");
    }
}

#[test]
fn finding_classes() {
    let f = facts(doc(vec![allow(
        &[
            "s3:GetObject",
            "secretsmanager:GetSecretValue",
            "ssm:GetParameter*",
            "kms:Decrypt",
        ],
        json!("*"),
    )]));
    assert_eq!(
        f.exfiltration.definite,
        [
            "kms:Decrypt",
            "s3:GetObject",
            "secretsmanager:GetSecretValue",
            "ssm:GetParameter",
            "ssm:GetParameterHistory",
            "ssm:GetParameters",
            "ssm:GetParametersByPath"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<BTreeSet<_>>()
    );
    let f = facts(doc(vec![allow(
        &["s3:GetObject"],
        json!("arn:aws:s3:::reports/*"),
    )]));
    assert!(f.exfiltration.definite.is_empty());
    let f = facts(doc(vec![allow(
        &["iam:UpdateLoginProfile", "sts:AssumeRole"],
        json!("*"),
    )]));
    assert!(
        f.credentials.definite.contains("iam:UpdateLoginProfile")
            && f.credentials.definite.contains("sts:AssumeRole")
    );
    let f = facts(doc(vec![allow(&["s3:PutBucketPolicy"], json!("*"))]));
    assert!(f.exposure.definite.contains("s3"));
    let f = facts(doc(vec![allow(
        &["s3:PutBucketPolicy"],
        json!("arn:aws:s3:::assets"),
    )]));
    assert!(f.exposure.definite.is_empty());
    let f = facts(doc(vec![allow(&["dynamodb:DeleteTable"], json!("*"))]));
    assert!(f.infrastructure.definite.contains("dynamodb"));
    // Writes that take no resource (only `*` is possible) are not counted.
    let f = facts(doc(vec![allow(&["ec2:CancelBundleTask"], json!("*"))]));
    assert!(f.infrastructure.definite.is_empty());
}

fn resource(json_text: &str) -> Resource {
    let loaded = load(
        &[SourceFile::new("p.json", json_text.to_owned())],
        &LoadContext {
            as_of_days: 20_000,
            ..LoadContext::default()
        },
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    loaded.resources.into_iter().next().unwrap()
}

#[test]
fn wildcards_on_documents() {
    let r = resource(
        r#"{"Statement": {"Effect": "Allow", "Action": "s3:**", "Resource": "arn:aws:s3:::b/*"}}"#,
    );
    assert_eq!(r.attrs["wildcard_services"], Value::string_set(["s3"]));
    assert_eq!(r.attrs["wildcard_action"], Value::Bool(false));
    let r = resource(
        r#"{"Statement": {"Effect": "Allow", "Action": ["kms:?*", "s3:Get*"], "Resource": "*"}}"#,
    );
    assert_eq!(r.attrs["wildcard_services"], Value::string_set(["kms"]));
    let r =
        resource(r#"{"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}"#);
    assert_eq!(r.attrs["wildcard_action"], Value::Bool(true));
}

#[test]
fn trust_and_public_principals() {
    use vouch::formats::iam::public_principal;
    assert!(public_principal(&json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}}}})).unwrap());
    assert!(public_principal(&json!({"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "s3:GetObject", "Resource": "*"}})).unwrap());
    assert!(!public_principal(&json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}})).unwrap());
    assert!(!public_principal(&json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "s3:GetObject", "Resource": "*"}})).unwrap());
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
        &[
            read("admin.json"),
            read("broken.json"),
            read("policy-version.json"),
        ],
        &LoadContext {
            as_of_days: 20_000,
            ..LoadContext::default()
        },
    );
    assert_eq!(loaded.resources.len(), 2);
    let r = &loaded.resources[0];
    assert_eq!(r.address, "iam:policies/admin.json");
    assert_eq!(r.entity_type, "Aws::IamPolicy");
    assert_eq!(r.attrs["full_admin"], Value::Bool(true));
    assert_eq!(r.attrs["attached_to_user"], Value::Bool(false));
    // `get-policy-version` output, URL-encoded.
    let pv = &loaded.resources[1];
    assert_eq!(
        pv.attrs["escalation_paths"],
        Value::string_set(["UpdateDevEndpoint"])
    );
    assert_eq!(loaded.problems.len(), 1);
    let p = &loaded.problems[0];
    assert_eq!(p.kind, ProblemKind::Parse);
    assert_eq!(p.line, Some(4), "the statement without an effect");
    assert!(p.message.contains("has no `Effect`"), "{}", p.message);
}

fn export() -> Vec<Resource> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iam/export");
    let text = std::fs::read_to_string(dir.join("authz.json")).unwrap();
    let loaded = load(
        &[SourceFile::new("authz.json", text)],
        &LoadContext {
            as_of_days: 20_000,
            ..LoadContext::default()
        },
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    loaded.resources
}

fn by<'a>(rs: &'a [Resource], address: &str) -> &'a Resource {
    rs.iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| panic!("no {address}"))
}

#[test]
fn authorization_details_export_per_principal() {
    let rs = export();
    let alice = by(&rs, "arn:aws:iam::111122223333:user/alice");
    assert_eq!(alice.entity_type, "Aws::IamUser");
    // Her group's inline policy gives her CreateAccessKey on every user.
    assert_eq!(
        alice.attrs["escalation_paths"],
        Value::string_set(["CreateAccessKey"])
    );
    assert!(
        alice.attrs["has_access_key"].is_unknown(),
        "the export lists no keys"
    );
    let notes = &alice.notes["iam-no-privilege-escalation"];
    assert!(
        notes
            .iter()
            .any(|n| n.contains("group `arn:aws:iam::111122223333:group/developers`")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("authz.json:")), "{notes:?}");
    // Bob's own Deny takes it away.
    let bob = by(&rs, "arn:aws:iam::111122223333:user/bob");
    assert_eq!(
        bob.attrs["escalation_paths"],
        Value::string_set(Vec::<String>::new())
    );
    // Carol holds AdministratorAccess, but her permissions boundary allows only S3 and
    // CloudFormation.
    let carol = by(&rs, "arn:aws:iam::111122223333:user/carol");
    assert_eq!(carol.attrs["full_admin"], Value::Bool(false));
    assert_eq!(
        carol.attrs["exfiltration_actions"],
        Value::string_set(["s3:GetObject", "s3:GetObjectVersion"])
    );
    // The deployer's default version (v2), not v1's `*`: PassRole only to EC2, and it cannot run
    // instances, so neither the EC2 nor the CloudFormation path opens.
    let deployer = by(&rs, "arn:aws:iam::111122223333:role/deployer");
    assert_eq!(deployer.attrs["full_admin"], Value::Bool(false));
    assert_eq!(
        deployer.attrs["escalation_paths"],
        Value::string_set(Vec::<String>::new())
    );
    assert_eq!(deployer.attrs["trust_any_principal"], Value::Bool(false));
    // The vendor's external id is `StringLike "*"`: no external id at all.
    let vendor = by(&rs, "arn:aws:iam::111122223333:role/vendor");
    assert_eq!(
        vendor.attrs["trust_external_without_condition"],
        Value::Bool(true)
    );
    assert_eq!(
        vendor.attrs["managed_policies"],
        Value::string_set(["ViewOnlyAccess"])
    );
    // Customer managed and inline policies are entities of their own.
    let policy = by(&rs, "arn:aws:iam::111122223333:policy/deployer");
    assert_eq!(policy.entity_type, "Aws::IamPolicy");
    by(&rs, "arn:aws:iam::111122223333:group/developers#keys");
    assert_eq!(
        by(&rs, "arn:aws:iam::111122223333:group/developers").entity_type,
        "Aws::IamGroup"
    );
}

fn vouch() -> Command {
    Command::cargo_bin("vouch").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn check_json(dir: &Path) -> Json {
    check_json_on(dir, "2026-06-30")
}

/// `vouch check --format json` as of `date`; the run itself must not fail.
fn check_json_on(dir: &Path, date: &str) -> Json {
    let out = vouch()
        .args(["check", dir.to_str().unwrap(), "--format", "json"])
        .args(["--as-of", date])
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn failing<'a>(a: &'a Json, control: &str) -> Vec<&'a Json> {
    a["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["control"] == control && r["status"] == "fail")
        .collect()
}

#[test]
fn binary_names_path_statements_and_principal() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "iam/deployer.tf",
        r#"
resource "aws_iam_policy" "deployer" {
  name = "deployer"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "Pass", Effect = "Allow", Action = "iam:PassRole", Resource = "*" },
      { Sid = "Run", Effect = "Allow", Action = "ec2:RunInstances", Resource = "*" }
    ]
  })
}

resource "aws_iam_role" "ci" {
  name = "ci"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "codebuild.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy_attachment" "ci" {
  role       = aws_iam_role.ci.name
  policy_arn = aws_iam_policy.deployer.arn
}
"#,
    );
    let a = check_json(dir.path());
    let esc = failing(&a, "iam-no-privilege-escalation");
    let role = esc
        .iter()
        .find(|r| r["resource"]["address"] == "aws_iam_role.ci")
        .unwrap();
    assert_eq!(
        role["policies"],
        json!(["iam-no-privilege-escalation/role/PassRole+EC2"])
    );
    let text = role["messages"].to_string();
    assert!(text.contains("PassRole+EC2"), "{text}");
    assert!(
        text.contains("statement `Pass` (iam/deployer.tf:2)"),
        "{text}"
    );
    assert!(
        text.contains("statement `Run` (iam/deployer.tf:2)"),
        "{text}"
    );
    assert!(text.contains("`aws_iam_policy.deployer`"), "{text}");
    // Deterministic output.
    assert_eq!(a, check_json(dir.path()));
}

#[test]
fn scoped_unknowns_stay_in_their_element() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.tf",
        r#"
variable "bucket_arn" {
  type = string
}

data "aws_iam_policy_document" "reports" {
  statement {
    actions   = ["s3:GetObject", "iam:CreateAccessKey"]
    resources = [var.bucket_arn]
  }
}

resource "aws_iam_policy" "reports" {
  name   = "reports"
  policy = data.aws_iam_policy_document.reports.json
}
"#,
    );
    let a = check_json(dir.path());
    // Only the resource is unknown: never "grants every action on every resource".
    assert!(failing(&a, "iam-no-full-admin-policies").is_empty());
    assert!(failing(&a, "iam-no-wildcard-actions").is_empty());
    // What depends on the resource is undetermined, and says why.
    let exfil = failing(&a, "iam-no-data-exfiltration");
    assert_eq!(exfil.len(), 1);
    let unknown = exfil[0]["unknown"].to_string();
    assert!(unknown.contains("exfiltration_actions"), "{unknown}");
    assert!(
        !unknown.contains("full_admin") && !unknown.contains("wildcard"),
        "{unknown}"
    );
    let esc = failing(&a, "iam-no-privilege-escalation");
    assert_eq!(
        esc[0]["policies"],
        json!(["iam-no-privilege-escalation/policy/undetermined"])
    );
    assert!(
        esc[0]["messages"].to_string().contains("`var.bucket_arn`"),
        "{}",
        esc[0]["messages"]
    );
}

#[test]
fn terraform_attachments_resolve_managed_policies() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.tf",
        r#"
data "aws_iam_policy" "admin" {
  name = "AdministratorAccess"
}

resource "aws_iam_group" "ops" {
  name = "ops"
}

resource "aws_iam_group_policy_attachment" "ops" {
  group      = aws_iam_group.ops.name
  policy_arn = data.aws_iam_policy.admin.arn
}

resource "aws_iam_user" "sam" {
  name = "sam"
}

resource "aws_iam_group_membership" "ops" {
  name  = "ops"
  group = aws_iam_group.ops.name
  users = [aws_iam_user.sam.name]
}

resource "aws_iam_user" "kim" {
  name = "kim"
}

resource "aws_iam_user_policy_attachment" "kim" {
  user       = aws_iam_user.kim.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonMachineLearningFullAccess"
}
"#,
    );
    let a = check_json(dir.path());
    let admin: BTreeSet<String> = failing(&a, "iam-no-full-admin-policies")
        .iter()
        .map(|r| r["resource"]["address"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        admin.contains("aws_iam_group.ops") && admin.contains("aws_iam_user.sam"),
        "{admin:?}"
    );
    // An AWS managed policy vouch does not know: undetermined, with how to fix it.
    let kim = failing(&a, "iam-no-privilege-escalation")
        .into_iter()
        .find(|r| r["resource"]["address"] == "aws_iam_user.kim")
        .unwrap();
    assert!(
        kim["messages"]
            .to_string()
            .contains("AmazonMachineLearningFullAccess"),
        "{}",
        kim["messages"]
    );
}

#[test]
fn access_review_sees_a_leavers_iam_user() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "inventory.toml",
        "[[user]]\nid = \"jo\"\nstatus = \"deprovisioned\"\nemployment_end = 2026-05-01\nmfa = true\n",
    );
    write(
        dir.path(),
        "main.tf",
        "resource \"aws_iam_user\" \"jo\" {\n  name = \"JO\"\n}\n\nresource \"aws_iam_access_key\" \"jo\" {\n  user = aws_iam_user.jo.name\n}\n",
    );
    let out = vouch()
        .args([
            "access",
            "review",
            dir.path().to_str().unwrap(),
            "--format",
            "json",
            "--as-of",
            "2026-06-30",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let review: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(review["iam_principals"], 1);
    let f = review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"] == "iam-leavers-deprovisioned")
        .unwrap();
    assert_eq!(f["resource"]["address"], "aws_iam_user.jo");
    assert!(
        f["messages"].to_string().contains("belongs to `jo`"),
        "{}",
        f["messages"]
    );
}

proptest! {
    #[test]
    fn reading_never_panics(text in "\\PC{0,300}") {
        if let Ok(v) = serde_json::from_str::<Json>(&text) {
            if let Ok(d) = read(&v, &Origin::default(), &[]) {
                let _ = analyse(&Permissions::of(Holdings { policies: vec![Arc::new(compile("p", &d))], boundary: None }));
            }
            let _ = vouch::formats::iam::public_principal(&v);
        }
    }

    #[test]
    fn statements_never_panic(
        effect in "(Allow|Deny|x)",
        actions in proptest::collection::vec("[a-zA-Z0-9:*?-]{0,14}", 0..4),
        resources in proptest::collection::vec("[a-z0-9:*?/${}-]{0,24}", 0..3),
        key in "(aws:SourceArn|iam:PassedToService|aws:ResourceTag/x|s3:prefix)",
        op in "(StringEquals|StringNotLike|ForAllValues:StringLike|ArnLikeIfExists|Null)",
    ) {
        let d = json!({"Statement": [{"Effect": effect, "Action": actions, "Resource": resources,
            "Principal": {"AWS": resources}, "Condition": {op: {key: resources}}}]});
        let _ = resource_or_problem(&d.to_string());
    }

    #[test]
    fn exports_never_panic(name in "[a-z]{0,8}", doc in "\\PC{0,80}", arn in "[a-z:/*0-9]{0,30}") {
        let text = json!({"RoleDetailList": [{"RoleName": name, "Arn": arn, "AssumeRolePolicyDocument": doc,
            "RolePolicyList": [{"PolicyName": name, "PolicyDocument": doc}],
            "AttachedManagedPolicies": [{"PolicyName": name, "PolicyArn": arn}]}],
            "UserDetailList": [{"UserName": name, "Arn": arn, "GroupList": [name]}],
            "Policies": [{"Arn": arn, "PolicyVersionList": [{"Document": doc, "IsDefaultVersion": true}]}]}).to_string();
        let _ = load(&[SourceFile::new("x.json", text)], &LoadContext { as_of_days: 0, ..Default::default() });
    }
}

fn resource_or_problem(text: &str) -> usize {
    let loaded = load(
        &[SourceFile::new("p.json", text.to_owned())],
        &LoadContext {
            as_of_days: 0,
            ..Default::default()
        },
    );
    loaded.resources.len() + loaded.problems.len()
}

#[test]
fn escalation_policies_match_the_catalog() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("policies/iam/iam-no-privilege-escalation.cedar"),
    )
    .unwrap();
    let ids: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("@id(\"").and_then(|l| l.strip_suffix("\")")))
        .map(str::to_owned)
        .collect();
    let mut want = BTreeSet::new();
    for kind in ["policy", "role", "user", "group"] {
        for p in PATHS {
            want.insert(format!("iam-no-privilege-escalation/{kind}/{}", p.name));
        }
        want.insert(format!("iam-no-privilege-escalation/{kind}/undetermined"));
    }
    for kind in ["role", "user"] {
        want.insert(format!(
            "iam-no-privilege-escalation/{kind}/{}",
            paths::ASSUME_ROLE
        ));
    }
    assert_eq!(ids, want, "one rule per path and entity type");
}

/// An `Allow` whose time window has ended by the run's date grants nothing; one still open,
/// one already started, one with any value still open, one too close to the date to be
/// certain (time zones), and a token-issue window that long-term keys pass (`IfExists`) all
/// still grant.
#[test]
fn time_bound_grants_end_on_the_run_date() {
    // `as_of_days` 20,000 is 2024-10-04.
    let admin = |condition: &str| {
        resource(&format!(
            r#"{{"Statement": {{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {condition}}}}}"#
        ))
        .attrs["full_admin"]
            .clone()
    };
    for ended in [
        r#"{"DateLessThan": {"aws:CurrentTime": "2024-06-30T23:59:59Z"}}"#,
        r#"{"DateLessThanEquals": {"aws:CurrentTime": ["2023-01-01", "2024-09-30"]}}"#,
        r#"{"DateLessThan": {"aws:EpochTime": "1700000000"}}"#,
        r#"{"DateLessThan": {"aws:TokenIssueTime": "2024-09-01T00:00:00Z"}}"#,
    ] {
        assert_eq!(admin(ended), Value::Bool(false), "ended: {ended}");
    }
    for open in [
        r#"{"DateLessThan": {"aws:CurrentTime": "2025-06-30T23:59:59Z"}}"#,
        r#"{"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}"#,
        r#"{"DateLessThan": {"aws:CurrentTime": ["2020-01-01", "2030-01-01"]}}"#,
        r#"{"DateLessThan": {"aws:CurrentTime": "2024-10-03T12:00:00Z"}}"#,
        r#"{"DateLessThanIfExists": {"aws:TokenIssueTime": "2024-09-01T00:00:00Z"}}"#,
        r#"{"DateLessThan": {"aws:CurrentTime": "not a date"}}"#,
    ] {
        assert_eq!(admin(open), Value::Bool(true), "still open: {open}");
    }
}

/// The same through the binary on a Terraform policy: the finding stands before the window
/// ends and is gone after it, judged on `--as-of`.
#[test]
fn a_terraform_grant_that_has_ended_is_not_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "iam.tf",
        r#"
resource "aws_iam_policy" "contractor" {
  name = "contractor"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "*"
      Resource  = "*"
      Condition = { DateLessThan = { "aws:CurrentTime" = "2026-03-31T23:59:59Z" } }
    }]
  })
}
"#,
    );
    let at = |date: &str| check_json_on(dir.path(), date);
    let before = at("2026-03-01");
    assert_eq!(
        failing(&before, "iam-no-full-admin-policies").len(),
        1,
        "the grant is open on 2026-03-01"
    );
    let after = at("2026-06-30");
    assert!(
        failing(&after, "iam-no-full-admin-policies").is_empty(),
        "the grant ended on 2026-03-31"
    );
}

/// A trust statement whose time window has ended lets nobody in: a role opened to everyone
/// until March is not assumable by anyone in June (and still is in March).
#[test]
fn a_trust_statement_that_has_ended_lets_nobody_in() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "role.tf",
        r#"
resource "aws_iam_role" "vendor" {
  name = "vendor"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "sts:AssumeRole"
      Condition = { DateLessThan = { "aws:CurrentTime" = "2026-03-31T23:59:59Z" } }
    }]
  })
}
"#,
    );
    let at = |date: &str| check_json_on(dir.path(), date);
    let open = at("2026-03-01");
    assert_eq!(
        failing(&open, "iam-role-trust-restricted").len(),
        1,
        "anyone may assume the role on 2026-03-01"
    );
    assert!(
        failing(&at("2026-06-30"), "iam-role-trust-restricted").is_empty(),
        "the trust ended on 2026-03-31"
    );
}
