//! `vouch roadmap`: honest readiness numbers, the ranking of the next steps, the JSON shape and
//! the exit codes. Library-level tests use synthetic controls over the real catalogs; the
//! end-to-end ones run the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{AS_OF, tree, vouch};
use vouch::assessment::{CheckResult, ResourceRef, Status};
use vouch::basis::Basis;
use vouch::formats::inventory::Attestation;
use vouch::library::{Control, Library, Origin, Severity};
use vouch::roadmap::{ReqStatus, Roadmap, Settings, StepKind};

// ------------------------------------------------------------------ synthetic library and runs

fn builtin() -> Library {
    let (lib, problems) = Library::load(&[]);
    assert!(problems.is_empty(), "{problems:?}");
    lib
}

/// The built-in catalogs with only these controls.
fn lib_with(controls: Vec<Control>) -> Library {
    let mut lib = builtin();
    lib.controls = controls.into_iter().map(|c| (c.id.clone(), c)).collect();
    lib
}

fn ctl(id: &str, automated: bool, effort: u32, maps: &[(&str, &[&str])]) -> Control {
    Control {
        id: id.to_owned(),
        title: format!("title of {id}"),
        family: "test".to_owned(),
        severity: Severity::Medium,
        effort,
        automated,
        description: String::new(),
        rationale: String::new(),
        remediation: format!("fix {id}"),
        frameworks: maps
            .iter()
            .map(|(fw, ids)| {
                (
                    (*fw).to_owned(),
                    ids.iter().map(|s| (*s).to_owned()).collect(),
                )
            })
            .collect(),
        file: format!("test/{id}.toml"),
        origin: Origin::Builtin,
    }
}

fn result(c: &Control, status: Status, resource: Option<&str>) -> CheckResult {
    CheckResult {
        control: c.id.as_str().into(),
        about: std::sync::Arc::new(vouch::assessment::ControlAbout::of(c)),
        status,
        severity: c.severity,
        resource: resource.map(|a| {
            std::sync::Arc::new(ResourceRef {
                address: a.to_owned(),
                entity_type: "Test::Thing".to_owned(),
                scope: String::new(),
                file: "main.tf".to_owned(),
                line: 1,
                column: 1,
            })
        }),
        detail: None,
        determined: true,
        fingerprint: vouch::assessment::fingerprint(&c.id, None, &[]),
        waiver: None,
        attestation: None,
        basis: if c.automated {
            Basis::Configuration
        } else {
            Basis::AttestationUnverified
        },
        sources: std::sync::Arc::default(),
    }
}

/// A manual control's result: attested (`Some(false)`), expired (`Some(true)`), missing (`None`).
fn manual(c: &Control, expired: Option<bool>) -> CheckResult {
    let mut r = result(
        c,
        if expired == Some(false) {
            Status::Pass
        } else {
            Status::Fail
        },
        None,
    );
    r.attestation = expired.map(|_| {
        Box::new(Attestation {
            control: c.id.clone(),
            owner: "ciso".to_owned(),
            evidence: "https://example.test/evidence".to_owned(),
            evidence_file: Some("evidence/report.pdf".to_owned()),
            evidence_digest: Some("sha256:00".to_owned()),
            date: "2025-01-01".to_owned(),
            expires: "2026-01-01".to_owned(),
            expires_days: 20_454,
            file: "inventory.toml".to_owned(),
            line: 1,
            offset: 0,
        })
    });
    if expired == Some(false) {
        r.basis = Basis::Attestation;
    }
    r
}

fn targets(ts: &[&str]) -> Settings {
    Settings {
        targets: ts.iter().map(|s| (*s).to_owned()).collect(),
        ..Settings::default()
    }
}

fn status_of(r: &Roadmap, fw: &str, req: &str) -> ReqStatus {
    r.framework(fw)
        .unwrap()
        .requirements
        .iter()
        .find(|x| x.id == req)
        .unwrap_or_else(|| panic!("{req} is not an assessable unit of {fw}"))
        .status
}

// ------------------------------------------------------------------ honest numbers

