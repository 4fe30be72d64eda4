//! The loader's invariants (`policies/invariants.cedar`) checked against what the loader
//! builds: every rule becomes a control of a custom library, and the whole library runs on the
//! example company and on every access fixture of the built-in controls, as `vouch check` and
//! as `vouch access check` requests. No rule may fail on any of them; every rule must be
//! evaluated somewhere (so the check cannot pass by never looking).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::vouch;

const INVARIANTS: &str = include_str!("../policies/invariants.cedar");
const ACCESS_ACTIONS: &str =
    "[Access::Action::\"read\", Access::Action::\"write\", Access::Action::\"admin\"]";

/// Each rule of the invariants file as (control id, policy text), plus the rule applied to an
/// access request's principal where it is about `Access::User`.
fn rules() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for block in INVARIANTS.split("\n@id(\"").skip(1) {
        let (id, rest) = block.split_once("\")").unwrap();
        let name = id.trim_start_matches("invariant/");
        let control = format!("loader-{name}");
        let body = rest.trim();
        let head = format!("@id(\"{control}\")\n@control(\"{control}\")");
        out.push((control.clone(), format!("{head}{body}\n")));
        if body.contains("resource is Access::User") {
            let principal = format!("{control}-principal");
            let swapped = body
                .replace(
                    "forbid (principal, action, resource is Access::User)",
                    &format!(
                        "forbid (principal is Access::User, action in {ACCESS_ACTIONS}, resource)"
                    ),
                )
                .replace("resource.", "principal.")
                .replace("resource has", "principal has");
            out.push((
                principal.clone(),
                format!("@id(\"{principal}\")\n@control(\"{principal}\"){swapped}\n"),
            ));
        }
    }
    assert!(out.len() >= 10, "{out:?}");
    out
}

/// A copy of `src` with the rules as a custom library (`vouch.toml` keeps the copy's own
/// settings and adds the library).
fn with_rules(src: &Path, rules: &[(String, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy(src, dir.path());
    let toml_path = dir.path().join("vouch.toml");
    let existing = std::fs::read_to_string(&toml_path).unwrap_or_default();
    assert!(!existing.contains("[library]"), "{}", src.display());
    std::fs::write(
        &toml_path,
        format!("{existing}\n[library]\npaths = [\"loader-rules\"]\n"),
    )
    .unwrap();
    for (control, policy) in rules {
        let lib = dir.path().join("loader-rules");
        std::fs::create_dir_all(lib.join("controls/loader")).unwrap();
        std::fs::create_dir_all(lib.join("policies")).unwrap();
        std::fs::write(
            lib.join(format!("controls/loader/{control}.toml")),
            format!(
                "id = \"{control}\"\ntitle = \"loader invariant\"\nfamily = \"loader\"\nseverity = \"high\"\neffort = 1\ndescription = \"a loader invariant\"\nremediation = \"fix the loader\"\n"
            ),
        )
        .unwrap();
        std::fs::write(lib.join(format!("policies/{control}.cedar")), policy).unwrap();
    }
    dir
}

fn copy(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The example company and every fixture case of the access controls.
fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![root.join("examples/acme")];
    for family in ["access", "identity"] {
        let dir = root.join("controls").join(family);
        for control in std::fs::read_dir(&dir).unwrap() {
            let control = control.unwrap().path();
            if !control.is_dir() {
                continue;
            }
            for case in std::fs::read_dir(&control).unwrap() {
                let case = case.unwrap().path();
                if case.is_dir() && !case.join("vouch.toml").exists() {
                    out.push(case);
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_loader_invariant_holds_on_what_the_loader_builds() {
    let rules = rules();
    let mut evaluated: BTreeMap<String, usize> = BTreeMap::new();
    let mut broken = Vec::new();
    for input in inputs() {
        if input.ends_with("examples/acme") {
            // The example has its own vouch.toml (exports settings, …): keep it.
        }
        let dir = with_rules(&input, &rules);
        let out = vouch()
            .arg("check")
            .arg(dir.path())
            .args(["--as-of", "2026-06-30", "--format", "json"])
            .args(
                rules
                    .iter()
                    .flat_map(|(c, _)| ["--control".to_owned(), c.clone()]),
            )
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "{}: {}",
                input.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        for r in json["results"].as_array().unwrap() {
            let control = r["control"].as_str().unwrap();
            if !control.starts_with("loader-") {
                continue;
            }
            *evaluated.entry(control.to_owned()).or_default() += 1;
            if r["status"] != "pass" && r["status"] != "not_applicable" {
                broken.push(format!(
                    "{}: {control} on {}: {}",
                    input.display(),
                    r["resource"],
                    r
                ));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
    // Rules about access requests only (context, Access::Resource) are judged on requests:
    // see the test below; every other rule was evaluated on some entity.
    let request_only: BTreeSet<&str> = [
        "loader-resource-production",
        "loader-resource-customer-data",
        "loader-request-duration",
        "loader-request-approver",
    ]
    .into_iter()
    .collect();
    for (control, _) in &rules {
        if !request_only.contains(control.as_str()) {
            assert!(
                evaluated.get(control).copied().unwrap_or(0) > 0,
                "{control} never evaluated: {evaluated:?}"
            );
        }
    }
}

#[test]
fn every_loader_invariant_holds_on_the_requests_the_decider_builds() {
    let rules = rules();
    let acme = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme");
    let dir = with_rules(&acme, &rules);
    // Every person and resource of the example, asked with every kind of approver and ticket.
    let out = vouch()
        .args(["access", "review"])
        .arg(dir.path())
        .args(["--as-of", "2026-06-30", "--format", "json"])
        .output()
        .unwrap();
    let review: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = review["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .all(|f| !f["control"].as_str().unwrap().starts_with("loader-")),
        "{findings:#?}"
    );
    // People of the example: the CTO, an approver, an SRE.
    let users = ["maria", "olivia", "jonas"];
    let mut asked = 0;
    for user in users {
        for (approver, ticket) in [
            ("", ""),
            ("olivia", "SEC-1"),
            ("not-a-person", "x"),
            ("ｏｌｉｖｉａ\u{200b}", ""),
        ] {
            for action in ["read", "write", "admin"] {
                let out = vouch()
                    .args(["access", "check"])
                    .arg(dir.path())
                    .args([
                        "--principal",
                        user,
                        "--action",
                        action,
                        "--resource",
                        "datastore:pg-shared-eu",
                    ])
                    .args([
                        "--context",
                        &format!("approver={approver}"),
                        "--context",
                        &format!("ticket={ticket}"),
                    ])
                    .args([
                        "--duration",
                        "4h",
                        "--as-of",
                        "2026-06-30",
                        "--format",
                        "json",
                    ])
                    .output()
                    .unwrap();
                assert_ne!(
                    out.status.code(),
                    Some(2),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                asked += 1;
                let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                for reason in answer["denied_by"].as_array().into_iter().flatten() {
                    let policy = reason["policy"].as_str().unwrap_or_default();
                    assert!(
                        !policy.starts_with("loader-"),
                        "{user} {action}: {answer:#}"
                    );
                }
            }
        }
    }
    assert!(asked > 0, "no request could be asked of the example");
}
