//! `--prove` with the real binary and the real solver (cvc5): `vouch validate --prove` on the
//! shipped and custom libraries, `vouch access diff --prove` on real git repositories, user
//! invariants, and a missing solver.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command as Std;

use common::{tree, vouch};

/// True when the proof tests may run: cvc5 is there, or scripts/test could not install it
/// (then the test is skipped LOUDLY, and with CI=true it runs and fails).
fn solver(check: &str) -> bool {
    common::consumer_available("cvc5", check)
}

const INVENTORY: &str = r#"
[[user]]
id = "ana"
email = "ana@acme.example"
status = "active"
mfa = true
region = "eu"
last_login = 2026-11-20

[[datastore]]
id = "pg-main"
engine = "postgres"
region = "eu-central-1"
encrypted = true
environment = "production"
classification = "customer_data"

[[role]]
id = "viewer"
actions = ["read"]

[[grant]]
user = "ana"
role = "viewer"
resource = "datastore:pg-main"
approved_by = "ana"
ticket = "CHG-1"
since = 2026-06-01
until = 2026-12-31
last_used = 2026-11-20
"#;

const CONTROL: &str = r#"
id = "acme-guard"
title = "Acme's own access guard"
family = "access"
severity = "high"
effort = 2
description = "Reading customer data needs MFA; production changes last at most a day."
remediation = "Ask with MFA, for at most 24 hours."
"#;

/// The base's custom access policies: each is stricter than the built-in library.
const GUARD: &str = r#"
@id("acme-guard/read-mfa")
@control("acme-guard")
@message("reading customer data needs MFA")
forbid (principal is Access::User, action == Access::Action::"read", resource is Access::Resource)
when { resource.customer_data && !context.mfa };

@id("acme-guard/one-day")
@control("acme-guard")
@message("production changes last at most a day")
forbid (principal is Access::User, action in [Access::Action::"write", Access::Action::"admin"], resource is Access::Resource)
when { resource.production && context.duration_hours > 24 };
"#;

/// A repository whose base commit has `GUARD` and whose head has `head_guard`.
fn repo(head_guard: &str, vouch_toml: &str) -> tempfile::TempDir {
    let dir = tree(&[
        ("inventory.toml", INVENTORY),
        ("vouch.toml", vouch_toml),
        ("compliance/controls/access/acme-guard.toml", CONTROL),
        ("compliance/policies/acme-guard.cedar", GUARD),
    ]);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    git(dir.path(), &["checkout", "-q", "-b", "change"]);
    std::fs::write(
        dir.path().join("compliance/policies/acme-guard.cedar"),
        head_guard,
    )
    .unwrap();
    git(
        dir.path(),
        &["commit", "-q", "-am", "change the guard", "--allow-empty"],
    );
    dir
}

const LIBRARY: &str = "[library]\npaths = [\"compliance\"]\n";

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

/// `vouch access diff --prove --format json` on `dir` (a cache of its own, so every run
/// proves): (exit code, JSON, stderr).
fn diff(dir: &Path) -> (i32, serde_json::Value, String) {
    let out = vouch()
        .args(["access", "diff"])
        .arg(dir)
        .args([
            "--base",
            "main",
            "--as-of",
            "2026-11-25",
            "--prove",
            "--format",
            "json",
        ])
        .env("VOUCH_CACHE_DIR", dir.join(".cache"))
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The counterexamples of new access in a diff's proof.
fn new_access(json: &serde_json::Value) -> Vec<&serde_json::Value> {
    json["proof"]["failures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "no_new_access")
        .collect()
}

/// The replayed decision of `side` in a counterexample.
fn decision<'a>(cex: &'a serde_json::Value, side: &str) -> &'a str {
    cex["replay"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["side"] == side)
        .and_then(|r| r["decision"].as_str())
        .unwrap()
}

/// Asserts a weakening is caught in `action` with a counterexample that replays as allowed by
/// the head and denied by the base (by `base_policy`), and returns it.
fn caught<'a>(
    json: &'a serde_json::Value,
    action: &str,
    base_policy: &str,
) -> &'a serde_json::Value {
    let found = new_access(json);
    let f = found
        .iter()
        .find(|f| f["environment"]["action"] == action)
        .unwrap_or_else(|| panic!("no new access in `{action}`: {json:#}"));
    let cex = &f["counterexample"];
    assert_eq!(decision(cex, "head"), "allow", "{cex:#}");
    assert_eq!(decision(cex, "base"), "deny", "{cex:#}");
    let base = cex["replay"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["side"] == "base")
        .unwrap();
    assert!(
        base["policies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == base_policy),
        "{cex:#}"
    );
    cex
}

