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

// Exactness: what a bundle written by vouch never holds is reported, never dropped or followed.

use std::collections::BTreeMap;

/// A minimal bundle with a zero-byte input (the case a link used to pass for).
fn crafted() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert("assessment.json".to_owned(), b"{}\n".to_vec());
    files.insert("inputs/empty.tf".to_owned(), Vec::new());
    files.insert("inputs/main.tf".to_owned(), b"# main\n".to_vec());
    let m = vouch::evidence::manifest::Manifest::build(&files);
    files.insert(
        "manifest.json".to_owned(),
        vouch::report::to_json(&m).into_bytes(),
    );
    files
}

/// A `.tar.gz` of raw entries: (path, entry type, data, link target).
fn raw_archive(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut t = tar::Builder::new(gz);
    for (path, kind, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        // Raw names, so `..` and absolute paths reach the archive as an attacker writes them.
        let name = path.as_bytes();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        t.append(&h, *data).unwrap();
    }
    t.into_inner().unwrap().finish().unwrap()
}

fn genuine_entries(
    files: &BTreeMap<String, Vec<u8>>,
    root: &str,
) -> Vec<(String, tar::EntryType, Vec<u8>)> {
    files
        .iter()
        .map(|(p, d)| (format!("{root}/{p}"), tar::EntryType::Regular, d.clone()))
        .collect()
}

fn archive_of(entries: &[(String, tar::EntryType, Vec<u8>)], links: &[(&str, &str)]) -> Vec<u8> {
    let mut raw: Vec<(&str, tar::EntryType, &[u8], Option<&str>)> = entries
        .iter()
        .map(|(p, k, d)| (p.as_str(), *k, d.as_slice(), None))
        .collect();
    for (path, target) in links {
        raw.push((path, tar::EntryType::Symlink, b"", Some(target)));
    }
    raw_archive(&raw)
}

fn verify_bytes(dir: &Path, name: &str, bytes: &[u8]) -> (i32, String) {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    verify(&p, None)
}

#[test]
fn a_crafted_archive_and_directory_verify_when_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let files = crafted();
    let bytes = vouch::evidence::bundle::archive(&files, "b").unwrap();
    let (code, out) = verify_bytes(tmp.path(), "ok.tar.gz", &bytes);
    assert_eq!(code, 0, "{out}");
    vouch::evidence::bundle::write_dir(&tmp.path().join("dir"), &files, false).unwrap();
    let (code, out) = verify(&tmp.path().join("dir"), None);
    assert_eq!(code, 0, "{out}");
    // Re-packed by `tar czf` with directory entries for the bundle's own directories: fine.
    let mut entries = vec![
        ("b/".to_owned(), tar::EntryType::Directory, Vec::new()),
        (
            "b/inputs/".to_owned(),
            tar::EntryType::Directory,
            Vec::new(),
        ),
    ];
    entries.extend(genuine_entries(&files, "b"));
    let (code, out) = verify_bytes(tmp.path(), "repacked.tar.gz", &archive_of(&entries, &[]));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_forged_tree_before_the_genuine_one_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let genuine = crafted();
    let mut forged = BTreeMap::new();
    forged.insert("inputs/main.tf".to_owned(), b"# forged\n".to_vec());
    forged.insert("assessment.json".to_owned(), b"{\"forged\":1}\n".to_vec());
    let m = vouch::evidence::manifest::Manifest::build(&forged);
    forged.insert(
        "manifest.json".to_owned(),
        vouch::report::to_json(&m).into_bytes(),
    );
    // Another top directory first (the old reader dropped every entry's top directory).
    let mut entries = genuine_entries(&forged, "evil");
    entries.extend(genuine_entries(&genuine, "b"));
    let (code, out) = verify_bytes(tmp.path(), "two-tops.tar.gz", &archive_of(&entries, &[]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("outside the bundle's top directory"), "{out}");
    // The same top directory twice: the first copy is forged, the last genuine.
    let mut entries = genuine_entries(&forged, "b");
    entries.extend(genuine_entries(&genuine, "b"));
    let (code, out) = verify_bytes(tmp.path(), "dup.tar.gz", &archive_of(&entries, &[]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("rejected: inputs/main.tf (duplicate entry"),
        "{out}"
    );
    // `..`, absolute and `.` paths.
    for bad in ["b/../x", "/b/x", "b/./x"] {
        let mut entries = genuine_entries(&genuine, "b");
        entries.push((bad.to_owned(), tar::EntryType::Regular, b"x".to_vec()));
        let (code, out) = verify_bytes(tmp.path(), "bad.tar.gz", &archive_of(&entries, &[]));
        assert_eq!(code, 1, "{bad}: {out}");
        assert!(out.contains("absolute or has an empty"), "{bad}: {out}");
    }
}

#[test]
fn links_and_devices_replacing_an_input_fail_verification() {
    let tmp = tempfile::tempdir().unwrap();
    let files = crafted();
    // Archive: a symlink, a hard link, a device in place of the zero-byte input.
    for (kind, why) in [
        (tar::EntryType::Symlink, "symbolic link"),
        (tar::EntryType::Link, "hard link"),
        (tar::EntryType::Char, "device"),
        (tar::EntryType::Fifo, "named pipe"),
    ] {
        let entries: Vec<_> = genuine_entries(&files, "b")
            .into_iter()
            .map(|(p, k, d)| {
                if p.ends_with("empty.tf") {
                    (p, kind, d)
                } else {
                    (p, k, d)
                }
            })
            .collect();
        let (code, out) = verify_bytes(tmp.path(), "link.tar.gz", &archive_of(&entries, &[]));
        assert_eq!(code, 1, "{why}: {out}");
        assert!(
            out.contains(&format!("rejected: inputs/empty.tf ({why}")),
            "{out}"
        );
    }
    // Directory: a symlink, then a hard link, in place of the zero-byte input.
    let dir = tmp.path().join("dir");
    vouch::evidence::bundle::write_dir(&dir, &files, false).unwrap();
    let input = dir.join("inputs/empty.tf");
    std::fs::remove_file(&input).unwrap();
    std::os::unix::fs::symlink("/dev/null", &input).unwrap();
    let (code, out) = verify(&dir, None);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("rejected: inputs/empty.tf (symbolic link)"),
        "{out}"
    );
    std::fs::remove_file(&input).unwrap();
    let outside = tmp.path().join("outside-empty");
    std::fs::write(&outside, "").unwrap();
    std::fs::hard_link(&outside, &input).unwrap();
    let (code, out) = verify(&dir, None);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("rejected: inputs/empty.tf (hard link"),
        "{out}"
    );
}

