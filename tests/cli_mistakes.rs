//! The command line refuses mistakes loudly: every unknown control, framework, target or path
//! is an error (exit 2) with the closest names, never an empty success; outputs go into
//! directories that are created, and a path that cannot be written says "cannot write".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "evidence_support.rs"]
mod support;

use std::path::Path;

use support::{AS_OF, IDP, bundle, ok, repo, vouch, write};

/// Runs `vouch args…` and returns (exit code, stdout, stderr).
fn run(args: &[&str], dir: Option<&Path>) -> (i32, String, String) {
    let mut cmd = vouch();
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts a failed run (exit 2) whose stderr holds every one of `needles`; its stdout.
fn fails_with(args: &[&str], dir: Option<&Path>, needles: &[&str]) -> String {
    let (code, stdout, stderr) = run(args, dir);
    assert_eq!(
        code,
        2,
        "`vouch {}` exit {code}\n{stdout}\n{stderr}",
        args.join(" ")
    );
    for n in needles {
        assert!(
            stderr.contains(n),
            "`vouch {}`: no {n:?} in\n{stderr}",
            args.join(" ")
        );
    }
    // An output that cannot be written is never reported as one that cannot be read.
    assert!(!stderr.contains("cannot read"), "{stderr}");
    stdout
}

#[test]
fn test_with_an_unknown_control_is_an_error_with_a_suggestion() {
    let stdout = fails_with(
        &["test", "--control", "s3-versionin"],
        None,
        &[
            "unknown control `s3-versionin`",
            "did you mean `s3-versioning`",
        ],
    );
    assert!(!stdout.contains("passed"), "fixtures ran: {stdout}");
    fails_with(
        &["test", "--control", "nope"],
        None,
        &["unknown control `nope`"],
    );
    // A known control still runs its fixtures, both ways.
    let (code, stdout, stderr) = run(&["test", "--control", "s3-versioning"], None);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("ok     s3-versioning/"), "{stdout}");
    assert!(stdout.contains("0 failed"), "{stdout}");
}

#[test]
fn missing_paths_are_errors_with_the_closest_entries() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("examples")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    for cmd in ["validate", "test", "check"] {
        fails_with(
            &[cmd, "/nonexistent"],
            None,
            &["`/nonexistent` does not exist"],
        );
        fails_with(
            &[cmd, "exampels"],
            Some(dir.path()),
            &["`exampels` does not exist", "did you mean `examples`"],
        );
        fails_with(
            &[cmd, "notes.txt"],
            Some(dir.path()),
            &["`notes.txt` is not a directory"],
        );
    }
    let nested = dir.path().join("exampels");
    fails_with(
        &["roadmap", nested.to_str().unwrap()],
        None,
        &[&format!(
            "did you mean `{}`",
            dir.path().join("examples").display()
        )],
    );
    // The directory itself still validates.
    let (code, stdout, _) = run(&["validate", dir.path().to_str().unwrap()], None);
    assert_eq!(code, 0);
    assert!(stdout.contains("library valid"), "{stdout}");
}

#[test]
fn check_and_gate_refuse_unknown_controls_and_frameworks_before_running() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("identity.toml", IDP)]);
    let root = dir.path().to_str().unwrap();
    let stdout = fails_with(
        &["check", root, "--control", "s3-versionin", "--as-of", AS_OF],
        None,
        &[
            "unknown control `s3-versionin`",
            "did you mean `s3-versioning`",
        ],
    );
    assert!(stdout.is_empty(), "the check ran: {stdout}");
    fails_with(
        &["check", root, "--framework", "hipa"],
        None,
        &["unknown framework `hipa`", "did you mean `hipaa`"],
    );
    fails_with(
        &["gate", root, "--base", "main", "--control", "sso-enforce"],
        None,
        &[
            "unknown control `sso-enforce`",
            "did you mean `sso-enforced`",
        ],
    );
    // A known control runs.
    let (code, stdout, stderr) = run(
        &[
            "check",
            root,
            "--control",
            "sso-enforced",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
        None,
    );
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(stdout.contains("\"sso-enforced\""), "{stdout}");
}

#[test]
fn show_and_roadmap_suggest_the_closest_ids() {
    fails_with(
        &["controls", "show", "s3-versionin"],
        None,
        &[
            "unknown control `s3-versionin`",
            "did you mean `s3-versioning`",
        ],
    );
    fails_with(
        &["frameworks", "show", "iso2701"],
        None,
        &["unknown framework `iso2701`", "did you mean `iso27001`"],
    );
    let dir = tempfile::tempdir().unwrap();
    fails_with(
        &["roadmap", dir.path().to_str().unwrap(), "--target", "hipa"],
        None,
        &["unknown target framework `hipa`", "did you mean `hipaa`"],
    );
}

