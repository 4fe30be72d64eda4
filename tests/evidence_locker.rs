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
    // The same collection time twice is two collections, never one overwriting the other.
    let out_dir = tempfile::tempdir().unwrap();
    let again = ok(&bundle(
        &_repo.path().join("infra"),
        &out_dir.path().join("b"),
        "2026-01-05T10:00:00Z",
        &["--locker", locker.to_str().unwrap()],
    ));
    assert!(
        again.contains("adds collections/2026-01-05T100000Z-2"),
        "{again}"
    );
    for dir in ["2026-01-05T100000Z", "2026-01-05T100000Z-2"] {
        ok(&vouch()
            .args(["evidence", "verify"])
            .arg(locker.join("collections").join(dir))
            .output()
            .unwrap());
    }
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
    assert!(
        !tmp.path().join("b").exists(),
        "a failed run leaves no bundle"
    );
    let (code, _) = log(&tmp.path().join("missing"), &[]);
    assert_eq!(code, 2);
}

/// `git rev-list --count HEAD` of a locker.
fn commits(locker: &Path) -> usize {
    git(locker, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn ten_concurrent_collections_queue_and_all_land() {
    let repo = repo();
    let src = repo.path().join("infra");
    let tmp = tempfile::tempdir().unwrap();
    let locker = tmp.path().join("locker");
    // Ten real processes at once, all in the same second (the old directory name collided).
    let children: Vec<_> = (0..10)
        .map(|i| {
            let out = tmp.path().join(format!("b{i}"));
            let archive = tmp.path().join(format!("b{i}.tar.gz"));
            std::process::Command::new(assert_cmd::cargo::cargo_bin("vouch"))
                .env("NO_COLOR", "1")
                .env("VOUCH_COLLECTION_TIME", "2026-03-02T09:00:00Z")
                .args(["evidence", "bundle"])
                .arg(&src)
                .arg("--out")
                .arg(&out)
                .arg("--archive")
                .arg(&archive)
                .arg("--locker")
                .arg(&locker)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "run {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(tmp.path().join(format!("b{i}/manifest.json")).exists());
    }
    assert_eq!(commits(&locker), 10);
    let (_, log) = log(&locker, &[]);
    let dirs: std::collections::BTreeSet<&str> = log["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["dir"].as_str().unwrap())
        .collect();
    assert_eq!(dirs.len(), 10, "{log}");
    assert!(dirs.contains("collections/2026-03-02T090000Z"), "{dirs:?}");
    assert!(
        dirs.contains("collections/2026-03-02T090000Z-10"),
        "{dirs:?}"
    );
    // The work tree is clean: every collection is committed, nothing half-written.
    assert_eq!(git(&locker, &["status", "--porcelain"]).trim(), "");
}

#[test]
fn a_busy_locker_times_out_with_a_clear_error_and_no_bundle() {
    let repo = repo();
    let src = repo.path().join("infra");
    let tmp = tempfile::tempdir().unwrap();
    let locker = tmp.path().join("locker");
    collect(&src, &locker, "2026-03-01T09:00:00Z");
    // Another collection holds the locker.
    let holder = std::fs::File::open(&locker).unwrap();
    holder.lock().unwrap();
    let out_dir = tmp.path().join("b");
    let archive = tmp.path().join("b.tar.gz");
    let res = bundle(
        &src,
        &out_dir,
        "2026-03-02T09:00:00Z",
        &[
            "--locker",
            locker.to_str().unwrap(),
            "--locker-timeout",
            "1",
            "--archive",
            archive.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is busy"), "{stderr}");
    assert!(stderr.contains("--locker-timeout"), "{stderr}");
    assert!(
        !out_dir.exists() && !archive.exists(),
        "a failed run leaves no bundle"
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("vouch-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(commits(&locker), 1);
    // Released: the same run goes through.
    holder.unlock().unwrap();
    ok(&bundle(
        &src,
        &out_dir,
        "2026-03-02T09:00:00Z",
        &["--locker", locker.to_str().unwrap()],
    ));
    assert_eq!(commits(&locker), 2);
}

#[test]
fn a_collection_that_cannot_be_read_is_listed_and_the_log_is_not_clean() {
    let (_repo, lockers) = audit_period();
    let locker = lockers.path().join("locker");
    let (_, before) = log(&locker, &[]);
    assert!(before.get("unreadable").is_none(), "{before:#}");
    // A collection committed by hand whose assessment is not JSON.
    let bogus = locker.join("collections").join("bogus");
    std::fs::create_dir_all(&bogus).unwrap();
    std::fs::write(bogus.join("assessment.json"), "{ not json").unwrap();
    for args in [
        &["add", "-A"][..],
        &[
            "-c",
            "user.name=x",
            "-c",
            "user.email=x@example.com",
            "commit",
            "-qm",
            "bogus",
        ][..],
    ] {
        let st = std::process::Command::new("git")
            .arg("-C")
            .arg(&locker)
            .args(args)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let (code, after) = log(&locker, &[]);
    assert_eq!(code, 1, "{after:#}");
    assert_eq!(
        after["unreadable"][0]["dir"], "collections/bogus",
        "{after:#}"
    );
    assert_eq!(
        after["collections"].as_array().map(Vec::len),
        before["collections"].as_array().map(Vec::len)
    );
    let human = vouch()
        .args(["evidence", "log", "--locker"])
        .arg(&locker)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("UNREADABLE collections/bogus"), "{text}");
}