#[test]
fn a_removed_forbid_is_caught_with_a_counterexample() {
    if !solver("a_removed_forbid_is_caught_with_a_counterexample") {
        return;
    }
    // The MFA rule for reads is gone; the one-day rule stays.
    let kept = GUARD.split("@id(\"acme-guard/one-day\")").nth(1).unwrap();
    let head = format!("@id(\"acme-guard/one-day\"){kept}");
    assert!(!head.contains("read-mfa"));
    let dir = repo(&head, LIBRARY);
    let (code, json, stderr) = diff(dir.path());
    assert_eq!(code, 1, "{stderr}\n{json:#}");
    assert_eq!(json["method"], "enumeration");
    assert_eq!(json["proof"]["method"], "proof");
    let cex = caught(&json, "read", "acme-guard/read-mfa");
    assert_eq!(cex["context"]["mfa"], "false", "{cex:#}");
    assert!(
        cex["story"].as_str().unwrap().contains("can now read"),
        "{cex:#}"
    );
    // Writes are as they were: proved, not sampled.
    assert!(
        new_access(&json)
            .iter()
            .all(|f| f["environment"]["action"] == "read")
    );
}

#[test]
fn a_relaxed_mfa_condition_is_caught() {
    if !solver("a_relaxed_mfa_condition_is_caught") {
        return;
    }
    let head = GUARD.replace(
        "when { resource.customer_data && !context.mfa };",
        "when { resource.customer_data && resource.production && !context.mfa };",
    );
    let (code, json, stderr) = diff(repo(&head, LIBRARY).path());
    assert_eq!(code, 1, "{stderr}\n{json:#}");
    let cex = caught(&json, "read", "acme-guard/read-mfa");
    assert_eq!(cex["context"]["mfa"], "false", "{cex:#}");
    let story = cex["story"].as_str().unwrap();
    // The story names what the deciding policies read: the data and the missing MFA.
    assert!(story.contains("customer_data = true"), "{story}");
    assert!(story.contains("mfa = false"), "{story}");
    // Only a non-production resource holding customer data can show the difference.
    let resource = cex["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["uid"].as_str().unwrap().starts_with("Access::Resource"))
        .unwrap();
    assert_eq!(resource["attrs"]["production"], "false", "{cex:#}");
}

#[test]
fn a_longer_duration_bound_is_caught() {
    if !solver("a_longer_duration_bound_is_caught") {
        return;
    }
    let head = GUARD.replace("context.duration_hours > 24", "context.duration_hours > 48");
    let dir = repo(&head, LIBRARY);
    let (code, json, stderr) = diff(dir.path());
    assert_eq!(code, 1, "{stderr}\n{json:#}");
    for action in ["write", "admin"] {
        let cex = caught(&json, action, "acme-guard/one-day");
        let hours: i64 = cex["context"]["duration_hours"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((25..=48).contains(&hours), "{cex:#}");
    }
    // The human output tells the story and says which half is a proof.
    let out = vouch()
        .args(["access", "diff"])
        .arg(dir.path())
        .args(["--base", "main", "--as-of", "2026-11-25", "--prove"])
        .env("VOUCH_CACHE_DIR", dir.path().join(".cache"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("by enumeration"), "{text}");
    assert!(text.contains("proved for every request"), "{text}");
    assert!(text.contains("write: NEW ACCESS"), "{text}");
    assert!(text.contains("read: unchanged"), "{text}");
    assert!(
        text.contains("head: ALLOW") && text.contains("base: DENY by acme-guard/one-day"),
        "{text}"
    );
}

#[test]
fn equivalent_refactors_prove_clean() {
    if !solver("equivalent_refactors_prove_clean") {
        return;
    }
    let refactors = [
        // 1. One rule split in two by a case distinction.
        GUARD.replace(
            "@id(\"acme-guard/read-mfa\")\n@control(\"acme-guard\")\n@message(\"reading customer data needs MFA\")\nforbid (principal is Access::User, action == Access::Action::\"read\", resource is Access::Resource)\nwhen { resource.customer_data && !context.mfa };",
            "@id(\"acme-guard/read-mfa-prod\")\n@control(\"acme-guard\")\n@message(\"reading customer data needs MFA\")\nforbid (principal is Access::User, action == Access::Action::\"read\", resource is Access::Resource)\nwhen { resource.customer_data && resource.production && !context.mfa };\n\n@id(\"acme-guard/read-mfa-other\")\n@control(\"acme-guard\")\n@message(\"reading customer data needs MFA\")\nforbid (principal is Access::User, action == Access::Action::\"read\", resource is Access::Resource)\nwhen { resource.customer_data && !resource.production && !context.mfa };",
        ),
        // 2. Conditions reordered, negation and comparison rewritten.
        GUARD
            .replace(
                "when { resource.customer_data && !context.mfa };",
                "when { context.mfa == false && resource.customer_data };",
            )
            .replace(
                "when { resource.production && context.duration_hours > 24 };",
                "unless { !resource.production || context.duration_hours <= 24 };",
            ),
        // 3. One rule per action instead of `action in [..]`.
        GUARD.replace(
            "@id(\"acme-guard/one-day\")\n@control(\"acme-guard\")\n@message(\"production changes last at most a day\")\nforbid (principal is Access::User, action in [Access::Action::\"write\", Access::Action::\"admin\"], resource is Access::Resource)",
            "@id(\"acme-guard/one-day-admin\")\n@control(\"acme-guard\")\n@message(\"production changes last at most a day\")\nforbid (principal is Access::User, action == Access::Action::\"admin\", resource is Access::Resource)\nwhen { resource.production && context.duration_hours > 24 };\n\n@id(\"acme-guard/one-day\")\n@control(\"acme-guard\")\n@message(\"production changes last at most a day\")\nforbid (principal is Access::User, action == Access::Action::\"write\", resource is Access::Resource)",
        ),
    ];
    for (i, head) in refactors.iter().enumerate() {
        assert_ne!(head, GUARD, "refactor {i} changed nothing");
        let (code, json, stderr) = diff(repo(head, LIBRARY).path());
        assert_eq!(code, 0, "refactor {i}: {stderr}\n{json:#}");
        let proof = &json["proof"];
        assert!(
            proof["failures"].as_array().unwrap().is_empty(),
            "refactor {i}: {proof:#}"
        );
        assert!(
            !proof["changed_policies"].as_array().unwrap().is_empty(),
            "refactor {i}"
        );
        assert!(
            proof["tally"]["proved"].as_u64().unwrap() > 0,
            "refactor {i}: {proof:#}"
        );
    }
}

#[test]
fn a_derived_attribute_refactor_proves_clean_thanks_to_its_invariant() {
    if !solver("a_derived_attribute_refactor_proves_clean_thanks_to_its_invariant") {
        return;
    }
    // `production` is derived from `environment` by the loader; the invariant says how.
    let head = GUARD.replace(
        "when { resource.production && context.duration_hours > 24 };",
        "when { ![\"development\", \"staging\", \"test\"].contains(resource.environment) && context.duration_hours > 24 };",
    );
    let (code, json, stderr) = diff(repo(&head, LIBRARY).path());
    assert_eq!(code, 0, "{stderr}\n{json:#}");
    assert!(
        json["proof"]["loader_invariants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "invariant/resource-production"),
        "{json:#}"
    );
}

#[test]
fn user_invariants_are_proved_or_refuted() {
    if !solver("user_invariants_are_proved_or_refuted") {
        return;
    }
    let toml = format!(
        "{LIBRARY}
[[invariant]]
name = \"eu-data-stays-in-eu\"
description = \"no one outside the EU reads EU customer data\"
actions = [\"read\"]
condition = 'resource.residency.contains(\"eu\") && resource.customer_data && !(principal has region && principal.region == \"eu\")'

[[invariant]]
name = \"no-contractor-writes\"
actions = [\"write\"]
condition = 'principal.login like \"contractor-*\"'
"
    );
    let dir = repo(GUARD, &toml);
    let out = vouch()
        .args(["validate"])
        .arg(dir.path())
        .args(["--prove", "--format", "json", "--no-cache"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{json:#}",
        String::from_utf8_lossy(&out.stderr)
    );
    let failures = json["failures"].as_array().unwrap();
    assert!(
        failures
            .iter()
            .all(|f| f["subject"] != "eu-data-stays-in-eu"),
        "{json:#}"
    );
    let broken = failures
        .iter()
        .find(|f| f["subject"] == "no-contractor-writes")
        .expect("the contractor invariant is refuted");
    let cex = &broken["counterexample"];
    assert_eq!(decision(cex, "library"), "allow", "{cex:#}");
    assert_eq!(decision(cex, "invariant"), "allow", "{cex:#}");
    assert!(
        cex["story"]
            .as_str()
            .unwrap()
            .contains("login = \"contractor-"),
        "{cex:#}"
    );

    // The same invariants in an access diff: checked against the head's policies.
    let (code, json, stderr) = diff(dir.path());
    assert_eq!(code, 1, "{stderr}\n{json:#}");
    assert_eq!(
        json["proof"]["user_invariants"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn a_bad_invariant_condition_points_into_vouch_toml() {
    if !solver("a_bad_invariant_condition_points_into_vouch_toml") {
        return;
    }
    let dir = tree(&[(
        "vouch.toml",
        "[[invariant]]\nname = \"typo\"\ncondition = 'principal.regoin == \"eu\"'\n",
    )]);
    let out = vouch()
        .args(["validate"])
        .arg(dir.path())
        .args(["--prove", "--no-cache"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invariant `typo` does not validate"),
        "{stderr}"
    );
    assert!(stderr.contains("vouch.toml:3"), "{stderr}");
}

fn custom_control(id: &str, policy: &str) -> tempfile::TempDir {
    tree(&[
        ("vouch.toml", LIBRARY),
        (
            &format!("compliance/controls/governance/{id}.toml"),
            &CONTROL
                .replace("acme-guard", id)
                .replace("\"access\"", "\"governance\""),
        ),
        (&format!("compliance/policies/{id}.cedar"), policy),
    ])
}

fn validate(dir: &Path) -> (i32, serde_json::Value, String) {
    let out = vouch()
        .args(["validate"])
        .arg(dir)
        .args(["--prove", "--format", "json", "--no-cache"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or_default(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_shipped_library_proves_clean() {
    if !solver("the_shipped_library_proves_clean") {
        return;
    }
    let dir = tree(&[("README.md", "no vouch.toml")]);
    let (code, json, stderr) = validate(dir.path());
    assert_eq!(code, 0, "{stderr}\n{json:#}");
    assert!(json["policies"].as_u64().unwrap() > 100, "{json:#}");
    assert!(json["tally"]["proved"].as_u64().unwrap() > 100, "{json:#}");
    assert!(
        json["loader_invariants"].as_array().unwrap().len() >= 10,
        "{json:#}"
    );
}

#[test]
fn an_overflowing_policy_is_caught() {
    if !solver("an_overflowing_policy_is_caught") {
        return;
    }
    let dir = custom_control(
        "acme-review-hours",
        r#"@id("acme-review-hours")
@control("acme-review-hours")
@message("the access review is older than 90 days, counted in hours")
forbid (principal, action == Vouch::Action::"comply", resource is Saas::Organization)
when { resource has days_since_access_review && resource.days_since_access_review * 24 > 2160 };
"#,
    );
    let (code, json, stderr) = validate(dir.path());
    assert_eq!(code, 1, "{stderr}\n{json:#}");
    let failures = json["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{json:#}");
    let f = &failures[0];
    assert_eq!(f["check"], "never_errors");
    assert_eq!(f["subject"], "acme-review-hours");
    assert_eq!(f["environment"]["resource"], "Saas::Organization");
    let replay = &f["counterexample"]["replay"][0];
    assert_eq!(replay["side"], "library");
    let errors = replay["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("acme-review-hours")
                && e.as_str().unwrap().contains("overflow")),
        "{f:#}"
    );
}

#[test]
fn vacuous_and_blanket_forbids_are_caught() {
    if !solver("vacuous_and_blanket_forbids_are_caught") {
        return;
    }
    let dir = custom_control(
        "acme-odd",
        r#"@id("acme-odd/never")
@control("acme-odd")
@message("cannot happen: the loader sets days_since_employment_end only once employment ended")
forbid (principal, action == Vouch::Action::"comply", resource is Access::User)
when { resource.employment_ended == false && resource.days_since_employment_end > 0 };

@id("acme-odd/always")
@control("acme-odd")
@message("fires on everything")
forbid (principal, action == Vouch::Action::"comply", resource is Saas::Organization)
when { resource has days_since_access_review || !(resource has days_since_access_review) };
"#,
    );
    let (code, json, stderr) = validate(dir.path());
    assert_eq!(code, 1, "{stderr}\n{json:#}");
    let checks: Vec<(String, String)> = json["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["subject"].as_str().unwrap().to_owned(),
                f["check"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        checks,
        [
            ("acme-odd/always".to_owned(), "not_always_fires".to_owned()),
            ("acme-odd/never".to_owned(), "can_fire".to_owned()),
        ],
        "{json:#}"
    );
}

#[test]
fn a_missing_solver_exits_2_saying_how_to_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let dir = repo(GUARD, LIBRARY);
    for args in [
        vec!["validate", "--prove"],
        vec!["access", "diff", "--base", "main", "--prove"],
    ] {
        let out = vouch()
            .args(&args)
            .arg(dir.path())
            .env_remove("CVC5")
            .env("PATH", empty.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cvc5 is not installed"),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("apt-get install cvc5"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("proved"));
    }
    // A CVC5 that names nothing is no solver either.
    let out = vouch()
        .args(["validate", "--prove"])
        .arg(dir.path())
        .env("CVC5", empty.path().join("cvc5"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("names no file"));
}
