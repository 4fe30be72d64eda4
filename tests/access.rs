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
email = "bob@acme.example"
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

[[role]]
id = "access-approver"
approves = true

[[grant]]
user = "bob"
role = "access-approver"
resource = "*"
approved_by = "ana"
ticket = "SEC-1"
since = 2026-01-01
until = 2026-12-31
last_used = 2026-06-20

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

/// The policy ids of a denial, in order.
fn policies_of(json: &serde_json::Value) -> Vec<String> {
    json["denied_by"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["policy"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

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
    // Bob is neither EU staff nor on Globex's rotation: both conditions are named.
    assert_eq!(
        policies_of(&json),
        [
            "access-eu-data-eu-support/region",
            "access-eu-data-eu-support/rotation"
        ]
    );
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
    assert!(
        policies_of(&json).contains(&"access-no-self-approval".to_owned()),
        "{json}"
    );
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
            .contains("no grant in force gives `bob` `admin`")
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
    // Dan lacks both conditions: each is named, and only Dan is.
    assert_eq!(eu.len(), 2, "{eu:?}");
    assert!(eu.iter().all(|m| m.ends_with("(members: dan)")), "{eu:?}");
    assert!(
        eu[0].contains("region") && eu[1].contains("rotation"),
        "{eu:?}"
    );
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

// ---------------------------------------------------------------- semantics (issue 15)

/// A production write by Ana with everything in order, except what `ctx` replaces.
fn ana_writes(dir: &Path, as_of: &str, ctx: &[(&str, &str)]) -> (i32, serde_json::Value) {
    let mut pairs: Vec<(String, String)> = vec![
        ("mfa".into(), "true".into()),
        ("ticket".into(), "CHG-9".into()),
        ("approver".into(), "bob".into()),
    ];
    for (k, v) in ctx {
        pairs.retain(|(pk, _)| pk != k);
        pairs.push(((*k).to_owned(), (*v).to_owned()));
    }
    let mut args: Vec<String> = [
        "access",
        "check",
        "--principal",
        "ana",
        "--action",
        "write",
        "--resource",
        "aws_account:prod",
        "--duration",
        "4h",
        "--format",
        "json",
        "--as-of",
        as_of,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for (k, v) in pairs {
        args.push("--context".into());
        args.push(format!("{k}={v}"));
    }
    let out = vouch().args(&args).arg(dir).output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    assert!(
        out.status.code() != Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), json)
}

#[test]
fn a_grant_gives_access_only_within_since_and_until() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    // The sre grant runs 2026-06-01 through 2026-06-30, both inclusive.
    for day in ["2026-06-01", "2026-06-30"] {
        let (code, json) = ana_writes(dir.path(), day, &[]);
        assert_eq!(code, 0, "{day}: {json}");
    }
    let (code, json) = ana_writes(dir.path(), "2026-07-01", &[]);
    assert_eq!(code, 1, "{json}");
    let missing = json["missing_grant"].as_str().unwrap();
    assert!(
        missing.contains("grant:group:sre/admin@aws_account:prod") && missing.contains("expired"),
        "{missing}"
    );
    let (code, json) = ana_writes(dir.path(), "2026-05-31", &[]);
    assert_eq!(code, 1, "{json}");
    assert!(
        json["missing_grant"]
            .as_str()
            .unwrap()
            .contains("has not started yet"),
        "{json}"
    );
}

#[test]
fn an_expired_grant_still_listed_is_a_review_finding() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    let expired = |as_of: &str| -> Vec<String> {
        let out = vouch()
            .args(["access", "review"])
            .arg(dir.path())
            .args(["--as-of", as_of, "--format", "json"])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["control"] == "expired-grants")
            .map(|f| f["resource"]["address"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(expired("2026-06-30").is_empty());
    let after = expired("2026-07-01");
    assert!(
        after.contains(&"grant:group:sre/admin@aws_account:prod".to_owned()),
        "{after:?}"
    );
}

#[test]
fn an_approver_must_be_a_known_active_person_with_authority() {
    let extra = r#"
[[user]]
id = "dora"
status = "deprovisioned"
employment_end = 2026-05-01

[[grant]]
user = "dora"
role = "access-approver"
resource = "*"
approved_by = "bob"
ticket = "SEC-2"
since = 2026-01-01
until = 2026-12-31
last_used = 2026-04-20

[[user]]
id = "eve"
status = "active"
last_login = 2026-06-25
mfa = true
"#;
    let text = format!("{INVENTORY}{extra}");
    let dir = tree(&[("inventory.toml", text.as_str())]);
    let (code, json) = ana_writes(dir.path(), "2026-06-30", &[]);
    assert_eq!(code, 0, "bob may approve: {json}");
    for (approver, policy) in [
        ("nobody", "access-approver-authorized/unknown"),
        (".", "access-approver-authorized/unknown"),
        ("dora", "access-approver-authorized/inactive"),
        ("eve", "access-approver-authorized/no-authority"),
        ("bo\u{200B}b", "access-approver-authorized/invisible"),
    ] {
        let (code, json) = ana_writes(dir.path(), "2026-06-30", &[("approver", approver)]);
        assert_eq!(code, 1, "{approver}: {json}");
        assert!(
            policies_of(&json).contains(&policy.to_owned()),
            "{approver}: {json}"
        );
    }
    // Bob under any spelling is Bob.
    for spelling in ["BOB", "bob@acme.example", "Bob@ACME.example", "ｂｏｂ"] {
        let (code, json) = ana_writes(dir.path(), "2026-06-30", &[("approver", spelling)]);
        assert_eq!(code, 0, "{spelling}: {json}");
    }
}

#[test]
fn self_approval_is_caught_under_every_alias() {
    let with_email = INVENTORY.replacen(
        "id = \"ana\"\n",
        "id = \"ana\"\nemail = \"ana@acme.example\"\n",
        1,
    ) + r#"
[[grant]]
user = "ana"
role = "access-approver"
resource = "*"
approved_by = "bob"
ticket = "SEC-3"
since = 2026-01-01
until = 2026-12-31
last_used = 2026-06-20
"#;
    let dir = tree(&[("inventory.toml", with_email.as_str())]);
    for alias in [
        "ana",
        "ANA",
        "Ana",
        "ana@acme.example",
        "ANA@ACME.EXAMPLE",
        "ａｎａ",
        " ana ",
    ] {
        let (code, json) = ana_writes(dir.path(), "2026-06-30", &[("approver", alias)]);
        assert_eq!(code, 1, "{alias}: {json}");
        assert_eq!(
            policies_of(&json),
            ["access-no-self-approval"],
            "{alias}: {json}"
        );
    }
    // A zero-width variant is no way around it: it names nobody and is denied.
    let (code, json) = ana_writes(dir.path(), "2026-06-30", &[("approver", "a\u{200D}na")]);
    assert_eq!(code, 1);
    assert_eq!(policies_of(&json), ["access-approver-authorized/invisible"]);
}

#[test]
fn an_aliased_self_approval_in_the_inventory_is_a_finding() {
    let text = INVENTORY.replacen(
        "user = \"bob\"\nrole = \"viewer\"\nresource = \"aws_account:*\"\napproved_by = \"bob\"",
        "user = \"bob\"\nrole = \"viewer\"\nresource = \"aws_account:*\"\napproved_by = \"BOB@acme.example\"",
        1,
    );
    assert_ne!(text, INVENTORY);
    let dir = tree(&[("inventory.toml", text.as_str())]);
    let json = review(dir.path());
    let self_approved: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control"] == "grant-self-approved")
        .map(|f| f["resource"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(self_approved, ["grant:user:bob/viewer@aws_account:*"]);
}

#[test]
fn tickets_must_match_the_pattern() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    for bad in ["-", "...", "\u{200B}", "n/a please"] {
        let (code, json) = ana_writes(dir.path(), "2026-06-30", &[("ticket", bad)]);
        assert_eq!(code, 1, "{bad:?}: {json}");
        assert!(
            policies_of(&json)
                .contains(&"access-production-change-controls/ticket-format".to_owned()),
            "{bad:?}: {json}"
        );
    }
    let (code, _) = ana_writes(dir.path(), "2026-06-30", &[("ticket", "INC0012345")]);
    assert_eq!(code, 0);

    // The organisation's own pattern.
    let dir = tree(&[
        ("inventory.toml", INVENTORY),
        ("vouch.toml", "[access]\nticket_pattern = \"SEC-[0-9]+\"\n"),
    ]);
    let (code, json) = ana_writes(dir.path(), "2026-06-30", &[("ticket", "CHG-9")]);
    assert_eq!(code, 1, "{json}");
    let (code, json) = ana_writes(dir.path(), "2026-06-30", &[("ticket", "SEC-12")]);
    assert_eq!(code, 0, "{json}");

    let dir = tree(&[
        ("inventory.toml", INVENTORY),
        ("vouch.toml", "[access]\nticket_pattern = \"SEC-(\"\n"),
    ]);
    let (code, _, stderr) = access_check(
        dir.path(),
        &[
            "--principal",
            "ana",
            "--action",
            "read",
            "--resource",
            "aws_account:prod",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("ticket_pattern` is not a valid regex"),
        "{stderr}"
    );
}

#[test]
fn a_person_with_an_open_finding_is_denied_with_that_reason() {
    // Ana, inactive for 207 days: the rest of the request is in order.
    let inactive = INVENTORY.replacen(
        "last_login = 2026-06-25\nmfa = true\nregion = \"eu\"",
        "last_login = 2025-12-05\nmfa = true\nregion = \"eu\"",
        1,
    );
    let dir = tree(&[("inventory.toml", inactive.as_str())]);
    let (code, json) = ana_writes(dir.path(), "2026-06-30", &[]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(policies_of(&json), ["access-active-accounts-only/inactive"]);
    // Suspended.
    let suspended = INVENTORY.replacen(
        "id = \"ana\"\nstatus = \"active\"",
        "id = \"ana\"\nstatus = \"suspended\"",
        1,
    );
    let dir = tree(&[("inventory.toml", suspended.as_str())]);
    let (code, json) = ana_writes(dir.path(), "2026-06-30", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        policies_of(&json),
        ["access-active-accounts-only/suspended"]
    );
    // Employment ended, account still active (a leaver not yet deprovisioned).
    let leaver = INVENTORY.replacen(
        "id = \"ana\"\nstatus = \"active\"",
        "id = \"ana\"\nstatus = \"active\"\nemployment_end = 2026-06-15",
        1,
    );
    let dir = tree(&[("inventory.toml", leaver.as_str())]);
    let (code, json) = ana_writes(dir.path(), "2026-06-30", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        policies_of(&json),
        ["access-active-accounts-only/employment-ended"]
    );
}

#[test]
fn every_inventory_entity_a_grant_names_can_be_asked_about() {
    let text = format!(
        "{INVENTORY}
[[tenant]]
id = \"initech\"
tier = \"standard\"
isolation = \"shared\"
residency = [\"us\"]
cloud_account = \"444455556666\"

[[service]]
id = \"api\"

[[grant]]
user = \"bob\"
role = \"viewer\"
resource = \"tenant:*\"
approved_by = \"ana\"
ticket = \"SEC-5\"
since = 2026-06-01
until = 2026-06-30
last_used = 2026-06-28
"
    );
    let dir = tree(&[("inventory.toml", text.as_str())]);
    let ask = |principal: &str, resource: &str| {
        access_check(
            dir.path(),
            &[
                "--principal",
                principal,
                "--action",
                "read",
                "--resource",
                resource,
            ],
        )
    };
    // Initech is US-resident: Bob's `tenant:*` grant covers it.
    let (code, json, stderr) = ask("bob", "tenant:initech");
    assert_eq!(code, 0, "{json} {stderr}");
    // Globex is EU-resident customer data: known, but Bob is not EU staff on its rotation.
    let (code, json, _) = ask("bob", "tenant:globex");
    assert_eq!(code, 1);
    assert!(policies_of(&json).contains(&"access-eu-data-eu-support/region".to_owned()));
    // The tenant's cloud account and the service are resources too (no grant: a plain deny).
    for r in ["aws_account:444455556666", "service:api"] {
        let (code, json, stderr) = ask("ana", r);
        assert_eq!(code, 1, "{r}: {stderr}");
        assert!(json["missing_grant"].is_string(), "{r}: {json}");
    }
}

#[test]
fn the_eu_rule_names_which_condition_is_missing() {
    let dir = tree(&[("inventory.toml", INVENTORY)]);
    // Ana is EU staff on the rotation: allowed. On the rotation but not EU: only `region`.
    let (code, _, _) = access_check(
        dir.path(),
        &[
            "--principal",
            "ana",
            "--action",
            "read",
            "--resource",
            "aws_account:prod",
        ],
    );
    assert_eq!(code, 0);
    let us = INVENTORY.replacen(
        "region = \"eu\"\nsupport_rotation",
        "region = \"us\"\nsupport_rotation",
        1,
    );
    let dir = tree(&[("inventory.toml", us.as_str())]);
    let (_, json, _) = access_check(
        dir.path(),
        &[
            "--principal",
            "ana",
            "--action",
            "read",
            "--resource",
            "aws_account:prod",
        ],
    );
    assert_eq!(policies_of(&json), ["access-eu-data-eu-support/region"]);
    assert!(
        json["denied_by"][0]["message"]
            .as_str()
            .unwrap()
            .contains("region")
    );
    let off = INVENTORY.replacen("support_rotation = [\"globex\"]\n", "", 1);
    let dir = tree(&[("inventory.toml", off.as_str())]);
    let (_, json, _) = access_check(
        dir.path(),
        &[
            "--principal",
            "ana",
            "--action",
            "read",
            "--resource",
            "aws_account:prod",
        ],
    );
    assert_eq!(policies_of(&json), ["access-eu-data-eu-support/rotation"]);
    assert!(
        json["denied_by"][0]["message"]
            .as_str()
            .unwrap()
            .contains("rotation")
    );
}

#[test]
fn a_new_grant_is_not_unused_until_the_bound_has_passed() {
    let grant = |since: &str| {
        format!(
            "{INVENTORY}
[[grant]]
id = \"fresh\"
user = \"ana\"
role = \"viewer\"
resource = \"aws_account:sandbox\"
approved_by = \"bob\"
ticket = \"SEC-7\"
since = {since}
until = 2026-12-31
"
        )
    };
    let unused = |text: &str| -> bool {
        let dir = tree(&[("inventory.toml", text)]);
        review(dir.path())["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["control"] == "unused-grants" && f["resource"]["address"] == "grant:fresh")
    };
    assert!(
        !unused(&grant("2026-06-29")),
        "created yesterday, never used"
    );
    assert!(unused(&grant("2026-03-01")), "four months, never used");
}

#[test]
fn an_invisible_character_in_a_person_s_name_is_an_input_problem() {
    let text = INVENTORY.replacen("id = \"eve\"", "", 0)
        + "\n[[user]]\nid = \"bo\\u200Bb\"\nstatus = \"active\"\nlast_login = 2026-06-25\n";
    let dir = tree(&[("inventory.toml", text.as_str())]);
    let (code, _, stderr) = access_check(
        dir.path(),
        &[
            "--principal",
            "ana",
            "--action",
            "read",
            "--resource",
            "aws_account:prod",
        ],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("invisible character U+200B"), "{stderr}");
}

mod names {
    use proptest::prelude::*;
    use vouch::formats::inventory::access::identity::{BadName, fold};
    use vouch::formats::inventory::access::{TicketPattern, TicketVerdict};

    /// Compiled once: a Unicode-class regex is slow to build without optimisations.
    static PATTERN: std::sync::LazyLock<TicketPattern> =
        std::sync::LazyLock::new(TicketPattern::default);

    proptest! {
        /// Any text folds or is refused with a reason; nothing panics.
        #[test]
        fn folding_never_panics(s in "\\PC*") {
            let _ = fold(&s);
            let _ = PATTERN.judge(&s);
        }

        /// ASCII names compare without regard to case.
        #[test]
        fn ascii_case_never_makes_two_people(s in "[a-zA-Z0-9@._-]{1,40}") {
            prop_assert_eq!(fold(&s), fold(&s.to_ascii_uppercase()));
        }

        /// A zero-width character anywhere makes a name name nobody, and a ticket no ticket.
        #[test]
        fn invisible_characters_are_refused(a in "[a-z]{0,10}", b in "[a-z]{0,10}",
                                            c in prop::sample::select(vec!['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{202E}'])) {
            let s = format!("{a}{c}{b}");
            prop_assert_eq!(fold(&s), Err(BadName::Invisible(c)));
            prop_assert_eq!(PATTERN.judge(&s), TicketVerdict::Invisible);
        }
    }
}
