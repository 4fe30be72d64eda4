//! `vouch evidence bundle`: contents, redaction, provenance, determinism, atomic writing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "evidence_support.rs"]
mod support;

use std::io::Read;

use support::*;

#[test]
fn a_bundle_holds_the_assessment_redacted_inputs_library_provenance_and_manifest() {
    let repo = repo();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("bundle");
    let stdout = ok(&bundle(
        &repo.path().join("infra"),
        &out,
        "2026-01-05T10:00:00Z",
        &[],
    ));
    assert!(stdout.contains("evidence bundle"), "{stdout}");
    let files = read_tree(&out);
    for f in [
        "assessment.json",
        "summary.md",
        "redactions.json",
        "provenance.json",
        "waivers.json",
        "manifest.json",
        "oscal/assessment-results.json",
        "inputs/main.tf",
        "inputs/k8s/secret.yaml",
        "inputs/inventory/idp.toml",
        "inputs/vouch.toml",
        "library/policies/schema.cedarschema",
        "library/controls/aws/s3-versioning.toml",
        "library/policies/aws/s3-versioning.cedar",
        "library/controls/frameworks/soc2.toml",
    ] {
        assert!(files.contains_key(f), "{f} missing from {:?}", files.keys());
    }
    // Fixtures are not part of the evidence.
    assert!(!files.keys().any(|k| k.contains("/violating/")));
    assert!(!files.contains_key("manifest.sig"));

    // Secrets are gone, everything else is kept line for line.
    let tf = String::from_utf8(files["inputs/main.tf"].clone()).unwrap();
    for secret in [
        "hunter2-default",
        "s3cr3t-literal",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI",
    ] {
        assert!(!tf.contains(secret), "{secret} leaked:\n{tf}");
    }
    assert_eq!(tf.lines().count(), MAIN_TF.lines().count());
    assert!(tf.contains("bucket = \"acme-logs\""));
    let k8s = String::from_utf8(files["inputs/k8s/secret.yaml"].clone()).unwrap();
    assert!(!k8s.contains("aHVudGVyMi1rOHM=") && !k8s.contains("plain-k8s-token"));
    assert!(k8s.contains("name: db"));
    let certs = String::from_utf8(files["inputs/certs.tf"].clone()).unwrap();
    assert!(!certs.contains("PRIVATEKEYMATERIAL"), "{certs}");
    assert!(!certs.contains("abcdefghijklmnop"), "{certs}");
    assert!(certs.contains("-----BEGIN PRIVATE KEY-----"), "{certs}");

    // redactions.json: file, line, kind, and the digest of the original.
    let red = json(&out.join("redactions.json"));
    let main = red["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "main.tf")
        .unwrap();
    assert_eq!(main["original_sha256"], sha256(MAIN_TF.as_bytes()));
    let kinds: Vec<(u64, &str)> = main["redactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["kind"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&(3, "terraform_sensitive")), "{kinds:?}");
    assert!(kinds.contains(&(20, "secret_attribute")), "{kinds:?}");
    assert!(kinds.iter().any(|(l, _)| *l == 24), "{kinds:?}");
    assert!(kinds.iter().any(|(l, _)| *l == 25), "{kinds:?}");
    let secret = red["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "k8s/secret.yaml")
        .unwrap();
    assert!(
        secret["redactions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["kind"] == "kubernetes_secret")
    );
    assert_eq!(secret["redactions"].as_array().unwrap().len(), 2);

    // Provenance read with git2.
    let head = git(repo.path(), &["rev-parse", "HEAD"]);
    let prov = json(&out.join("provenance.json"));
    assert_eq!(prov["collected_at"], "2026-01-05T10:00:00Z");
    assert_eq!(prov["source"]["commit"], head.as_str());
    assert_eq!(prov["source"]["branch"], "main");
    assert_eq!(prov["source"]["author"], "Ada");
    assert_eq!(prov["source"]["author_email"], "ada@acme.example");
    assert_eq!(prov["source"]["commit_time"], "2026-11-01T10:00:00Z");
    assert_eq!(prov["source"]["dirty"], false);
    assert_eq!(prov["source"]["path"], "infra");
    assert_eq!(prov["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        prov["library_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let a = json(&out.join("assessment.json"));
    assert_eq!(a["provenance"]["revision"], head.as_str());
    assert_eq!(a["provenance"]["library_digest"], prov["library_digest"]);

    // Waivers in force, with reason, approver, expiry and ticket.
    let w = json(&out.join("waivers.json"));
    assert_eq!(w["waivers"][0]["control"], "s3-versioning");
    assert_eq!(w["waivers"][0]["approver"], "jane@acme.example");
    assert_eq!(w["waivers"][0]["expires"], "2027-01-31");
    assert_eq!(w["waivers"][0]["ticket"], "SEC-142");

    // The summary: per framework, per requirement, controls, status, resources.
    let summary = String::from_utf8(files["summary.md"].clone()).unwrap();
    assert!(summary.contains("## SOC 2"), "{summary}");
    assert!(summary.contains("### A1.2"), "{summary}");
    assert!(summary.contains("| `s3-versioning`"), "{summary}");
    assert!(
        summary.contains("**fail**: `aws_s3_bucket.logs` (main.tf:"),
        "{summary}"
    );

    // The manifest lists every other file, sorted, with its digest and size.
    let m = json(&out.join("manifest.json"));
    let listed: Vec<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = files
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "manifest.json")
        .collect();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    for f in m["files"].as_array().unwrap() {
        let data = &files[f["path"].as_str().unwrap()];
        assert_eq!(f["sha256"], sha256(data));
        assert_eq!(f["size"], data.len() as u64);
    }
    let listing: String = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}  {}\n",
                f["sha256"].as_str().unwrap(),
                f["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        m["manifest_digest"],
        format!("sha256:{}", sha256(listing.as_bytes()))
    );
}

#[test]
fn rebuilding_from_the_same_commit_differs_only_in_the_collection_time() {
    let repo = repo();
    let src = repo.path().join("infra");
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let (ta, tb, tc) = (
        tmp.path().join("a.tar.gz"),
        tmp.path().join("b.tar.gz"),
        tmp.path().join("c.tar.gz"),
    );
    let t1 = "2026-01-05T10:00:00Z";
    let t2 = "2026-01-12T09:30:00Z";
    ok(&bundle(&src, &a, t1, &["--archive", ta.to_str().unwrap()]));
    ok(&bundle(&src, &b, t1, &["--archive", tb.to_str().unwrap()]));
    // The collection time can also come from the environment (tests and backfills).
    let out = vouch()
        .env("VOUCH_COLLECTION_TIME", t2)
        .args(["evidence", "bundle"])
        .arg(&src)
        .arg("--out")
        .arg(&c)
        .args(["--as-of", AS_OF, "--archive", tc.to_str().unwrap()])
        .output()
        .unwrap();
    ok(&out);
    let (fa, fb, fc) = (read_tree(&a), read_tree(&b), read_tree(&c));
    // The same collection time: byte-identical, directory and archive.
    assert_eq!(fa, fb);
    // Same directory name inside the archive is needed for identical archives: a/ vs b/.
    let entries = |p: &std::path::Path| -> Vec<(String, Vec<u8>, u64, u64, u32)> {
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap());
        let mut ar = tar::Archive::new(gz);
        ar.entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                let h = e.header().clone();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (
                    path.split_once('/').unwrap().1.to_owned(),
                    data,
                    h.mtime().unwrap(),
                    h.uid().unwrap(),
                    h.mode().unwrap(),
                )
            })
            .collect()
    };
    let ea = entries(&ta);
    assert_eq!(ea, entries(&tb));
    let names: Vec<&String> = ea.iter().map(|e| &e.0).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "archive entries are sorted");
    assert!(ea.iter().all(|e| e.2 == 0 && e.3 == 0 && e.4 == 0o644));
    let gz = std::fs::read(&ta).unwrap();
    assert_eq!(&gz[4..8], &[0, 0, 0, 0], "no gzip timestamp");
    // Archives of bundles written under the same name are byte-identical.
    let again = tmp.path().join("again");
    std::fs::create_dir(&again).unwrap();
    let a2 = again.join("a");
    let ta2 = again.join("a.tar.gz");
    ok(&bundle(
        &src,
        &a2,
        t1,
        &["--archive", ta2.to_str().unwrap()],
    ));
    assert_eq!(std::fs::read(&ta).unwrap(), std::fs::read(&ta2).unwrap());

    // Another collection time: only the files that carry it (and the manifest) differ, and
    // only by it.
    let differ: Vec<&String> = fa.keys().filter(|k| fa.get(*k) != fc.get(*k)).collect();
    assert_eq!(
        differ,
        vec![
            "manifest.json",
            "oscal/assessment-results.json",
            "provenance.json"
        ]
    );
    for f in ["oscal/assessment-results.json", "provenance.json"] {
        let x = String::from_utf8(fa[f].clone()).unwrap();
        let y = String::from_utf8(fc[f].clone()).unwrap().replace(t2, t1);
        assert_eq!(x, y, "{f} differs beyond the collection time");
    }
}

