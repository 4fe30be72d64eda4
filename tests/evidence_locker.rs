//! The evidence locker: one git commit per collection, and the log an auditor samples.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "evidence_support.rs"]
mod support;

use std::path::Path;

use support::*;

fn collect(src: &Path, locker: &Path, at: &str) {
    let out_dir = tempfile::tempdir().unwrap();
    let stdout = ok(&bundle(
        src,
        &out_dir.path().join("b"),
        at,
        &["--locker", locker.to_str().unwrap()],
    ));
    assert!(stdout.contains("locker"), "{stdout}");
}

fn log(locker: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = vouch()
        .args(["evidence", "log", "--locker"])
        .arg(locker)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null),
    )
}

/// A locker with four collections: failing twice, a fix, passing twice, with an 18-day gap.
fn audit_period() -> (tempfile::TempDir, tempfile::TempDir) {
    let repo = repo();
    let src = repo.path().join("infra");
    let lockers = tempfile::tempdir().unwrap();
    let locker = lockers.path().join("locker");
    collect(&src, &locker, "2026-01-05T10:00:00Z");
    collect(&src, &locker, "2026-01-12T10:00:00Z");
    std::fs::write(src.join("main.tf"), MAIN_TF_FIXED).unwrap();
    git_at(
        repo.path(),
        "2026-01-20T09:00:00Z",
        &["commit", "-qam", "version the logs bucket"],
    );
    collect(&src, &locker, "2026-01-30T10:00:00Z");
    collect(&src, &locker, "2026-02-02T10:00:00Z");
    (repo, lockers)
}

#[test]
fn each_collection_is_one_commit_with_a_summary_per_framework() {
    let (_repo, lockers) = audit_period();
    let locker = lockers.path().join("locker");
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(&locker)
        .args(["log", "--format=%an|%aI|%s", "--name-only"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let subjects: Vec<&str> = text.lines().filter(|l| l.contains('|')).collect();
    assert_eq!(subjects.len(), 4, "{text}");
    assert!(
        subjects[0].starts_with(
            "vouch evidence|2026-02-02T10:00:00Z|evidence 2026-02-02T10:00:00Z: infra at "
        ),
        "{text}"
    );
    assert!(subjects[3].contains("2026-01-05T10:00:00Z"));
    // Each commit adds exactly its own collection.
    assert!(text.contains("collections/2026-01-05T100000Z/manifest.json"));
    let full = std::process::Command::new("git")
        .arg("-C")
        .arg(&locker)
        .args(["log", "-1", "--skip=3", "--format=%B"])
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&full.stdout);
    assert!(body.contains("SOC 2 (soc2):"), "{body}");
    assert!(body.contains("requirements pass"), "{body}");
    assert!(body.contains("manifest: sha256:"), "{body}");
    // The locker's work tree holds the bundles, and each verifies.
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(&locker)
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert!(
        status.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    let verified = vouch()
        .args(["evidence", "verify"])
        .arg(locker.join("collections/2026-01-12T100000Z"))
        .output()
        .unwrap();
    ok(&verified);
    // The same collection time twice is refused.
    let out_dir = tempfile::tempdir().unwrap();
    let again = bundle(
        &_repo.path().join("infra"),
        &out_dir.path().join("b"),
        "2026-01-05T10:00:00Z",
        &["--locker", locker.to_str().unwrap()],
    );
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn the_log_shows_status_at_every_collection_gaps_and_failing_periods() {
    let (_repo, lockers) = audit_period();
    let locker = lockers.path().join("locker");
    let (code, j) = log(
        &locker,
        &[
            "--since",
            "2026-01-01",
            "--until",
            "2026-02-15",
            "--control",
            "s3-versioning",
        ],
    );
    assert_eq!(code, 1, "{j:#}");
    let at: Vec<&str> = j["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["collected_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        at,
        vec![
            "2026-01-05T10:00:00Z",
            "2026-01-12T10:00:00Z",
            "2026-01-30T10:00:00Z",
            "2026-02-02T10:00:00Z"
        ]
    );
    let gaps: Vec<(&str, &str, &str, i64)> = j["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["kind"].as_str().unwrap(),
                g["from"].as_str().unwrap(),
                g["to"].as_str().unwrap(),
                g["days"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        gaps,
        vec![
            (
                "between",
                "2026-01-12T10:00:00Z",
                "2026-01-30T10:00:00Z",
                18
            ),
            ("end", "2026-02-02T10:00:00Z", "2026-02-15", 13),
        ]
    );
    let controls = j["controls"].as_array().unwrap();
    assert_eq!(controls.len(), 1);
    let c = &controls[0];
    assert_eq!(c["control"], "s3-versioning");
    let statuses: Vec<&str> = c["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["fail", "fail", "pass", "pass"]);
    assert_eq!(
        c["failing_periods"],
        serde_json::json!([{
            "from": "2026-01-05T10:00:00Z",
            "to": "2026-01-30T10:00:00Z",
            "collections": 2
        }])
    );
    // The source commit of each collection is recorded.
    assert_ne!(
        j["collections"][0]["source_commit"],
        j["collections"][3]["source_commit"]
    );

    // A longer allowed interval and a period after the fix: clean, exit 0.
    let (code, j) = log(
        &locker,
        &[
            "--since",
            "2026-01-29",
            "--until",
            "2026-02-05",
            "--control",
            "s3-versioning",
        ],
    );
    assert_eq!(code, 0, "{j:#}");
    assert_eq!(j["collections"].as_array().unwrap().len(), 2);
    // A start of period long before the first collection is a gap.
    let (_, j) = log(
        &locker,
        &[
            "--since",
            "2026-01-20",
            "--max-gap-days",
            "9",
            "--control",
            "s3-versioning",
        ],
    );
    assert_eq!(j["gaps"][0]["kind"], "start");
    assert_eq!(j["gaps"][0]["days"], 10);
    assert_eq!(j["gaps"].as_array().unwrap().len(), 1);

    // People read the same.
    let out = vouch()
        .args(["evidence", "log", "--locker"])
        .arg(&locker)
        .args([
            "--control",
            "s3-versioning",
            "--since",
            "2026-01-01",
            "--until",
            "2026-02-15",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("s3-versioning  FAIL FAIL pass pass"),
        "{text}"
    );
    assert!(
        text.contains("GAP 2026-01-12T10:00:00Z → 2026-01-30T10:00:00Z: 18 days"),
        "{text}"
    );
    assert!(
        text.contains("failed from 2026-01-05T10:00:00Z until 2026-01-30T10:00:00Z"),
        "{text}"
    );
}

#[test]
fn a_locker_that_is_not_a_repository_is_refused() {
    let repo = repo();
    let tmp = tempfile::tempdir().unwrap();
    let not_repo = tmp.path().join("stuff");
    std::fs::create_dir(&not_repo).unwrap();
    std::fs::write(not_repo.join("file"), "x").unwrap();
    let res = bundle(
        &repo.path().join("infra"),
        &tmp.path().join("b"),
        "2026-01-05T10:00:00Z",
        &["--locker", not_repo.to_str().unwrap()],
    );
    assert_eq!(res.status.code(), Some(2));
    let (code, _) = log(&tmp.path().join("missing"), &[]);
    assert_eq!(code, 2);
}
