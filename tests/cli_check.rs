//! `vouch check` end to end: the real binary on real temp trees.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{GOOD_IDP, check_json, results_of, tree, vouch};

const BAD_IDP: &str = r#"
[[identity_provider]]
id = "okta"
sso_enforced = false
mfa = "phishing_resistant"
scim = { enabled = true, deprovision_within_hours = 4 }
session_timeout_minutes = 480
"#;

#[test]
fn violation_exits_1_with_the_result_contract() {
    let dir = tree(&[("inventory/identity.toml", BAD_IDP)]);
    let (code, json, _) = check_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(json["schema_version"], 1);
    let sso = results_of(&json, "sso-enforced");
    assert_eq!(sso.len(), 1);
    let r = sso[0];
    assert_eq!(r["status"], "fail");
    assert_eq!(r["severity"], "high");
    assert_eq!(r["resource"]["address"], "identity_provider:okta");
    assert_eq!(r["resource"]["file"], "inventory/identity.toml");
    assert_eq!(r["resource"]["line"], 2);
    assert_eq!(r["policies"][0], "sso-enforced");
    assert!(
        r["messages"][0]
            .as_str()
            .unwrap()
            .contains("single sign-on")
    );
    assert!(
        r["frameworks"]["soc2"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "CC6.1")
    );
    assert!(r["fingerprint"].as_str().unwrap().len() >= 16);
}

#[test]
fn compliant_tree_passes_the_control() {
    let dir = tree(&[("identity.toml", GOOD_IDP)]);
    let (_, json, _) = check_json(dir.path(), &[]);
    let sso = results_of(&json, "sso-enforced");
    assert_eq!(sso[0]["status"], "pass");
}

#[test]
fn fail_on_threshold_decides_the_exit_code() {
    let dir = tree(&[("identity.toml", BAD_IDP)]);
    let (code, _, _) = check_json(
        dir.path(),
        &["--control", "sso-enforced", "--fail-on", "critical"],
    );
    assert_eq!(code, 0, "a high finding is below a critical threshold");
    let (code, _, _) = check_json(
        dir.path(),
        &["--control", "sso-enforced", "--fail-on", "high"],
    );
    assert_eq!(code, 1);
}

#[test]
fn control_and_framework_filters_select_controls() {
    let dir = tree(&[("identity.toml", BAD_IDP)]);
    let (_, json, _) = check_json(dir.path(), &["--control", "sso-enforced"]);
    let controls: std::collections::BTreeSet<&str> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["control"].as_str().unwrap())
        .collect();
    assert_eq!(
        controls.into_iter().collect::<Vec<_>>(),
        vec!["sso-enforced"]
    );
    let (_, json, _) = check_json(dir.path(), &["--framework", "hipaa"]);
    for r in json["results"].as_array().unwrap() {
        assert!(
            r["frameworks"]["hipaa"]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "{r}"
        );
    }
}

#[test]
fn unknown_control_or_framework_is_an_error() {
    let dir = tree(&[("identity.toml", GOOD_IDP)]);
    let (code, _, stderr) = check_json(dir.path(), &["--control", "no-such-control"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown control `no-such-control`"),
        "{stderr}"
    );
    let (code, _, stderr) = check_json(dir.path(), &["--framework", "pci"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown framework `pci`"), "{stderr}");
}

#[test]
fn malformed_inventory_exits_2_and_points_at_the_span() {
    let dir = tree(&[
        ("a.toml", "[[tenant]]\nid = \"x\"\ntier = \n"),
        (
            "b.toml",
            "[[identity_provider]]\nid = \"okta\"\nsso_enforced = \"yes\"\nmfa = \"required\"\n",
        ),
    ]);
    let out = vouch()
        .arg("check")
        .arg(dir.path())
        .args(["--as-of", common::AS_OF])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Every malformed file is reported in one run, with its name and line.
    assert!(stderr.contains("a.toml"), "{stderr}");
    assert!(stderr.contains("b.toml"), "{stderr}");
    assert!(stderr.contains("[b.toml:3:"), "{stderr}");
}

#[test]
fn unknown_inventory_field_is_an_error_not_a_skip() {
    let dir = tree(&[(
        "inv.toml",
        "[[identity_provider]]\nid = \"okta\"\nsso_enforced = true\nmfa = \"required\"\nmfa_policy = \"x\"\n",
    )]);
    let (code, json, _) = check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        json["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("mfa_policy")
    );
    assert!(
        json["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] != "pass" || r["resource"].is_null())
    );
}

#[test]
fn unrecognised_files_are_counted_not_errors() {
    let dir = tree(&[
        ("identity.toml", GOOD_IDP),
        ("Cargo.toml", "[package]\nname = \"x\"\n"),
        ("notes.json", "{\"hello\": 1}"),
        (".github/workflows/ci.yml", "on: push\njobs: {}\n"),
    ]);
    let (_, json, _) = check_json(dir.path(), &[]);
    assert_eq!(
        json["summary"]["unrecognised_files"], 3,
        "{}",
        json["unrecognised"]
    );
    assert!(json["problems"].as_array().unwrap().is_empty());
}

#[test]
fn output_is_byte_identical_across_runs() {
    let dir = tree(&[("identity.toml", BAD_IDP)]);
    let run = || {
        vouch()
            .arg("check")
            .arg(dir.path())
            .args(["--as-of", common::AS_OF, "--format", "json"])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run(), run());
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_tree_are_not_followed() {
    let outside = tree(&[("secret.toml", BAD_IDP)]);
    let dir = tree(&[("identity.toml", GOOD_IDP)]);
    std::os::unix::fs::symlink(
        outside.path().join("secret.toml"),
        dir.path().join("link.toml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linkdir")).unwrap();
    let (_, json, _) = check_json(dir.path(), &[]);
    assert_eq!(json["summary"]["files"], 1, "{}", json["files"]);
    // Not read, but never silently: the link is listed with the skipped files.
    assert!(
        json["unrecognised"].to_string().contains("link.toml"),
        "{}",
        json["unrecognised"]
    );
}

#[test]
fn skipped_directories_are_not_read() {
    let dir = tree(&[
        ("identity.toml", GOOD_IDP),
        (".terraform/modules/x.toml", BAD_IDP),
        ("node_modules/pkg/inv.toml", BAD_IDP),
    ]);
    let (_, json, _) = check_json(dir.path(), &[]);
    assert_eq!(json["summary"]["files"], 1);
}

#[test]
fn vouch_toml_excludes_paths() {
    let dir = tree(&[
        ("identity.toml", GOOD_IDP),
        ("legacy/old.toml", BAD_IDP),
        ("vouch.toml", "[check]\nexclude = [\"legacy/**\"]\n"),
    ]);
    let (_, json, _) = check_json(dir.path(), &[]);
    let files: Vec<&String> = json["files"].as_object().unwrap().keys().collect();
    assert_eq!(files, vec!["identity.toml", "vouch.toml"]);
}

#[test]
fn missing_path_is_a_run_failure() {
    let out = vouch()
        .args(["check", "/definitely/not/here"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn human_output_points_into_the_file() {
    let dir = tree(&[("identity.toml", BAD_IDP)]);
    let out = vouch()
        .arg("check")
        .arg(dir.path())
        .args(["--as-of", common::AS_OF, "--control", "sso-enforced"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    insta::assert_snapshot!("human_sso_failure", stdout);
}
