//! `vouch access check | review | diff` with the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command as Std;

use common::{tree, vouch};

const INVENTORY: &str = r#"
[[tenant]]
id = "globex"
tier = "standard"
isolation = "shared"
residency = ["eu"]

[[resource]]
id = "aws_account:prod"
environment = "production"
classification = "customer_data"
tenants = ["globex"]

[[resource]]
id = "aws_account:sandbox"
environment = "development"
classification = "internal"

[[user]]
id = "ana"
status = "active"
last_login = 2026-06-25
mfa = true
region = "eu"
support_rotation = ["globex"]
groups = ["sre"]

[[user]]
id = "bob"
status = "active"
last_login = 2026-06-25
mfa = true
region = "us"

[[user]]
id = "carl"
status = "deprovisioned"
employment_end = 2026-03-01

[[group]]
id = "sre"

[[role]]
id = "admin"
privileged = true
actions = ["aws:AdministratorAccess"]

[[role]]
id = "viewer"
actions = ["aws:ReadOnlyAccess"]

[[grant]]
group = "sre"
role = "admin"
resource = "aws_account:prod"
approved_by = "bob"
ticket = "CHG-1"
since = 2026-06-01
until = 2026-06-30
last_used = 2026-06-28

[[grant]]
user = "bob"
role = "viewer"
resource = "aws_account:*"
approved_by = "bob"
ticket = "CHG-2"
since = 2026-06-01
until = 2026-06-30
last_used = 2026-06-28

[[grant]]
user = "carl"
role = "admin"
resource = "aws_account:prod"
approved_by = "ana"
ticket = "CHG-3"
since = 2026-06-01
last_used = 2026-06-01
"#;

