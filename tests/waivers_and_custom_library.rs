//! Waivers in vouch.toml and an organisation's own controls.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{check_json, results_of, tree};

const BAD_IDP: &str = "[[identity_provider]]\nid = \"okta\"\nsso_enforced = false\nmfa = \"phishing_resistant\"\nscim = { enabled = true, deprovision_within_hours = 4 }\nsession_timeout_minutes = 480\n";

fn waiver(expires: &str) -> String {
    format!(
        "[[waiver]]\ncontrol = \"sso-enforced\"\nresource = \"identity_provider:*\"\nreason = \"migration to SSO in Q1\"\napprover = \"ciso@acme.example\"\nexpires = {expires}\nticket = \"SEC-1\"\n"
    )
}

#[test]
fn current_waiver_waives_the_failure() {
    let dir = tree(&[("idp.toml", BAD_IDP), ("vouch.toml", &waiver("2027-01-31"))]);
    let (code, json, _) = check_json(dir.path(), &["--control", "sso-enforced"]);
    assert_eq!(code, 0);
    let r = results_of(&json, "sso-enforced")[0];
    assert_eq!(r["status"], "waived");
    assert_eq!(r["waiver"]["approver"], "ciso@acme.example");
    assert_eq!(json["waivers"][0]["matched"], 1);
}

#[test]
fn expired_waiver_fails() {
    let dir = tree(&[("idp.toml", BAD_IDP), ("vouch.toml", &waiver("2026-01-31"))]);
    let (code, json, _) = check_json(dir.path(), &["--control", "sso-enforced"]);
    assert_eq!(code, 1);
    let r = results_of(&json, "sso-enforced")[0];
    assert_eq!(r["status"], "fail");
    assert!(r["messages"].to_string().contains("expired on 2026-01-31"));
    assert_eq!(json["waivers"][0]["expired"], true);
}

#[test]
fn a_manual_control_is_waived_by_a_whole_control_waiver() {
    let cfg = |resource: &str| {
        format!(
            "[[waiver]]\ncontrol = \"background-checks\"\nresource = \"{resource}\"\nreason = \"screening vendor chosen, starts in Q1\"\napprover = \"ciso@acme.example\"\nexpires = 2027-01-31\n"
        )
    };
    // No attestation: the manual control fails, and `resource = "*"` accepts the risk.
    let org = "[organization]\nname = \"acme\"\n";
    let dir = tree(&[("vouch.toml", &cfg("*")), ("org.toml", org)]);
    let (code, json, _) = check_json(dir.path(), &["--control", "background-checks"]);
    assert_eq!(code, 0, "{json}");
    let r = results_of(&json, "background-checks")[0];
    assert_eq!(r["status"], "waived");
    assert_eq!(r["waiver"]["approver"], "ciso@acme.example");
    // A waiver naming a resource does not cover a control that has none.
    let dir = tree(&[("vouch.toml", &cfg("people:*")), ("org.toml", org)]);
    let (code, json, _) = check_json(dir.path(), &["--control", "background-checks"]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(results_of(&json, "background-checks")[0]["status"], "fail");
    assert_eq!(json["waivers"][0]["matched"], 0);
}

#[test]
fn waiver_without_approver_is_a_config_error() {
    let cfg = "[[waiver]]\ncontrol = \"sso-enforced\"\nresource = \"identity_provider:okta\"\nreason = \"x\"\nexpires = 2027-01-01\n";
    let dir = tree(&[("idp.toml", BAD_IDP), ("vouch.toml", cfg)]);
    let (code, json, _) = check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        json["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("has no approver")
    );
}

#[test]
fn unmatched_waiver_is_reported() {
    let good = BAD_IDP.replace("sso_enforced = false", "sso_enforced = true");
    let dir = tree(&[("idp.toml", &good), ("vouch.toml", &waiver("2027-01-31"))]);
    let (_, json, _) = check_json(dir.path(), &[]);
    assert_eq!(json["waivers"][0]["matched"], 0);
}

const CUSTOM_CONTROL: &str = r#"
id = "acme-no-shard-tenants"
title = "Acme keeps no tenant on a shared shard"
family = "acme"
severity = "medium"
effort = 5
description = "Acme's contracts promise at least a dedicated shard."
remediation = "Move the tenant to a shard."
[frameworks]
soc2 = ["CC6.1"]
"#;

const CUSTOM_POLICY: &str = r#"
@id("acme-no-shard-tenants")
@control("acme-no-shard-tenants")
@message("tenant is on the shared pool")
forbid (principal, action == Vouch::Action::"comply", resource is Saas::Tenant)
when { resource.isolation == "shared" };
"#;

const TENANT: &str = "[[tenant]]\nid = \"t1\"\ntier = \"free\"\nisolation = \"shared\"\n";

#[test]
fn custom_controls_from_vouch_toml_are_evaluated() {
    let dir = tree(&[
        ("vouch.toml", "[library]\npaths = [\"compliance\"]\n"),
        (
            "compliance/controls/acme/acme-no-shard-tenants.toml",
            CUSTOM_CONTROL,
        ),
        (
            "compliance/policies/acme/acme-no-shard-tenants.cedar",
            CUSTOM_POLICY,
        ),
        ("inventory.toml", TENANT),
    ]);
    let (code, json, stderr) = check_json(dir.path(), &["--control", "acme-no-shard-tenants"]);
    assert_eq!(code, 1, "{stderr}");
    let r = results_of(&json, "acme-no-shard-tenants")[0];
    assert_eq!(r["status"], "fail");
    assert_eq!(r["resource"]["address"], "tenant:t1");
    // The library directory itself is not scanned as input.
    assert!(
        json["files"]
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.starts_with("compliance/"))
    );
}