#[test]
fn a_gzip_bomb_is_refused_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    // About 1 MB compressed, many GB decompressed: one entry declared huge, all zeros.
    let path = tmp.path().join("bomb.tar.gz");
    let f = std::fs::File::create(&path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::best());
    let mut h = tar::Header::new_gnu();
    h.set_path("b/inputs/huge.tf").unwrap();
    h.set_size(4 << 30);
    h.set_mode(0o644);
    h.set_cksum();
    std::io::Write::write_all(&mut gz, h.as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        std::io::Write::write_all(&mut gz, &zeros).unwrap();
    }
    gz.finish().unwrap();
    let started = std::time::Instant::now();
    let (code, out) = verify(&path, None);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("decompresses to more than"), "{out}");
    assert!(out.contains("decompression bomb"), "{out}");
    // Refused before reading the bomb (a correctness bound, not a benchmark).
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // Many small entries adding up past the ratio: refused as they are read.
    let mut entries = Vec::new();
    for i in 0..80 {
        entries.push((
            format!("b/inputs/{i}.tf"),
            tar::EntryType::Regular,
            vec![b'a'; 1 << 20],
        ));
    }
    let (code, out) = verify_bytes(tmp.path(), "many.tar.gz", &archive_of(&entries, &[]));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("decompresses to more than"), "{out}");
}

#[test]
fn trailing_bytes_and_added_directories_are_detected() {
    let s = signed();
    for (file, extra) in [
        ("manifest.json", &b"\n"[..]),
        ("manifest.json", b"  \t "),
        ("manifest.sig", b" "),
        ("manifest.sig", b"\n\n"),
    ] {
        let b = copy(&s, "trailing");
        let p = b.join(file);
        let mut data = std::fs::read(&p).unwrap();
        data.extend_from_slice(extra);
        std::fs::write(&p, data).unwrap();
        let (code, out) = verify(&b, Some(&s.public));
        assert_eq!(code, 1, "{file}: {out}");
        assert!(out.contains("not in its canonical form"), "{file}: {out}");
        std::fs::remove_dir_all(&b).unwrap();
    }
    // A manifest re-indented but equal as JSON is not the manifest that was signed.
    let b = copy(&s, "reformatted");
    let p = b.join("manifest.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    let (code, out) = verify(&b, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("was rewritten"), "{out}");
    // Empty directories, at the top and inside.
    let b = copy(&s, "dirs");
    std::fs::create_dir_all(b.join("hidden/deeper")).unwrap();
    std::fs::create_dir_all(b.join("inputs/empty")).unwrap();
    let (code, out) = verify(&b, None);
    assert_eq!(code, 1, "{out}");
    for d in ["hidden", "hidden/deeper", "inputs/empty"] {
        assert!(
            out.contains(&format!("extra directory: {d}\n")),
            "{d}: {out}"
        );
    }
    // In an archive: an empty directory entry, data after the tar end, bytes after the gzip.
    let tmp = tempfile::tempdir().unwrap();
    let files = crafted();
    let mut entries = genuine_entries(&files, "b");
    entries.push(("b/stash/".to_owned(), tar::EntryType::Directory, Vec::new()));
    let (code, out) = verify_bytes(tmp.path(), "dir.tar.gz", &archive_of(&entries, &[]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("extra directory: stash"), "{out}");
    let mut bytes = vouch::evidence::bundle::archive(&files, "b").unwrap();
    bytes.extend_from_slice(b"appended");
    let (code, out) = verify_bytes(tmp.path(), "gz-tail.tar.gz", &bytes);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("bytes after the end of the compressed stream"),
        "{out}"
    );
    let mut tar_bytes = Vec::new();
    {
        let mut t = tar::Builder::new(&mut tar_bytes);
        for (p, d) in &files {
            let mut h = tar::Header::new_gnu();
            h.set_size(d.len() as u64);
            h.set_mode(0o644);
            t.append_data(&mut h, format!("b/{p}"), d.as_slice())
                .unwrap();
        }
        t.finish().unwrap();
    }
    tar_bytes.extend_from_slice(b"smuggled after the end-of-archive marker");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar_bytes).unwrap();
    let (code, out) = verify_bytes(tmp.path(), "tar-tail.tar.gz", &gz.finish().unwrap());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("data after the tar end-of-archive marker"),
        "{out}"
    );
}