#[test]
fn assessable_units_follow_the_catalog_guidance_and_nothing_unmapped_is_met() {
    let lib = lib_with(Vec::new());
    let r = Roadmap::build(
        &lib,
        &[],
        &targets(&["soc2", "soc3", "iso27001", "hipaa", "ferpa"]),
    );
    let n = |fw: &str| r.readiness[fw].requirements;
    assert_eq!(n("soc2"), 33, "the CC criteria (security only by default)");
    assert_eq!(n("soc3"), 33, "SOC 3 resolves through SOC 2");
    assert_eq!(n("iso27001"), 123, "30 clause leaves + 93 Annex A controls");
    assert_eq!(
        n("hipaa"),
        50,
        "43 implementation specs + 7 standards without any"
    );
    for (fw, rd) in &r.readiness {
        assert_eq!(rd.met, 0, "{fw}: no control maps anywhere, nothing is met");
        assert_eq!(rd.unaddressed, rd.requirements, "{fw}");
        assert_eq!(rd.percent, 0, "{fw}");
    }
    assert!(r.steps.is_empty());
    // Parents are not units: a HIPAA standard with specifications, an ISO clause with subclauses.
    let hipaa = r.framework("hipaa").unwrap();
    assert!(hipaa.requirements.iter().all(|q| q.id != "164.312(a)(1)"));
    assert!(hipaa.requirements.iter().any(|q| q.id == "164.312(b)"));
    let iso = r.framework("iso27001").unwrap();
    assert!(iso.requirements.iter().all(|q| q.id != "6.1"));
}

#[test]
fn soc2_scope_is_configurable() {
    let table: toml::Table =
        toml::from_str("soc2_categories = [\"availability\", \"confidentiality\"]").unwrap();
    let s = Settings::from_config(Some(&table), &["soc2".to_owned()]).unwrap();
    assert_eq!(
        s.soc2_categories,
        vec!["security", "availability", "confidentiality"]
    );
    let r = Roadmap::build(&lib_with(Vec::new()), &[], &s);
    assert_eq!(r.readiness["soc2"].requirements, 33 + 3 + 2);
    assert!(
        r.framework("soc2")
            .unwrap()
            .requirements
            .iter()
            .any(|q| q.id == "A1.2")
    );
}

#[test]
fn a_passing_control_meets_its_requirements_and_a_failing_one_fails_them_everywhere() {
    let good = ctl(
        "good",
        true,
        2,
        &[("soc2", &["CC6.1"]), ("iso27001", &["A.8.24"])],
    );
    let bad = ctl(
        "bad",
        true,
        2,
        &[("soc2", &["CC6.1"]), ("hipaa", &["164.312(a)(2)(iv)"])],
    );
    let lib = lib_with(vec![good.clone(), bad.clone()]);
    let results = vec![
        result(&good, Status::Pass, Some("a")),
        result(&bad, Status::Pass, Some("a")),
        result(&bad, Status::Fail, Some("b")),
    ];
    let r = Roadmap::build(&lib, &results, &targets(&["soc2", "iso27001", "hipaa"]));
    assert_eq!(status_of(&r, "iso27001", "A.8.24"), ReqStatus::Met);
    // One failing resource fails the control; a passing control beside it does not rescue it.
    assert_eq!(status_of(&r, "soc2", "CC6.1"), ReqStatus::Failing);
    assert_eq!(
        status_of(&r, "hipaa", "164.312(a)(2)(iv)"),
        ReqStatus::Failing
    );
    assert_eq!(r.readiness["soc2"].met, 0);
    assert_eq!(r.readiness["soc2"].failing, 1);
    assert_eq!(r.readiness["iso27001"].met, 1);
    assert_eq!(r.steps.len(), 1);
    assert_eq!(r.steps[0].control, "bad");
    assert_eq!(r.steps[0].kind, StepKind::Fix);
    assert_eq!(r.steps[0].resources, vec!["b"]);
    // Errors fail too (never a pass).
    let results = vec![result(&good, Status::Error, Some("a"))];
    let r = Roadmap::build(&lib, &results, &targets(&["iso27001"]));
    assert_eq!(status_of(&r, "iso27001", "A.8.24"), ReqStatus::Failing);
}

#[test]
fn a_control_with_nothing_to_check_is_no_evidence() {
    let na = ctl("na", true, 1, &[("soc2", &["CC6.1"])]);
    let lib = lib_with(vec![na.clone()]);
    let r = Roadmap::build(
        &lib,
        &[result(&na, Status::NotApplicable, None)],
        &targets(&["soc2"]),
    );
    assert_eq!(status_of(&r, "soc2", "CC6.1"), ReqStatus::Unaddressed);
    assert_eq!(r.readiness["soc2"].met, 0);
}