#[test]
fn custom_policy_that_does_not_validate_fails_the_run() {
    let bad = CUSTOM_POLICY.replace("resource.isolation", "resource.isolaton");
    let dir = tree(&[
        ("vouch.toml", "[library]\npaths = [\"compliance\"]\n"),
        (
            "compliance/controls/acme/acme-no-shard-tenants.toml",
            CUSTOM_CONTROL,
        ),
        ("compliance/policies/acme/acme-no-shard-tenants.cedar", &bad),
        ("inventory.toml", TENANT),
    ]);
    let (code, json, stderr) = check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("isolaton"), "{stderr}");
    assert!(
        json["results"].as_array().unwrap().is_empty(),
        "nothing may pass when the library is invalid"
    );
}

#[test]
fn mapping_to_an_unknown_requirement_is_a_load_error() {
    let bad = CUSTOM_CONTROL.replace("CC6.1", "CC6.99");
    let dir = tree(&[
        ("vouch.toml", "[library]\npaths = [\"compliance\"]\n"),
        ("compliance/controls/acme/acme-no-shard-tenants.toml", &bad),
        (
            "compliance/policies/acme/acme-no-shard-tenants.cedar",
            CUSTOM_POLICY,
        ),
    ]);
    let out = common::vouch()
        .arg("validate")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`CC6.99` is not a requirement of `soc2`"),
        "{stderr}"
    );
}