fn access_check(dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = vouch()
        .args(["access", "check"])
        .arg(dir)
        .args(["--as-of", "2026-06-30", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_group_grant_with_every_control_satisfied_is_allowed() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let (code, json, stderr) = access_check(
        dir.path(),
        &[
            "--principal",
            "ana",
            "--action",
            "write",
            "--resource",
            "aws_account:prod",
            "--context",
            "mfa=true",
            "--context",
            "ticket=CHG-9",
            "--context",
            "approver=bob",
            "--duration",
            "4h",
        ],
    );
    assert_eq!(code, 0, "{json} {stderr}");
    assert_eq!(json["decision"], "allow");
    assert_eq!(json["granted_by"][0], "grant-write");
}

#[test]
fn a_production_write_without_ticket_or_mfa_is_denied_with_what_is_missing() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let (code, json, _) = access_check(
        dir.path(),
        &[
            "--principal",
            "ana",
            "--action",
            "write",
            "--resource",
            "aws_account:prod",
            "--context",
            "approver=bob",
            "--duration",
            "2d",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(json["decision"], "deny");
    let policies: Vec<&str> = json["denied_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["policy"].as_str().unwrap())
        .collect();
    assert_eq!(
        policies,
        vec![
            "access-production-change-controls/mfa",
            "access-production-change-controls/ticket"
        ]
    );
    assert!(
        json["denied_by"][0]["frameworks"]["soc2"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert_eq!(
        json["granted_by"][0], "grant-write",
        "the grant applies; the least-privilege rules deny"
    );
}

#[test]
fn eu_customer_data_needs_eu_staff_on_the_rotation() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let (code, json, _) = access_check(
        dir.path(),
        &[
            "--principal",
            "bob",
            "--action",
            "read",
            "--resource",
            "aws_account:prod",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(json["denied_by"][0]["policy"], "access-eu-data-eu-support");
    // A kind wildcard grant reaches the sandbox, which holds no EU data.
    let (code, json, _) = access_check(
        dir.path(),
        &[
            "--principal",
            "bob",
            "--action",
            "read",
            "--resource",
            "aws_account:sandbox",
        ],
    );
    assert_eq!(code, 0, "{json}");
}

#[test]
fn self_approval_and_departed_people_are_denied() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let (code, json, _) = access_check(
        dir.path(),
        &[
            "--principal",
            "ana",
            "--action",
            "read",
            "--resource",
            "aws_account:prod",
            "--context",
            "approver=ana",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(json["denied_by"][0]["policy"], "access-no-self-approval");
    let (code, json, _) = access_check(
        dir.path(),
        &[
            "--principal",
            "carl",
            "--action",
            "read",
            "--resource",
            "aws_account:prod",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        json["denied_by"]
            .to_string()
            .contains("access-active-accounts-only")
    );
}

#[test]
fn no_grant_is_a_deny_that_says_so() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let (code, json, _) = access_check(
        dir.path(),
        &[
            "--principal",
            "bob",
            "--action",
            "admin",
            "--resource",
            "aws_account:sandbox",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        json["missing_grant"]
            .as_str()
            .unwrap()
            .contains("no grant gives `bob` `admin`")
    );
}

#[test]
fn unknown_names_are_errors_with_suggestions() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let (code, _, stderr) = access_check(
        dir.path(),
        &[
            "--principal",
            "anna",
            "--action",
            "raed",
            "--resource",
            "aws_account:prd",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown principal `anna`") && stderr.contains("`ana`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("unknown action `raed`") && stderr.contains("`read`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("unknown resource `aws_account:prd`")
            && stderr.contains("`aws_account:prod`"),
        "{stderr}"
    );
}

#[test]
fn review_reports_standing_access_problems_with_locations() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let out = vouch()
        .args(["access", "review"])
        .arg(dir.path())
        .args(["--as-of", "2026-06-30", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let controls: Vec<&str> = json["by_control"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for expected in [
        "access-active-accounts-only",
        "access-no-self-approval",
        "no-access-after-deprovisioning",
        "grant-self-approved",
    ] {
        assert!(
            controls.contains(&expected),
            "{expected} missing from {controls:?}"
        );
    }
    let carl = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"] == "access-active-accounts-only")
        .unwrap();
    assert_eq!(carl["resource"]["file"], "inventory.toml");
    assert!(carl["resource"]["line"].as_u64().unwrap() > 1);
}

fn review(dir: &Path) -> serde_json::Value {
    let out = vouch()
        .args(["access", "review"])
        .arg(dir)
        .args(["--as-of", "2026-06-30", "--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The findings of `control` on the `sre` group's grant, with their messages.
fn on_sre_grant(json: &serde_json::Value, control: &str) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["control"] == control
                && f["resource"]["address"] == "grant:group:sre/admin@aws_account:prod"
        })
        .flat_map(|f| f["messages"].as_array().unwrap().clone())
        .map(|m| m.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_group_grant_is_reviewed_for_every_member_nested_groups_included() {
    // Only Ana is in `sre`: EU staff on Globex's rotation, with MFA. The grant is sound.
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let json = review(dir.path());
    assert!(on_sre_grant(&json, "access-eu-data-eu-support").is_empty());
    assert!(on_sre_grant(&json, "access-production-change-controls").is_empty());

    // Dan joins `oncall`, nested in `sre`: US staff, no MFA. The same grant now gives him
    // admin on EU customer data in production, and the finding names him, not Ana.
    let more = format!(
        "{INVENTORY}
[[group]]
id = \"oncall\"
member_of = [\"sre\"]

[[user]]
id = \"dan\"
status = \"active\"
last_login = 2026-06-25
mfa = false
region = \"us\"
groups = [\"oncall\"]
"
    );
    let dir = tree(&[("inventory.toml", more.as_str())]);
    let json = review(dir.path());
    let eu = on_sre_grant(&json, "access-eu-data-eu-support");
    assert_eq!(eu.len(), 1, "{eu:?}");
    assert!(eu[0].ends_with("(members: dan)"), "{eu:?}");
    let change = on_sre_grant(&json, "access-production-change-controls");
    assert!(
        change
            .iter()
            .any(|m| m.contains("MFA") && m.ends_with("(members: dan)")),
        "{change:?}"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = Std::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@acme.example")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@acme.example")
        .env("GIT_AUTHOR_DATE", "2026-06-01T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-06-01T10:00:00Z")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn diff_shows_which_requests_a_change_allows_or_denies() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    git(dir.path(), &["checkout", "-q", "-b", "change"]);
    // Give bob admin on the sandbox; take the sre group's admin away.
    let changed = INVENTORY.replace(
        "group = \"sre\"\nrole = \"admin\"",
        "group = \"sre\"\nrole = \"viewer\"",
    ) + "\n[[grant]]\nuser = \"bob\"\nrole = \"admin\"\nresource = \"aws_account:sandbox\"\napproved_by = \"ana\"\nticket = \"CHG-4\"\nsince = 2026-06-01\nuntil = 2026-06-30\nlast_used = 2026-06-28\n";
    std::fs::write(dir.path().join("inventory.toml"), changed).unwrap();
    git(dir.path(), &["commit", "-q", "-am", "change access"]);
    let out = vouch()
        .args(["access", "diff"])
        .arg(dir.path())
        .args([
            "--base",
            "main",
            "--as-of",
            "2026-06-30",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let allowed: Vec<String> = json["newly_allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["principal"].as_str().unwrap(),
                c["action"].as_str().unwrap(),
                c["resource"].as_str().unwrap()
            )
        })
        .collect();
    let denied: Vec<String> = json["newly_denied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["principal"].as_str().unwrap(),
                c["action"].as_str().unwrap(),
                c["resource"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        allowed.contains(&"bob admin aws_account:sandbox".to_owned()),
        "{allowed:?}"
    );
    assert!(
        denied.contains(&"ana admin aws_account:prod".to_owned()),
        "{denied:?}"
    );
    assert!(
        denied.contains(&"ana write aws_account:prod".to_owned()),
        "{denied:?}"
    );
}