#[test]
fn evidence_log_refuses_a_control_no_collection_holds() {
    let repo = repo();
    let src = repo.path().join("infra");
    let lockers = tempfile::tempdir().unwrap();
    let locker = lockers.path().join("locker");
    let out = tempfile::tempdir().unwrap();
    ok(&bundle(
        &src,
        &out.path().join("b"),
        "2026-01-05T10:00:00Z",
        &["--locker", locker.to_str().unwrap()],
    ));
    let l = locker.to_str().unwrap();
    fails_with(
        &[
            "evidence",
            "log",
            "--locker",
            l,
            "--control",
            "s3-versionin",
        ],
        None,
        &[
            "no collection of the locker holds control `s3-versionin`",
            "did you mean `s3-versioning`",
        ],
    );
    // A control the collections hold shows its timeline.
    let (code, stdout, stderr) = run(
        &[
            "evidence",
            "log",
            "--locker",
            l,
            "--control",
            "s3-versioning",
            "--format",
            "json",
        ],
        None,
    );
    assert!(code == 0 || code == 1, "{stderr}");
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(log["controls"].as_array().unwrap().len(), 1, "{stdout}");
    assert_eq!(log["controls"][0]["control"], "s3-versioning", "{stdout}");
}

#[test]
fn keygen_creates_the_key_directory_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let (code, stdout, stderr) = run(
        &["evidence", "keygen", "--out", "../keys/evidence"],
        Some(&work),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let keys = dir.path().join("keys");
    assert!(keys.join("evidence.key").is_file());
    assert!(keys.join("evidence.pub").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&keys), 0o700);
        assert_eq!(mode(&keys.join("evidence.key")), 0o600);
    }
    // A path under a file cannot be written, and says so.
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let bad = dir.path().join("file/evidence");
    fails_with(
        &["evidence", "keygen", "--out", bad.to_str().unwrap()],
        None,
        &["cannot write"],
    );
}

#[test]
fn roadmap_out_creates_directories_or_says_cannot_write() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports/2026/roadmap.html");
    let (code, _, stderr) = run(
        &[
            "roadmap",
            example.to_str().unwrap(),
            "--as-of",
            AS_OF,
            "--format",
            "html",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(std::fs::read_to_string(&out).unwrap().contains("<html"));
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let bad = dir.path().join("file/roadmap.html");
    fails_with(
        &[
            "roadmap",
            example.to_str().unwrap(),
            "--as-of",
            AS_OF,
            "--out",
            bad.to_str().unwrap(),
        ],
        None,
        &["cannot write"],
    );
}

#[test]
fn every_documented_flag_shows_its_help() {
    for (args, needle) in [
        (
            &["access", "diff", "--help"][..],
            "The branch the change merges into",
        ),
        (&["evidence", "log", "--help"][..], "The evidence locker"),
        (&["evidence", "keygen", "--help"][..], "Key pair prefix"),
    ] {
        let (code, stdout, _) = run(args, None);
        assert_eq!(code, 0);
        assert!(stdout.contains(needle), "{}: {stdout}", args.join(" "));
    }
}

#[test]
fn missing_input_files_are_errors_with_the_closest_entries() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prod.tfvars"), "region = \"eu-west-1\"\n").unwrap();
    std::fs::write(dir.path().join("values.yaml"), "replicas: 2\n").unwrap();
    std::fs::write(dir.path().join("evidence.key"), "x").unwrap();
    let d = Some(dir.path());
    let tfvars = [
        "`--var-file prod.tfvar` does not exist",
        "did you mean `prod.tfvars`",
    ];
    fails_with(&["check", ".", "--var-file", "prod.tfvar"], d, &tfvars);
    fails_with(
        &["gate", ".", "--base", "main", "--var-file", "prod.tfvar"],
        d,
        &tfvars,
    );
    fails_with(&["roadmap", ".", "--var-file", "prod.tfvar"], d, &tfvars);
    fails_with(
        &["check", ".", "--helm-values", "value.yaml"],
        d,
        &[
            "`--helm-values value.yaml` does not exist",
            "did you mean `values.yaml`",
        ],
    );
    fails_with(
        &[
            "evidence",
            "bundle",
            ".",
            "--out",
            "b",
            "--sign-key",
            "evidence.kye",
        ],
        d,
        &[
            "`--sign-key evidence.kye` does not exist",
            "did you mean `evidence.key`",
        ],
    );
    assert!(!dir.path().join("b").exists(), "a bundle was written");
    fails_with(
        &["evidence", "verify", "evidence.ke"],
        d,
        &[
            "`evidence.ke` does not exist",
            "did you mean `evidence.key`",
        ],
    );
}
