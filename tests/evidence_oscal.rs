//! The bundle's OSCAL assessment results, loaded by a real OSCAL consumer (compliance-trestle,
//! installed by scripts/test).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "evidence_support.rs"]
mod support;

mod common;

use support::*;

#[test]
fn trestle_accepts_the_assessment_results() {
    if !common::consumer_available("compliance-trestle", "OSCAL read by compliance-trestle") {
        return;
    }
    let repo = repo();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    ok(&bundle(
        &repo.path().join("infra"),
        &out,
        "2026-01-05T10:00:00Z",
        &[],
    ));
    let file = out.join("oscal/assessment-results.json");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oscal/validate.py");
    let run = std::process::Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output();
    let run = match run {
        Ok(r) => r,
        Err(e) => panic!(
            "python3 is not available ({e}); run scripts/test, which installs compliance-trestle"
        ),
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_ne!(
        run.status.code(),
        Some(2),
        "compliance-trestle is missing: run scripts/test (it installs it)\n{stderr}"
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "trestle rejected the document:\n{stderr}"
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("trestle accepts"));
}

#[test]
fn findings_link_controls_to_framework_requirements_with_stable_uuids() {
    let repo = repo();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    ok(&bundle(
        &repo.path().join("infra"),
        &a,
        "2026-01-05T10:00:00Z",
        &[],
    ));
    ok(&bundle(
        &repo.path().join("infra"),
        &b,
        "2026-01-06T10:00:00Z",
        &[],
    ));
    let ja = json(&a.join("oscal/assessment-results.json"));
    let jb = json(&b.join("oscal/assessment-results.json"));
    let ar = &ja["assessment-results"];
    assert_eq!(ar["metadata"]["oscal-version"], "1.1.2");
    assert_eq!(ar["uuid"], jb["assessment-results"]["uuid"]);
    let result = &ar["results"][0];
    let finding = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"]["target-id"] == "s3-versioning")
        .unwrap();
    assert_eq!(finding["target"]["status"]["state"], "not-satisfied");
    let reqs: Vec<(&str, &str)> = finding["props"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "framework-requirement")
        .map(|p| (p["class"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert!(reqs.contains(&("soc2", "A1.2")), "{reqs:?}");
    assert!(
        finding["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["text"] == "SOC 2 A1.2")
    );
    // The related observation exists and points at the input file.
    let obs_uuid = finding["related-observations"][0]["observation-uuid"]
        .as_str()
        .unwrap();
    let obs = result["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["uuid"] == obs_uuid)
        .unwrap();
    assert_eq!(obs["collected"], "2026-01-05T10:00:00Z");
    assert!(
        obs["relevant-evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["href"] == "../inputs/main.tf")
    );
}
