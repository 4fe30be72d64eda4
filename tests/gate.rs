//! `vouch gate` on real git repositories built in temp dirs with pinned author dates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command as Std;

use common::{AS_OF, vouch};

/// Runs git in `dir` with pinned identity and dates.
fn git(dir: &Path, args: &[&str]) {
    let out = Std::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@acme.example")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@acme.example")
        .env("GIT_AUTHOR_DATE", "2026-11-01T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-11-01T10:00:00Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn commit_all(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

const OK: &str = "[[integration]]\nid = \"slack\"\napproved = true\ncategory = \"chat\"\n";
const BAD: &str =
    "[[integration]]\nid = \"dropbox\"\napproved = false\ncategory = \"document_sharing\"\n";

/// A repository whose `main` has one approved and one unapproved integration, and a `feature`
/// branch checked out.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write(
        dir.path(),
        "inventory/integrations.toml",
        &format!("{OK}\n{BAD}"),
    );
    commit_all(dir.path(), "base");
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    dir
}

fn gate(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let out = vouch()
        .arg("gate")
        .arg(dir)
        .args([
            "--base",
            "main",
            "--as-of",
            AS_OF,
            "--format",
            "json",
            "--control",
            "approved-integrations-only",
        ])
        .args(extra)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn addresses(json: &serde_json::Value, key: &str) -> Vec<String> {
    json[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource"]["address"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn identical_base_and_head_report_nothing_new() {
    let dir = repo();
    let (code, json, stderr) = gate(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["verdict"], "pass");
    assert!(json["new"].as_array().unwrap().is_empty());
    assert_eq!(addresses(&json, "existing"), vec!["integration:dropbox"]);
    assert_eq!(json["uncommitted_changes"], false);
}

#[test]
fn a_commit_that_adds_a_violation_fails_with_exactly_that_finding() {
    let dir = repo();
    write(
        dir.path(),
        "inventory/more.toml",
        "[[integration]]\nid = \"wetransfer\"\napproved = false\n",
    );
    commit_all(dir.path(), "add wetransfer");
    let (code, json, _) = gate(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(json["verdict"], "fail");
    assert_eq!(addresses(&json, "new"), vec!["integration:wetransfer"]);
    assert_eq!(json["new"][0]["resource"]["file"], "inventory/more.toml");
}

#[test]
fn a_commit_that_fixes_a_finding_passes_and_lists_it() {
    let dir = repo();
    write(dir.path(), "inventory/integrations.toml", OK);
    commit_all(dir.path(), "remove dropbox");
    let (code, json, _) = gate(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(addresses(&json, "fixed"), vec!["integration:dropbox"]);
}

#[test]
fn moving_a_resource_to_another_file_is_not_new() {
    let dir = repo();
    write(dir.path(), "inventory/integrations.toml", OK);
    write(
        dir.path(),
        "inventory/moved/elsewhere.toml",
        &format!("# moved here\n\n{BAD}"),
    );
    commit_all(dir.path(), "move dropbox");
    let (code, json, _) = gate(dir.path(), &[]);
    assert_eq!(code, 0, "{json}");
    assert!(json["new"].as_array().unwrap().is_empty());
    assert!(json["fixed"].as_array().unwrap().is_empty());
    assert_eq!(
        json["existing"][0]["resource"]["file"],
        "inventory/moved/elsewhere.toml"
    );
}

#[test]
fn all_fails_on_existing_findings_too() {
    let dir = repo();
    let (code, json, _) = gate(dir.path(), &["--all"]);
    assert_eq!(code, 1);
    assert_eq!(json["fail_on_existing"], true);
}

#[test]
fn an_expired_waiver_fails_the_gate() {
    let dir = repo();
    write(
        dir.path(),
        "vouch.toml",
        "[[waiver]]\ncontrol = \"approved-integrations-only\"\nresource = \"integration:dropbox\"\nreason = \"legacy contract\"\napprover = \"ciso@acme.example\"\nexpires = 2026-10-01\n",
    );
    commit_all(dir.path(), "waive dropbox");
    let (code, json, _) = gate(dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        json["reasons"]
            .to_string()
            .contains("expired on 2026-10-01"),
        "{}",
        json["reasons"]
    );
}

#[test]
fn a_current_waiver_is_reported_as_waived() {
    let dir = repo();
    write(
        dir.path(),
        "vouch.toml",
        "[[waiver]]\ncontrol = \"approved-integrations-only\"\nresource = \"integration:*\"\nreason = \"legacy contract\"\napprover = \"ciso@acme.example\"\nexpires = 2027-10-01\nticket = \"SEC-9\"\n",
    );
    commit_all(dir.path(), "waive dropbox");
    let (code, json, _) = gate(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(addresses(&json, "waived"), vec!["integration:dropbox"]);
}

#[test]
fn a_malformed_file_at_head_exits_2() {
    let dir = repo();
    write(
        dir.path(),
        "inventory/broken.toml",
        "[[integration]]\nid = \"x\"\napproved = \n",
    );
    commit_all(dir.path(), "break it");
    let (code, json, stderr) = gate(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(json["verdict"], "error");
    assert!(stderr.contains("broken.toml"), "{stderr}");
}

#[test]
fn a_bad_revision_exits_2() {
    let dir = repo();
    let out = vouch()
        .arg("gate")
        .arg(dir.path())
        .args(["--base", "no-such-branch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-branch"));
}

#[test]
fn uncommitted_changes_are_evaluated_and_said() {
    let dir = repo();
    write(
        dir.path(),
        "inventory/wip.toml",
        "[[integration]]\nid = \"wip\"\napproved = false\n",
    );
    let (code, json, _) = gate(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(json["uncommitted_changes"], true);
    assert!(json["head"].is_null());
    assert_eq!(addresses(&json, "new"), vec!["integration:wip"]);
    let human = vouch()
        .arg("gate")
        .arg(dir.path())
        .args(["--base", "main", "--as-of", AS_OF])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&human.stdout).contains("uncommitted changes"));
}

#[test]
fn changes_to_the_organisations_own_controls_are_evaluated_and_listed() {
    let dir = repo();
    let control = "id = \"acme-chat-only\"\ntitle = \"Only chat integrations\"\nfamily = \"acme\"\nseverity = \"low\"\neffort = 1\ndescription = \"d\"\nremediation = \"r\"\n[frameworks]\nsoc2 = [\"CC6.7\"]\niso27001 = [\"A.5.14\"]\n";
    let policy = "@id(\"acme-chat-only\")\n@control(\"acme-chat-only\")\n@message(\"not a chat integration\")\nforbid (principal, action == Vouch::Action::\"comply\", resource is Saas::Integration)\nwhen { resource.category != \"chat\" };\n";
    write(
        dir.path(),
        "vouch.toml",
        "[library]\npaths = [\"compliance\"]\n",
    );
    write(
        dir.path(),
        "compliance/controls/acme/acme-chat-only.toml",
        control,
    );
    write(
        dir.path(),
        "compliance/policies/acme/acme-chat-only.cedar",
        policy,
    );
    commit_all(dir.path(), "add our own control");
    let out = vouch()
        .arg("gate")
        .arg(dir.path())
        .args([
            "--base",
            "main",
            "--as-of",
            AS_OF,
            "--format",
            "json",
            "--control",
            "acme-chat-only",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["changed_controls"][0]["control"], "acme-chat-only");
    assert_eq!(json["changed_controls"][0]["change"], "added");
    assert_eq!(addresses(&json, "new"), vec!["integration:dropbox"]);
}

#[test]
fn sarif_is_valid_sarif_2_1_0_and_junit_and_markdown_are_written() {
    let dir = repo();
    write(
        dir.path(),
        "inventory/more.toml",
        "[[integration]]\nid = \"wetransfer\"\napproved = false\n",
    );
    commit_all(dir.path(), "add wetransfer");
    let out_dir = tempfile::tempdir().unwrap();
    let sarif = out_dir.path().join("vouch.sarif");
    let junit = out_dir.path().join("vouch.xml");
    let summary = out_dir.path().join("summary.md");
    let out = vouch()
        .arg("gate")
        .arg(dir.path())
        .args(["--base", "main", "--as-of", AS_OF])
        .arg("--sarif")
        .arg(&sarif)
        .arg("--junit")
        .arg(&junit)
        .arg("--summary")
        .arg(&summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let new: Vec<_> = results
        .iter()
        .filter(|r| r["baselineState"] == "new")
        .collect();
    assert_eq!(new.len(), 1);
    assert!(new[0]["partialFingerprints"]["vouch/v1"].is_string());
    assert_eq!(
        new[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "inventory/more.toml"
    );
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["properties"]["tags"].to_string().contains("soc2:"))
    );
    // The official schema, through a real validator (installed by scripts/test).
    let v = Std::new("python3")
        .arg("tests/sarif/validate.py")
        .arg(&sarif)
        .output()
        .expect("python3 is needed: run scripts/test");
    assert!(
        v.status.success(),
        "SARIF does not validate (run scripts/test to install the validator):\n{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml"));
    let parsed = Std::new("python3").args(["-c", "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r.get('failures'))"]).arg(&junit).output().unwrap();
    assert!(
        parsed.status.success(),
        "JUnit XML does not parse: {}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("## ❌ vouch gate fails"), "{md}");
    assert!(md.contains("inventory/more.toml:1"));
}

#[test]
fn the_pr_comment_stays_under_60000_characters_on_huge_changes() {
    let dir = repo();
    let many: String = (0..3000)
        .map(|i| format!("[[integration]]\nid = \"tool-{i}\"\napproved = false\n\n"))
        .collect();
    write(dir.path(), "inventory/many.toml", &many);
    commit_all(dir.path(), "many");
    let summary = dir.path().join("../summary-huge.md");
    let out = vouch()
        .arg("gate")
        .arg(dir.path())
        .args([
            "--base",
            "main",
            "--as-of",
            AS_OF,
            "--control",
            "approved-integrations-only",
            "--summary",
        ])
        .arg(&summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.chars().count() < 60_000,
        "{} characters",
        md.chars().count()
    );
    assert!(md.contains("more not shown"));
    let _ = std::fs::remove_file(summary);
}
