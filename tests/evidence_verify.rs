//! `vouch evidence verify` and `keygen`: every kind of tampering is caught.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "evidence_support.rs"]
mod support;

use std::path::{Path, PathBuf};

use support::*;

struct Signed {
    _repo: tempfile::TempDir,
    tmp: tempfile::TempDir,
    bundle: PathBuf,
    public: PathBuf,
}

fn signed() -> Signed {
    let repo = repo();
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("signer");
    ok(&vouch()
        .args(["evidence", "keygen", "--out"])
        .arg(&prefix)
        .output()
        .unwrap());
    let bundle = tmp.path().join("bundle");
    let key = tmp.path().join("signer.key");
    ok(&support::bundle(
        &repo.path().join("infra"),
        &bundle,
        "2026-01-05T10:00:00Z",
        &["--sign-key", key.to_str().unwrap()],
    ));
    Signed {
        _repo: repo,
        public: tmp.path().join("signer.pub"),
        tmp,
        bundle,
    }
}

fn verify(bundle: &Path, key: Option<&Path>) -> (i32, String) {
    let mut c = vouch();
    c.args(["evidence", "verify"]).arg(bundle);
    if let Some(k) = key {
        c.arg("--key").arg(k);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A copy of the bundle to tamper with.
fn copy(s: &Signed, name: &str) -> PathBuf {
    let dst = s.tmp.path().join(name);
    for (rel, data) in read_tree(&s.bundle) {
        let p = dst.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    dst
}

fn flip(path: &Path, at: usize) {
    let mut data = std::fs::read(path).unwrap();
    let i = at.min(data.len() - 1);
    data[i] ^= 0x01;
    std::fs::write(path, data).unwrap();
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("k");
    ok(&vouch()
        .args(["evidence", "keygen", "--out"])
        .arg(&prefix)
        .output()
        .unwrap());
    let private = std::fs::read_to_string(tmp.path().join("k.key")).unwrap();
    let public = std::fs::read_to_string(tmp.path().join("k.pub")).unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tmp.path().join("k.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // An existing key pair is never overwritten by accident.
    let again = vouch()
        .args(["evidence", "keygen", "--out"])
        .arg(&prefix)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("k.key")).unwrap(),
        private
    );
}

#[test]
fn an_untouched_bundle_verifies_with_and_without_the_key() {
    let s = signed();
    let (code, out) = verify(&s.bundle, Some(&s.public));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("signature: valid, by the given key"), "{out}");
    let (code, out) = verify(&s.bundle, None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("pass --key to check who signed"), "{out}");
}

#[test]
fn a_flipped_byte_in_any_kind_of_file_is_caught() {
    let s = signed();
    for (n, file) in [
        "assessment.json",
        "inputs/main.tf",
        "library/policies/aws/s3-versioning.cedar",
        "provenance.json",
        "summary.md",
        "oscal/assessment-results.json",
        "redactions.json",
    ]
    .iter()
    .enumerate()
    {
        let b = copy(&s, &format!("flip{n}"));
        flip(&b.join(file), 40);
        let (code, out) = verify(&b, Some(&s.public));
        assert_eq!(code, 1, "{file}: {out}");
        assert!(out.contains(&format!("changed: {file}")), "{file}: {out}");
        assert!(out.contains("NOT VERIFIED"), "{out}");
    }
    // The manifest itself: a changed digest of a file, or a changed manifest digest.
    let b = copy(&s, "flip-manifest-entry");
    let text = std::fs::read_to_string(b.join("manifest.json")).unwrap();
    let at = text.find("\"sha256\": \"").unwrap() + "\"sha256\": \"".len();
    flip(&b.join("manifest.json"), at);
    let (code, out) = verify(&b, Some(&s.public));
    assert_eq!(code, 1, "{out}");
    let b = copy(&s, "flip-manifest-anywhere");
    flip(&b.join("manifest.json"), 10);
    let (code, out) = verify(&b, Some(&s.public));
    assert_eq!(code, 1, "{out}");
    // Even without a key, a manifest whose listing was rewritten no longer matches its digest.
    let b = copy(&s, "rewrite");
    let mut m = json(&b.join("manifest.json"));
    std::fs::write(b.join("assessment.json"), "{}\n").unwrap();
    m["files"][0]["sha256"] = serde_json::json!(sha256(b"{}\n"));
    m["files"][0]["size"] = serde_json::json!(3);
    std::fs::write(
        b.join("manifest.json"),
        serde_json::to_vec_pretty(&m).unwrap(),
    )
    .unwrap();
    let (code, out) = verify(&b, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not match its file list"), "{out}");
}

#[test]
fn missing_and_extra_files_are_reported() {
    let s = signed();
    let b = copy(&s, "deleted");
    std::fs::remove_file(b.join("inputs/k8s/secret.yaml")).unwrap();
    let (code, out) = verify(&b, Some(&s.public));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("missing: inputs/k8s/secret.yaml"), "{out}");
    let b = copy(&s, "added");
    std::fs::write(b.join("inputs/backdoor.tf"), "resource \"x\" \"y\" {}\n").unwrap();
    let (code, out) = verify(&b, Some(&s.public));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("extra: inputs/backdoor.tf"), "{out}");
}

#[test]
fn a_bad_missing_or_foreign_signature_fails() {
    let s = signed();
    // A flipped signature byte.
    let b = copy(&s, "badsig");
    let mut sig = json(&b.join("manifest.sig"));
    let hex = sig["signature"].as_str().unwrap().to_owned();
    let flipped = format!(
        "{}{}",
        if hex.starts_with('0') { "1" } else { "0" },
        &hex[1..]
    );
    sig["signature"] = serde_json::json!(flipped);
    std::fs::write(
        b.join("manifest.sig"),
        serde_json::to_vec_pretty(&sig).unwrap(),
    )
    .unwrap();
    let (code, out) = verify(&b, Some(&s.public));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BAD"), "{out}");
    let (code, _) = verify(&b, None);
    assert_eq!(code, 1);
    // A flipped byte anywhere in the signature file.
    let b = copy(&s, "badsig2");
    flip(&b.join("manifest.sig"), 5);
    assert_eq!(verify(&b, Some(&s.public)).0, 1);
    // Another key.
    let other = s.tmp.path().join("other");
    ok(&vouch()
        .args(["evidence", "keygen", "--out"])
        .arg(&other)
        .output()
        .unwrap());
    let (code, out) = verify(&s.bundle, Some(&s.tmp.path().join("other.pub")));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("another key"), "{out}");
    // Re-signed by an attacker with their own key: fine for integrity, but not the given key.
    // No signature while a key is required.
    let b = copy(&s, "unsigned");
    std::fs::remove_file(b.join("manifest.sig")).unwrap();
    let (code, out) = verify(&b, Some(&s.public));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("missing"), "{out}");
    assert_eq!(verify(&b, None).0, 0);
}

#[test]
fn an_archive_verifies_and_an_unreadable_bundle_is_exit_2() {
    let repo = repo();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("b.tar.gz");
    ok(&bundle(
        &repo.path().join("infra"),
        &tmp.path().join("b"),
        "2026-01-05T10:00:00Z",
        &["--archive", archive.to_str().unwrap()],
    ));
    let (code, out) = verify(&archive, None);
    assert_eq!(code, 0, "{out}");
    let (code, _) = verify(&tmp.path().join("nowhere"), None);
    assert_eq!(code, 2);
    std::fs::write(tmp.path().join("junk.tar.gz"), "junk").unwrap();
    assert_eq!(verify(&tmp.path().join("junk.tar.gz"), None).0, 2);
}
