//! Manual controls end to end: the real binary decides them from `[[attestation]]` entries of
//! the inventory; a missing or expired attestation fails, never passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{check_json, results_of, tree, vouch};

/// `[[attestation]]` for `control` expiring on `expires`.
fn attestation(control: &str, owner: &str, evidence: &str, expires: &str) -> String {
    format!(
        "[[attestation]]\ncontrol = \"{control}\"\nowner = \"{owner}\"\nevidence = \"{evidence}\"\ndate = 2026-03-02\nexpires = {expires}\n"
    )
}

/// The single result of `control` in a run restricted to it, with the exit code.
fn run_one(files: &[(&str, &str)], control: &str, as_of: &str) -> (i32, serde_json::Value) {
    let dir = tree(files);
    let out = vouch()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json", "--control", control, "--as-of", as_of])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(
        code,
        2,
        "the run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = results_of(&json, control);
    assert_eq!(results.len(), 1, "{json}");
    (code, results[0].clone())
}

#[test]
fn a_current_attestation_passes_and_is_carried_in_the_result() {
    let inv = attestation(
        "risk-assessment",
        "ciso@acme.example",
        "https://acme.example/isms/risk-register-2026",
        "2027-03-02",
    );
    let (code, r) = run_one(
        &[("inventory/governance.toml", &inv)],
        "risk-assessment",
        "2026-11-25",
    );
    assert_eq!(code, 0);
    assert_eq!(r["status"], "pass");
    assert_eq!(r["family"], "governance");
    assert!(r["resource"].is_null(), "{r}");
    let a = &r["attestation"];
    assert_eq!(a["control"], "risk-assessment");
    assert_eq!(a["owner"], "ciso@acme.example");
    assert_eq!(
        a["evidence"],
        "https://acme.example/isms/risk-register-2026"
    );
    assert_eq!(a["date"], "2026-03-02");
    assert_eq!(a["expires"], "2027-03-02");
    assert_eq!(a["file"], "inventory/governance.toml");
    assert_eq!(a["line"], 1);
    let msg = r["messages"][0].as_str().unwrap();
    assert!(
        msg.contains("ciso@acme.example") && msg.contains("2027-03-02"),
        "{msg}"
    );
    assert!(
        r["frameworks"]["hipaa"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "164.308(a)(1)(ii)(A)"),
        "{r}"
    );
}

#[test]
fn an_expired_attestation_fails_and_is_carried_in_the_result() {
    let inv = attestation(
        "security-awareness-training",
        "people-ops@acme.example",
        "https://acme.example/lms/2025",
        "2026-03-01",
    );
    let (code, r) = run_one(
        &[("inventory/people.toml", &inv)],
        "security-awareness-training",
        "2026-11-25",
    );
    assert_eq!(code, 1);
    assert_eq!(r["status"], "fail");
    assert_eq!(r["attestation"]["owner"], "people-ops@acme.example");
    assert_eq!(
        r["attestation"]["evidence"],
        "https://acme.example/lms/2025"
    );
    assert_eq!(r["attestation"]["expires"], "2026-03-01");
    let msg = r["messages"][0].as_str().unwrap();
    assert!(msg.contains("expired on 2026-03-01"), "{msg}");
}

#[test]
fn a_missing_attestation_fails() {
    let (code, r) = run_one(
        &[("inventory/identity.toml", common::GOOD_IDP)],
        "penetration-test",
        "2026-11-25",
    );
    assert_eq!(code, 1);
    assert_eq!(r["status"], "fail");
    assert!(r["attestation"].is_null(), "{r}");
    let msg = r["messages"][0].as_str().unwrap();
    assert!(
        msg.contains("no attestation for manual control `penetration-test`"),
        "{msg}"
    );
}

#[test]
fn a_missing_attestation_fails_where_the_tree_declares_an_organisation() {
    let (code, r) = run_one(
        &[("org.toml", "[organization]\nname = \"acme\"\n")],
        "risk-assessment",
        "2026-11-25",
    );
    assert_eq!(code, 1);
    assert_eq!(r["status"], "fail");
    assert_eq!(r["basis"], "attestation_unverified");
}

