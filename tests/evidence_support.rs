//! Helpers shared by the `evidence_*` tests: a real git repository with pinned dates, bundles
//! made by the real binary. (Included with `#[path]`; as its own test target it has no tests.)
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;

/// The date the tests evaluate at.
pub const AS_OF: &str = "2026-11-25";

/// Terraform with a versioned and an unversioned bucket, a sensitive variable and secrets.
pub const MAIN_TF: &str = r#"variable "db_password" {
  type      = string
  default   = "hunter2-default"
  sensitive = true
}

resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Suspended"
  }
}

resource "aws_db_instance" "main" {
  identifier = "main"
  password   = "s3cr3t-literal"
}

provider "aws" {
  access_key = "AKIAIOSFODNN7EXAMPLE"
  secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
}
"#;

/// The same bucket, versioned.
pub const MAIN_TF_FIXED: &str = r#"resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}
"#;

pub const SECRET_YAML: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: payments\ntype: Opaque\ndata:\n  password: aHVudGVyMi1rOHM=\nstringData:\n  api-token: plain-k8s-token\n";

pub const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPRIVATEKEYMATERIALxxxxxxxxxxxxxxxxx\n-----END PRIVATE KEY-----\n";

pub const VOUCH_TOML: &str = r#"[[waiver]]
control = "s3-versioning"
resource = "aws_s3_bucket.scratch*"
reason = "scratch data, recreated daily"
approver = "jane@acme.example"
expires = 2027-01-31
ticket = "SEC-142"
"#;

/// `vouch` with NO_COLOR and no inherited collection time.
pub fn vouch() -> Command {
    let mut c = Command::cargo_bin("vouch").unwrap();
    c.env("NO_COLOR", "1").env_remove("VOUCH_COLLECTION_TIME");
    c
}

/// Runs git in `dir` with a pinned identity and date.
pub fn git_at(dir: &Path, date: &str, args: &[&str]) -> String {
    let out = Std::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@acme.example")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@acme.example")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    git_at(dir, "2026-11-01T10:00:00Z", args)
}

/// Writes files under `dir`.
pub fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// A committed repository with Terraform, a Kubernetes Secret, an inventory and a waiver.
pub fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write(
        dir.path(),
        &[
            ("infra/main.tf", MAIN_TF),
            ("infra/k8s/secret.yaml", SECRET_YAML),
            ("infra/inventory/idp.toml", IDP),
            (
                "infra/certs.tf",
                &format!(
                    "locals {{\n  tls = <<EOT\n{KEY_PEM}EOT\n  header = \"Authorization: Bearer abcdefghijklmnop.qrstuvwx\"\n}}\n"
                ),
            ),
            ("infra/vouch.toml", VOUCH_TOML),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "infrastructure"]);
    dir
}

pub const IDP: &str = r#"
[[identity_provider]]
id = "okta"
sso_enforced = true
mfa = "phishing_resistant"
scim = { enabled = true, deprovision_within_hours = 4 }
session_timeout_minutes = 480
"#;

/// `vouch evidence bundle <repo>/infra --out <out> --as-of AS_OF --collected-at <at> <extra>`.
pub fn bundle(src: &Path, out: &Path, at: &str, extra: &[&str]) -> std::process::Output {
    vouch()
        .args(["evidence", "bundle"])
        .arg(src)
        .arg("--out")
        .arg(out)
        .args(["--as-of", AS_OF, "--collected-at", at])
        .args(extra)
        .output()
        .unwrap()
}

/// Asserts success and returns stdout.
pub fn ok(out: &std::process::Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file under a directory, by relative path.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p: PathBuf = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