#[test]
fn a_dirty_work_tree_is_recorded() {
    let repo = repo();
    std::fs::write(repo.path().join("infra/main.tf"), MAIN_TF_FIXED).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("bundle");
    let res = bundle(
        &repo.path().join("infra"),
        &out,
        "2026-01-05T10:00:00Z",
        &[],
    );
    ok(&res);
    assert!(String::from_utf8_lossy(&res.stderr).contains("uncommitted changes"));
    assert_eq!(json(&out.join("provenance.json"))["source"]["dirty"], true);
}

#[test]
fn a_directory_outside_git_has_no_source() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("main.tf", MAIN_TF_FIXED)]);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("bundle");
    ok(&bundle(dir.path(), &out, "2026-01-05T10:00:00Z", &[]));
    assert_eq!(
        json(&out.join("provenance.json"))["source"],
        serde_json::Value::Null
    );
}

#[test]
fn writing_is_atomic_and_never_overwrites_by_accident() {
    let repo = repo();
    let src = repo.path().join("infra");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    // A failure before anything is written (an unreadable key) leaves nothing behind.
    std::fs::write(tmp.path().join("bad.key"), "not a key").unwrap();
    let res = bundle(
        &src,
        &out,
        "2026-01-05T10:00:00Z",
        &["--sign-key", tmp.path().join("bad.key").to_str().unwrap()],
    );
    assert_eq!(res.status.code(), Some(2));
    assert!(!out.exists());
    // An existing directory is refused without --force, and left untouched.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let res = bundle(&src, &out, "2026-01-05T10:00:00Z", &[]);
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
    // With --force it is replaced by a complete bundle.
    ok(&bundle(&src, &out, "2026-01-05T10:00:00Z", &["--force"]));
    assert!(!out.join("keep.txt").exists());
    assert!(out.join("manifest.json").exists());
    // No temporary directory is left next to it.
    let leftovers: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("vouch-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A run that fails (a malformed input) writes no bundle.
    write(&src, &[("broken.tf", "resource \"aws_s3_bucket\" {\n")]);
    let failed = tmp.path().join("failed");
    let res = bundle(&src, &failed, "2026-01-05T10:00:00Z", &[]);
    assert_eq!(res.status.code(), Some(2));
    assert!(!failed.exists());
}