#[test]
fn attestations_decide_manual_only_requirements() {
    let m = ctl("policy", false, 3, &[("iso27001", &["A.5.1"])]);
    let lib = lib_with(vec![m.clone()]);
    let s = targets(&["iso27001"]);
    let current = Roadmap::build(&lib, &[manual(&m, Some(false))], &s);
    assert_eq!(status_of(&current, "iso27001", "A.5.1"), ReqStatus::Met);
    assert!(current.steps.is_empty());

    let expired = Roadmap::build(&lib, &[manual(&m, Some(true))], &s);
    assert_eq!(status_of(&expired, "iso27001", "A.5.1"), ReqStatus::Pending);
    assert_eq!(expired.steps[0].kind, StepKind::Renew);
    assert_eq!(expired.steps[0].expired_on.as_deref(), Some("2026-01-01"));

    let missing = Roadmap::build(&lib, &[manual(&m, None)], &s);
    assert_eq!(status_of(&missing, "iso27001", "A.5.1"), ReqStatus::Pending);
    assert_eq!(missing.steps[0].kind, StepKind::Implement);

    // A failing automated control beside a missing attestation makes it failing, not pending.
    let a = ctl("auto", true, 1, &[("iso27001", &["A.5.1"])]);
    let lib = lib_with(vec![m.clone(), a.clone()]);
    let r = Roadmap::build(
        &lib,
        &[manual(&m, None), result(&a, Status::Fail, Some("x"))],
        &s,
    );
    assert_eq!(status_of(&r, "iso27001", "A.5.1"), ReqStatus::Failing);
}

#[test]
fn a_waived_failure_counts_as_an_approved_exception() {
    let c = ctl("c", true, 1, &[("soc2", &["CC6.1"])]);
    let lib = lib_with(vec![c.clone()]);
    let r = Roadmap::build(
        &lib,
        &[result(&c, Status::Waived, Some("x"))],
        &targets(&["soc2"]),
    );
    assert_eq!(status_of(&r, "soc2", "CC6.1"), ReqStatus::Met);
    let soc2 = r.framework("soc2").unwrap();
    let req = soc2.requirements.iter().find(|q| q.id == "CC6.1").unwrap();
    assert_eq!(req.waived, vec!["c"]);
}

#[test]
fn a_mapping_to_a_parent_standard_never_meets_its_specifications_alone() {
    // Passing control on the HIPAA access-control standard only: its specifications stay
    // unaddressed; failing, it holds back the specifications that have their own control.
    let std_ctl = ctl("std", true, 1, &[("hipaa", &["164.312(a)(1)"])]);
    let spec = ctl("spec", true, 1, &[("hipaa", &["164.312(a)(2)(iv)"])]);
    let lib = lib_with(vec![std_ctl.clone(), spec.clone()]);
    let s = targets(&["hipaa"]);
    let r = Roadmap::build(&lib, &[result(&std_ctl, Status::Pass, Some("x"))], &s);
    assert_eq!(
        r.readiness["hipaa"].met, 0,
        "the specification's own control found nothing"
    );
    let r = Roadmap::build(
        &lib,
        &[
            result(&std_ctl, Status::Fail, Some("x")),
            result(&spec, Status::Pass, Some("y")),
        ],
        &s,
    );
    assert_eq!(
        status_of(&r, "hipaa", "164.312(a)(2)(iv)"),
        ReqStatus::Failing
    );
    assert_eq!(
        status_of(&r, "hipaa", "164.312(a)(2)(i)"),
        ReqStatus::Unaddressed
    );
}

// ------------------------------------------------------------------ ranking

fn three_and_one() -> (Library, Vec<CheckResult>) {
    let multi = ctl(
        "multi",
        true,
        3,
        &[
            ("soc2", &["CC6.1"]),
            ("iso27001", &["A.8.24"]),
            ("hipaa", &["164.312(a)(2)(iv)"]),
        ],
    );
    let single = ctl("single", true, 3, &[("soc2", &["CC6.2"])]);
    let lib = lib_with(vec![single.clone(), multi.clone()]);
    let results = vec![
        result(&single, Status::Fail, Some("a")),
        result(&multi, Status::Fail, Some("b")),
    ];
    (lib, results)
}