#[test]
fn custom_fixtures_run_with_vouch_test() {
    let dir = tree(&[
        ("vouch.toml", "[library]\npaths = [\"compliance\"]\n"),
        (
            "compliance/controls/acme/acme-no-shard-tenants.toml",
            CUSTOM_CONTROL,
        ),
        (
            "compliance/policies/acme/acme-no-shard-tenants.cedar",
            CUSTOM_POLICY,
        ),
        (
            "compliance/controls/acme/acme-no-shard-tenants/violating/inv.toml",
            TENANT,
        ),
        (
            "compliance/controls/acme/acme-no-shard-tenants/compliant/inv.toml",
            "[[tenant]]\nid = \"t1\"\ntier = \"free\"\nisolation = \"shard\"\n",
        ),
    ]);
    let out = common::vouch()
        .arg("test")
        .arg(dir.path())
        .args(["--control", "acme-no-shard-tenants"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("ok     acme-no-shard-tenants/violating"),
        "{stdout}"
    );
}

/// Runs the custom control `acme-no-shard-tenants` (policy text given) over tenants.
fn custom_tenant_results(policy: &str, tenants: &[(&str, &str)]) -> Vec<(String, String, String)> {
    let inventory: String = tenants
        .iter()
        .map(|(id, isolation)| {
            format!("[[tenant]]\nid = \"{id}\"\ntier = \"free\"\nisolation = \"{isolation}\"\n")
        })
        .collect();
    let dir = tree(&[
        ("vouch.toml", "[library]\npaths = [\"compliance\"]\n"),
        (
            "compliance/controls/acme/acme-no-shard-tenants.toml",
            CUSTOM_CONTROL,
        ),
        (
            "compliance/policies/acme/acme-no-shard-tenants.cedar",
            policy,
        ),
        ("inventory.toml", &inventory),
    ]);
    let (code, json, stderr) = check_json(dir.path(), &["--control", "acme-no-shard-tenants"]);
    assert!(code < 2, "{stderr}");
    results_of(&json, "acme-no-shard-tenants")
        .into_iter()
        .map(|r| {
            (
                r["resource"]["address"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
                r["fingerprint"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// (address, status) of each result.
fn statuses(results: &[(String, String, String)]) -> Vec<(&str, &str)> {
    results
        .iter()
        .map(|(a, s, _)| (a.as_str(), s.as_str()))
        .collect()
}

#[test]
fn resources_with_equal_facts_each_get_their_own_result() {
    // Equal facts are decided once (the engine's memo); each resource still gets its result,
    // under its own address and fingerprint, and different facts are decided on their own.
    let results = custom_tenant_results(
        CUSTOM_POLICY,
        &[
            ("t1", "shared"),
            ("t2", "shared"),
            ("t3", "shard"),
            ("t4", "shared"),
        ],
    );
    assert_eq!(
        statuses(&results),
        [
            ("tenant:t1", "fail"),
            ("tenant:t2", "fail"),
            ("tenant:t3", "pass"),
            ("tenant:t4", "fail")
        ]
    );
    let fingerprints: std::collections::BTreeSet<&str> =
        results.iter().map(|(_, _, f)| f.as_str()).collect();
    assert_eq!(fingerprints.len(), 4);
}

#[test]
fn a_policy_that_names_a_resource_is_decided_per_resource() {
    // Equal facts, but the policy tells the two tenants apart by identity: no decision may be
    // carried from one to the other.
    for condition in [
        r#"resource != Saas::Tenant::"tenant:t2""#,
        r#"!(resource in Saas::Tenant::"tenant:t2")"#,
        r#"![Saas::Tenant::"tenant:t2"].contains(resource)"#,
    ] {
        let policy = format!(
            "@id(\"acme-no-shard-tenants\")\n@control(\"acme-no-shard-tenants\")\n@message(\"tenant is on the shared pool\")\nforbid (principal, action == Vouch::Action::\"comply\", resource is Saas::Tenant)\nwhen {{ resource.isolation == \"shared\" && {condition} }};\n"
        );
        let results = custom_tenant_results(&policy, &[("t1", "shared"), ("t2", "shared")]);
        assert_eq!(
            statuses(&results),
            [("tenant:t1", "fail"), ("tenant:t2", "pass")],
            "{condition}"
        );
    }
}

#[test]
fn an_attribute_tested_and_read_is_decided_by_its_value() {
    // `has` alone sees only presence, but the same attribute read by value must keep tenants
    // with different values apart.
    let policy = CUSTOM_POLICY.replace(
        "resource.isolation == \"shared\"",
        "resource has isolation && resource.isolation == \"shared\"",
    );
    assert_ne!(policy, CUSTOM_POLICY);
    let results = custom_tenant_results(
        &policy,
        &[("t1", "shared"), ("t2", "shard"), ("t3", "shared")],
    );
    assert_eq!(
        statuses(&results),
        [
            ("tenant:t1", "fail"),
            ("tenant:t2", "pass"),
            ("tenant:t3", "fail")
        ]
    );
}