#[test]
fn without_an_organisation_manual_controls_are_not_evaluated_rather_than_failing() {
    let dir = tree(&[("README.md", "nothing here\n")]);
    let out = vouch()
        .arg("check")
        .arg(dir.path())
        .args([
            "--format",
            "json",
            "--control",
            "risk-assessment",
            "--as-of",
            "2026-11-25",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(results_of(&json, "risk-assessment").is_empty(), "{json}");
    assert_eq!(
        json["not_evaluated"]["controls"],
        serde_json::json!(["risk-assessment"])
    );
}

#[test]
fn the_expiry_date_itself_is_still_current() {
    let inv = attestation(
        "internal-audit",
        "audit@acme.example",
        "IA-2026",
        "2026-11-25",
    );
    let (_, r) = run_one(&[("inv.toml", &inv)], "internal-audit", "2026-11-25");
    assert_eq!(r["status"], "pass");
    let (_, r) = run_one(&[("inv.toml", &inv)], "internal-audit", "2026-11-26");
    assert_eq!(r["status"], "fail");
}

#[test]
fn as_of_decides_whether_an_attestation_is_current() {
    let inv = attestation(
        "penetration-test",
        "sec@acme.example",
        "pentest-2026.pdf",
        "2027-01-31",
    );
    let (code, r) = run_one(&[("inv.toml", &inv)], "penetration-test", "2026-12-01");
    assert_eq!((code, r["status"].as_str()), (0, Some("pass")));
    let (code, r) = run_one(&[("inv.toml", &inv)], "penetration-test", "2027-02-01");
    assert_eq!((code, r["status"].as_str()), (1, Some("fail")));
}

#[test]
fn the_newest_attestation_decides() {
    let inv = format!(
        "{}\n{}",
        attestation(
            "vendor-risk-reviews",
            "old@acme.example",
            "reviews-2025",
            "2026-05-01"
        ),
        attestation(
            "vendor-risk-reviews",
            "new@acme.example",
            "reviews-2026",
            "2027-05-01"
        ),
    );
    let (code, r) = run_one(
        &[("inventory/vendors.toml", &inv)],
        "vendor-risk-reviews",
        "2026-11-25",
    );
    assert_eq!(code, 0);
    assert_eq!(r["status"], "pass");
    assert_eq!(r["attestation"]["owner"], "new@acme.example");
    assert_eq!(r["attestation"]["line"], 8);
}

#[test]
fn an_attestation_for_another_control_does_not_count() {
    let inv = attestation(
        "risk-assessment",
        "ciso@acme.example",
        "register",
        "2027-03-02",
    );
    let (code, r) = run_one(&[("inv.toml", &inv)], "management-review", "2026-11-25");
    assert_eq!(code, 1);
    assert_eq!(r["status"], "fail");
    assert!(r["attestation"].is_null());
}

#[test]
fn an_incomplete_attestation_is_a_run_failure() {
    let dir = tree(&[(
        "inv.toml",
        "[[attestation]]\ncontrol = \"risk-assessment\"\nowner = \"ciso@acme.example\"\ndate = 2026-03-02\nexpires = 2027-03-02\n",
    )]);
    let (code, _, stderr) = check_json(dir.path(), &["--control", "risk-assessment"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("evidence"), "{stderr}");
}

#[test]
fn an_attestation_must_name_a_manual_control_of_the_library() {
    // A typo: the run fails (never a quiet "missing attestation"), at the attestation, with
    // the control it most likely meant.
    let inv = attestation(
        "risk-asessment",
        "ciso@acme.example",
        "register",
        "2027-03-02",
    );
    let dir = tree(&[("inv.toml", &inv)]);
    let (code, _, stderr) = check_json(dir.path(), &["--control", "risk-assessment"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`risk-asessment`, which the library does not define"),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean `risk-assessment`"),
        "{stderr}"
    );
    assert!(stderr.contains("inv.toml:1:1"), "{stderr}");

    // An automated control is decided by its policies, not by a signature.
    let inv = attestation(
        "audit-log-retention",
        "ciso@acme.example",
        "memo",
        "2027-03-02",
    );
    let dir = tree(&[("inv.toml", &inv)]);
    let (code, _, stderr) = check_json(dir.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("an automated control"), "{stderr}");

    // The right name is no problem.
    let inv = attestation(
        "risk-assessment",
        "ciso@acme.example",
        "register",
        "2027-03-02",
    );
    let dir = tree(&[("inv.toml", &inv)]);
    let (code, _, stderr) = check_json(dir.path(), &["--control", "risk-assessment"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn human_output_shows_the_attestation_snippet_to_add() {
    let dir = tree(&[("org.toml", "[organization]\nname = \"acme\"\n")]);
    let out = vouch()
        .arg("check")
        .arg(dir.path())
        .args(["--as-of", common::AS_OF, "--control", "background-checks"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("background-checks"), "{stdout}");
    assert!(stdout.contains("[[attestation]]"), "{stdout}");
    assert!(
        stdout.contains("control = \"background-checks\""),
        "{stdout}"
    );
}

#[test]
fn every_manual_control_names_its_attestation_in_the_remediation() {
    let (lib, problems) = vouch::library::Library::load(&[]);
    assert!(problems.is_empty(), "{problems:#?}");
    let manual: Vec<_> = lib.controls.values().filter(|c| !c.automated).collect();
    assert!(manual.len() >= 15, "only {} manual controls", manual.len());
    for c in manual {
        let snippet = format!("[[attestation]]\ncontrol = \"{}\"", c.id);
        assert!(
            c.remediation.contains(&snippet),
            "{}: {}",
            c.id,
            c.remediation
        );
        for field in ["owner = ", "evidence = ", "date = ", "expires = "] {
            assert!(c.remediation.contains(field), "{}: no `{field}`", c.id);
        }
        assert!(
            !lib.fixture_files(c)
                .iter()
                .any(|f| f.path.ends_with(".cedar"))
        );
    }
}

#[test]
fn fixtures_ignore_manual_controls() {
    let out = vouch()
        .args(["test", "--control", "risk-assessment"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