#[test]
fn one_control_for_three_frameworks_ranks_above_one_for_a_single_framework() {
    let (lib, results) = three_and_one();
    let r = Roadmap::build(&lib, &results, &targets(&["soc2", "iso27001", "hipaa"]));
    let order: Vec<&str> = r.steps.iter().map(|s| s.control.as_str()).collect();
    assert_eq!(order, vec!["multi", "single"]);
    assert_eq!(r.steps[0].rank, 1);
    assert_eq!(r.steps[0].unlocked(), 3);
    assert_eq!(r.steps[0].unlocks["hipaa"], vec!["164.312(a)(2)(iv)"]);
    assert!(
        (r.steps[0].score - 1.0).abs() < 1e-9,
        "3 unlocks / effort 3"
    );
    assert!((r.steps[1].score - 1.0 / 3.0).abs() < 1e-3);
}

#[test]
fn weights_shift_the_order() {
    // Two frameworks (ISO, HIPAA) against one (SOC 2), at equal effort.
    let two = ctl(
        "two",
        true,
        3,
        &[("iso27001", &["A.8.24"]), ("hipaa", &["164.312(a)(2)(iv)"])],
    );
    let one = ctl("one", true, 3, &[("soc2", &["CC6.2"])]);
    let lib = lib_with(vec![one.clone(), two.clone()]);
    let results = vec![
        result(&one, Status::Fail, Some("a")),
        result(&two, Status::Fail, Some("b")),
    ];
    let all = ["soc2,iso27001,hipaa".to_owned()];
    let order = |weights: &str| {
        let t: toml::Table = toml::from_str(weights).unwrap();
        let s = Settings::from_config(Some(&t), &all).unwrap();
        Roadmap::build(&lib, &results, &s)
            .steps
            .iter()
            .map(|s| s.control.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(order(""), vec!["two", "one"], "2 / 3 beats 1 / 3");
    // Three deals wait on SOC 2: 3 / 3 beats 2 / 3.
    assert_eq!(order("[weights]\nsoc2 = 3\n"), vec!["one", "two"]);
    // HIPAA worth nothing, ISO half: 0.5 / 3 loses to 1 / 3.
    assert_eq!(
        order("[weights]\nhipaa = 0\niso27001 = 0.5\n"),
        vec!["one", "two"]
    );
}

#[test]
fn effort_divides_and_the_cheapest_certification_comes_first() {
    let big = ctl(
        "big",
        true,
        13,
        &[("soc2", &["CC6.1"]), ("iso27001", &["A.8.24"])],
    );
    let small = ctl("small", true, 1, &[("iso27001", &["A.8.5"])]);
    let lib = lib_with(vec![big.clone(), small.clone()]);
    let results = vec![
        result(&big, Status::Fail, Some("a")),
        result(&small, Status::Fail, Some("b")),
    ];
    let r = Roadmap::build(&lib, &results, &targets(&["soc2", "iso27001"]));
    assert_eq!(r.steps[0].control, "small");
    let next: Vec<(&str, u32, usize)> = r
        .next_certification
        .iter()
        .map(|n| (n.framework.as_str(), n.effort, n.steps))
        .collect();
    assert_eq!(next, vec![("soc2", 13, 1), ("iso27001", 14, 2)]);
    assert!(r.next_certification.iter().all(|n| !n.ready));
}

#[test]
fn a_requirement_held_back_by_two_controls_is_unlocked_by_the_second() {
    let a = ctl("a", true, 1, &[("soc2", &["CC6.1"])]);
    let b = ctl("b", true, 2, &[("soc2", &["CC6.1"])]);
    let lib = lib_with(vec![a.clone(), b.clone()]);
    let results = vec![
        result(&a, Status::Fail, Some("x")),
        result(&b, Status::Fail, Some("y")),
    ];
    let r = Roadmap::build(&lib, &results, &targets(&["soc2"]));
    assert_eq!(r.steps.len(), 2);
    assert!(r.steps[0].unlocks.is_empty());
    assert_eq!(r.steps[0].advances["soc2"], 1);
    assert_eq!(r.steps[1].unlocks["soc2"], vec!["CC6.1"]);
}

#[test]
fn settings_reject_what_they_do_not_know() {
    assert!(Settings::from_config(None, &["pci".to_owned()]).is_err());
    for bad in [
        "targets = [\"soc2\", \"nist\"]",
        "colour = true",
        "[weights]\nsoc2 = -1",
        "[weights]\nsoc2 = \"lots\"",
        "[weights]\npci = 2",
        "soc2_categories = [\"avail\"]",
    ] {
        let t: toml::Table = toml::from_str(bad).unwrap();
        assert!(Settings::from_config(Some(&t), &[]).is_err(), "{bad}");
    }
    let t: toml::Table = toml::from_str("targets = [\"hipaa\"]\n[weights]\nhipaa = 2.5").unwrap();
    let s = Settings::from_config(Some(&t), &[]).unwrap();
    assert_eq!(s.targets, vec!["hipaa"]);
    assert!((s.weight("hipaa") - 2.5).abs() < 1e-9);
    assert!((s.weight("soc2") - 1.0).abs() < 1e-9);
    // --target wins over the configured targets.
    let s = Settings::from_config(Some(&t), &["soc2".to_owned(), "iso27001".to_owned()]).unwrap();
    assert_eq!(s.targets, vec!["soc2", "iso27001"]);
    assert_eq!(
        Settings::default().targets,
        vec!["soc2", "iso27001", "hipaa"]
    );
}

// ------------------------------------------------------------------ the binary

fn roadmap(root: &std::path::Path, extra: &[&str]) -> (i32, String, String) {
    let out = vouch()
        .arg("roadmap")
        .arg(root)
        .args(["--as-of", AS_OF])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn example() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme")
}

#[test]
fn the_json_shape_on_the_example() {
    let (code, out, err) = roadmap(&example(), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["as_of"], AS_OF);
    assert_eq!(
        j["targets"],
        serde_json::json!(["soc2", "iso27001", "hipaa"])
    );
    assert_eq!(j["soc2_categories"], serde_json::json!(["security"]));
    for fw in ["soc2", "iso27001", "hipaa"] {
        let r = &j["readiness"][fw];
        let n = |k: &str| r[k].as_u64().unwrap();
        assert_eq!(
            n("met") + n("failing") + n("pending") + n("unaddressed"),
            n("requirements"),
            "{fw}: {r}"
        );
        assert_eq!(n("percent"), n("verified") * 100 / n("requirements"));
        assert!(n("verified") <= n("met"), "{fw}: {r}");
        let by_basis: u64 = r["by_basis"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(by_basis, n("met"), "{fw}: {r}");
        assert_eq!(j["weights"][fw], 1.0);
    }
    assert_eq!(j["readiness"]["hipaa"]["requirements"], 50);
    assert_eq!(j["readiness"]["iso27001"]["requirements"], 123);
    assert_eq!(j["readiness"]["soc2"]["requirements"], 33);
    let steps = j["steps"].as_array().unwrap();
    assert!(!steps.is_empty());
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s["rank"], i + 1);
        assert!(["fix", "implement", "renew"].contains(&s["kind"].as_str().unwrap()));
        assert!(s["effort"].as_u64().unwrap() >= 1);
        assert!(s["score"].as_f64().unwrap() > 0.0);
        assert!(s["unlocks"].is_object());
    }
    let next = j["next_certification"].as_array().unwrap();
    assert_eq!(next.len(), 3);
    let efforts: Vec<u64> = next.iter().map(|n| n["effort"].as_u64().unwrap()).collect();
    assert!(efforts.windows(2).all(|w| w[0] <= w[1]), "{efforts:?}");
    let fws = j["frameworks"].as_array().unwrap();
    assert_eq!(fws.len(), 3);
    let req = &fws[0]["requirements"][0];
    for k in ["id", "title", "group", "status"] {
        assert!(req.get(k).is_some(), "{req}");
    }
    // Every requirement counted as met has evidence and nothing holding it back.
    for fw in fws {
        for r in fw["requirements"].as_array().unwrap() {
            if r["status"] == "met" {
                assert!(
                    r["evidence"].as_array().is_some_and(|e| !e.is_empty()),
                    "{r}"
                );
                assert!(r.get("blocked_by").is_none(), "{r}");
            }
        }
    }
    // Deterministic: the same input gives the same bytes.
    let (_, again, _) = roadmap(&example(), &["--format", "json"]);
    assert_eq!(out, again);
}

#[test]
fn human_and_markdown_outputs() {
    let (code, out, err) = roadmap(&example(), &["--target", "soc2,hipaa"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Readiness"), "{out}");
    assert!(out.contains("Which certification next"), "{out}");
    assert!(out.contains("Next steps"), "{out}");
    assert!(out.contains("SOC 2") && out.contains("HIPAA"));
    assert!(!out.contains("ISO 27001"), "only the targets asked for");
    let (code, md, _) = roadmap(&example(), &["--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(md.starts_with("# Compliance roadmap"));
    for h in [
        "## Readiness",
        "## Which certification next",
        "## Next steps",
        "## Gaps",
    ] {
        assert!(md.contains(h), "{h}");
    }
    assert!(md.contains("| SOC 2 | **"));
}

#[test]
fn the_html_page_is_self_contained_and_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("roadmap.html");
    let (code, stdout, err) = roadmap(
        &example(),
        &["--format", "html", "--out", out.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty(), "the page goes to the file, not stdout");
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Nothing loads from elsewhere (an address shown as text, in a remediation's configuration,
    // loads nothing).
    for forbidden in [
        "<script",
        "<link",
        "src=",
        "@import",
        "url(",
        "=\"http://",
        "=\"https://",
        "<a ",
    ] {
        assert!(
            !html.contains(forbidden),
            "the page must not load `{forbidden}`"
        );
    }
    assert!(html.contains("id=\"readiness-soc2\""));
    assert!(html.contains("id=\"step-1\""));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
}

#[test]
fn exit_codes() {
    let (code, _, err) = roadmap(&example(), &["--target", "soc2,pci"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown target framework `pci`"), "{err}");
    // A failed run (a malformed file) gives no roadmap.
    let dir = tree(&[("main.tf", "resource \"aws_s3_bucket\" \"x\" {\n")]);
    let (code, out, _) = roadmap(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    // A bad [roadmap] table.
    let dir = tree(&[("vouch.toml", "[roadmap]\ntargets = [\"nist\"]\n")]);
    let (code, _, err) = roadmap(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    // A bad date.
    let (code, _, _) = roadmap(&example(), &["--as-of", "2026-02-30"]);
    assert_eq!(code, 2);
    // An empty tree is a valid (if sobering) roadmap.
    let dir = tree(&[]);
    let (code, out, err) = roadmap(dir.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        j["readiness"]["soc2"]["met"], 0,
        "nothing checked, nothing met"
    );
}

/// An ISO 27001 unit no built-in manual control maps to (so an empty tree leaves it
/// unaddressed), for an organisation's own manual control.
fn unit_without_builtin_manual_control() -> String {
    let lib = builtin();
    let units = vouch::roadmap::model::units(&lib, "iso27001", &Settings::default());
    units
        .into_iter()
        .find(|u| {
            u.direct
                .iter()
                .chain(&u.inherited)
                .all(|c| lib.controls.get(c).is_some_and(|c| c.automated))
        })
        .map(|u| u.requirement.id)
        .expect("some ISO unit has only automated controls (or none)")
}

fn org_tree(expires: &str) -> (tempfile::TempDir, String) {
    let req = unit_without_builtin_manual_control();
    let control = format!(
        "id = \"org-manual\"\ntitle = \"Our own manual control\"\nfamily = \"org\"\nseverity = \"medium\"\n\
         effort = 2\nautomated = false\ndescription = \"d\"\nremediation = \"r\"\n\n[frameworks]\niso27001 = [\"{req}\"]\n"
    );
    let inventory = format!(
        "[[attestation]]\ncontrol = \"org-manual\"\nowner = \"ciso\"\nevidence = \"wiki/page\"\n\
         date = 2026-01-05\nexpires = {expires}\n"
    );
    let dir = tree(&[
        (
            "vouch.toml",
            "[library]\npaths = [\"compliance\"]\n\n[roadmap]\ntargets = [\"iso27001\"]\n",
        ),
        ("compliance/controls/org/org-manual.toml", &control),
        ("inventory/attestations.toml", &inventory),
    ]);
    (dir, req)
}

fn requirement<'a>(j: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    j["frameworks"][0]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

#[test]
fn end_to_end_a_current_attestation_meets_and_an_expired_one_is_pending() {
    let (dir, req) = org_tree("2027-01-05");
    let (code, out, err) = roadmap(dir.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        j["targets"],
        serde_json::json!(["iso27001"]),
        "from [roadmap]"
    );
    let r = requirement(&j, &req);
    assert_eq!(r["status"], "met", "{r}");
    assert_eq!(
        j["readiness"]["iso27001"]["met"], 1,
        "only the attested unit"
    );

    let (dir, req) = org_tree("2026-06-30");
    let (code, out, err) = roadmap(dir.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let r = requirement(&j, &req);
    assert_eq!(r["status"], "pending", "{r}");
    assert_eq!(r["blocked_by"], serde_json::json!(["org-manual"]));
    let step = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["control"] == "org-manual")
        .unwrap();
    assert_eq!(step["kind"], "renew");
    assert_eq!(step["expired_on"], "2026-06-30");
    assert_eq!(step["unlocks"]["iso27001"], serde_json::json!([req]));
}
