//! Helpers shared by the integration tests: temp trees and the real binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use assert_cmd::Command;

/// The date every test evaluates at, so ages never rot.
pub const AS_OF: &str = "2026-11-25";

/// Writes `files` (relative path, contents) under a new temp dir.
pub fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// `vouch <args>` with NO_COLOR set.
pub fn vouch() -> Command {
    let mut c = Command::cargo_bin("vouch").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// `vouch check PATH --as-of AS_OF --format json`, returning (exit code, parsed JSON, stderr).
pub fn check_json(root: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let out = vouch()
        .arg("check")
        .arg(root)
        .args(["--as-of", AS_OF, "--format", "json"])
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

/// Results of `control` in an assessment.
pub fn results_of<'a>(json: &'a serde_json::Value, control: &str) -> Vec<&'a serde_json::Value> {
    json["results"]
        .as_array()
        .map(|a| a.iter().filter(|r| r["control"] == control).collect())
        .unwrap_or_default()
}

/// A fully compliant identity provider.
pub const GOOD_IDP: &str = r#"
[[identity_provider]]
id = "okta"
sso_enforced = true
mfa = "phishing_resistant"
scim = { enabled = true, deprovision_within_hours = 4 }
session_timeout_minutes = 480
"#;

/// True when the real consumer `name` (a Python tool in `.venv`, Debian's chromium) may be used
/// for `check`. scripts/test lists in `VOUCH_CONSUMERS_SKIP` the consumers it could not install;
/// outside CI such a check is skipped LOUDLY (recorded in `VOUCH_SKIPPED_CHECKS`, which
/// scripts/test prints at the end). In CI (`CI=true`), or when scripts/test did not say so, the
/// check runs and fails if the consumer is missing: never a silent pass.
pub fn consumer_available(name: &str, check: &str) -> bool {
    let skip = std::env::var("VOUCH_CONSUMERS_SKIP").unwrap_or_default();
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if in_ci || !skip.split(',').any(|s| s == name) {
        return true;
    }
    let line = format!("{check}: needs {name}, which scripts/test could not install\n");
    vouch::report::emit_err(&format!("SKIPPED {line}"));
    if let Ok(path) = std::env::var("VOUCH_SKIPPED_CHECKS") {
        use std::io::Write as _;
        if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(path) {
            let _ = f.write_all(line.as_bytes());
        }
    }
    false
}

/// The Python interpreter that has the consumers: the project's `.venv` (made by scripts/test),
/// else `python3` from PATH.
pub fn python() -> std::process::Command {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if venv.exists() {
        std::process::Command::new(venv)
    } else {
        std::process::Command::new("python3")
    }
}

/// Jenkins' `junit-10.xsd`, as scripts/test puts it in the virtual environment.
pub fn junit_xsd() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/share/vouch/junit-10.xsd")
}
