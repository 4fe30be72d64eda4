//! Framework coverage: `vouch frameworks`, the catalogs, and the generated docs
//! (`docs/coverage.md`, `docs/controls.md`) kept in step with the library.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::vouch;
use vouch::frameworks::{self, Coverage};
use vouch::library::Library;

fn builtin() -> Library {
    let (lib, problems) = Library::load(&[]);
    assert!(problems.is_empty(), "{problems:#?}");
    lib
}

/// Compares generated text with the checked-in file, or writes it when `VOUCH_BLESS=1`.
/// Returns a description of the difference (none when fresh or blessed).
fn check_generated(rel: &str, generated: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == generated {
        return None;
    }
    if std::env::var_os("VOUCH_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
        return None;
    }
    let first = current
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| current.lines().count().min(generated.lines().count()));
    Some(format!(
        "{rel} is stale (first difference at line {}):\n  checked in: {:?}\n  generated:  {:?}",
        first + 1,
        current.lines().nth(first).unwrap_or("<end of file>"),
        generated.lines().nth(first).unwrap_or("<end of file>"),
    ))
}

#[test]
fn generated_docs_are_fresh() {
    let lib = builtin();
    let stale: Vec<String> = [
        ("docs/coverage.md", frameworks::render_coverage_md(&lib)),
        ("docs/controls.md", frameworks::render_controls_md(&lib)),
    ]
    .iter()
    .filter_map(|(rel, text)| check_generated(rel, text))
    .collect();
    assert!(
        stale.is_empty(),
        "{}\n\nthe generated docs differ from the library; run `VOUCH_BLESS=1 cargo test --test frameworks` to update them",
        stale.join("\n\n")
    );
}

#[test]
fn generated_docs_are_deterministic() {
    let lib = builtin();
    assert_eq!(
        frameworks::render_coverage_md(&lib),
        frameworks::render_coverage_md(&builtin())
    );
    assert_eq!(
        frameworks::render_controls_md(&lib),
        frameworks::render_controls_md(&builtin())
    );
}

#[test]
fn controls_md_has_one_section_per_control_by_family_then_id() {
    let lib = builtin();
    let md = frameworks::render_controls_md(&lib);
    let sections: Vec<&str> = md.lines().filter_map(|l| l.strip_prefix("### ")).collect();
    let mut expected: Vec<(&str, &str)> = lib
        .controls
        .values()
        .map(|c| (c.family.as_str(), c.id.as_str()))
        .collect();
    expected.sort();
    assert_eq!(
        sections,
        expected.iter().map(|(_, id)| *id).collect::<Vec<_>>()
    );
    assert!(md.contains("manual (attestation)"));
    assert!(md.contains("```toml\n[[attestation]]\ncontrol = \"risk-assessment\""));
}

#[test]
fn every_catalog_is_complete_and_counted() {
    let lib = builtin();
    for (id, expected) in [
        ("soc2", 61),
        ("soc3", 61),
        ("iso27001", 127),
        ("hipaa", 65),
        ("ferpa", 32),
    ] {
        let fw = frameworks::coverage(&lib, id).unwrap_or_else(|| panic!("no catalog {id}"));
        let c = fw.counts;
        assert_eq!(c.requirements, expected, "{id}");
        assert_eq!(c.automated + c.manual_only + c.none, c.requirements, "{id}");
        let ids: Vec<&str> = fw
            .groups
            .iter()
            .flat_map(|g| g.requirements.iter().map(|r| r.id.as_str()))
            .collect();
        assert_eq!(ids.len(), expected, "{id}");
        assert_eq!(
            ids.iter().collect::<BTreeSet<_>>().len(),
            expected,
            "{id} has duplicate requirement ids"
        );
        // Every mapped id of every control appears among the requirements.
        let base = lib.catalogs.base_of(id);
        for ctl in lib.controls.values() {
            for req in ctl.frameworks.get(base).into_iter().flatten() {
                assert!(ids.contains(&req.as_str()), "{}: {base} {req}", ctl.id);
            }
        }
    }
    assert_eq!(
        frameworks::framework_ids(&lib),
        vec!["soc2", "soc3", "iso27001", "hipaa", "ferpa"]
    );
}

#[test]
fn soc3_resolves_to_the_soc2_requirements() {
    let lib = builtin();
    let soc2 = frameworks::coverage(&lib, "soc2").unwrap();
    let soc3 = frameworks::coverage(&lib, "soc3").unwrap();
    assert_eq!(soc3.based_on.as_deref(), Some("soc2"));
    assert_eq!(soc3.name, "SOC 3");
    assert_eq!(soc3.groups, soc2.groups);
    assert_eq!(soc3.counts, soc2.counts);
}

#[test]
fn coverage_reaches_the_governance_requirements() {
    let lib = builtin();
    let soc2 = frameworks::coverage(&lib, "soc2").unwrap();
    let uncovered_cc: Vec<&str> = soc2
        .groups
        .iter()
        .flat_map(|g| &g.requirements)
        .filter(|r| r.id.starts_with("CC") && r.coverage == Coverage::None)
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        uncovered_cc.is_empty(),
        "SOC 2 CC without a control: {uncovered_cc:?}"
    );
    let iso = frameworks::coverage(&lib, "iso27001").unwrap();
    let clauses: Vec<_> = iso
        .groups
        .iter()
        .flat_map(|g| &g.requirements)
        .filter(|r| !r.id.starts_with("A."))
        .collect();
    let uncovered: Vec<&str> = clauses
        .iter()
        .filter(|r| r.coverage == Coverage::None)
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        uncovered.len() * 10 <= clauses.len(),
        "ISO 27001 clauses without a control: {uncovered:?}"
    );
    // A requirement met by configuration and by attestation reports both kinds.
    let cc41 = soc2
        .groups
        .iter()
        .flat_map(|g| &g.requirements)
        .find(|r| r.id == "CC4.1")
        .unwrap();
    assert_eq!(cc41.coverage, Coverage::Automated);
    assert!(cc41.controls.manual.contains(&"internal-audit".to_owned()));
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = vouch().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn show_soc2_json_lists_each_requirement_with_its_controls() {
    let (code, stdout, stderr) = run(&["frameworks", "show", "soc2", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["schema_version"], 1);
    let fw = &json["framework"];
    assert_eq!(fw["id"], "soc2");
    let reqs: Vec<&serde_json::Value> = fw["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["requirements"].as_array().unwrap())
        .collect();
    assert_eq!(reqs.len(), 61);
    let cc61 = reqs.iter().find(|r| r["id"] == "CC6.1").unwrap();
    assert_eq!(cc61["coverage"], "automated");
    assert!(
        cc61["controls"]["automated"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "sso-enforced"),
        "{cc61}"
    );
    let cc32 = reqs.iter().find(|r| r["id"] == "CC3.2").unwrap();
    assert_eq!(cc32["coverage"], "manual");
    assert!(
        cc32["controls"]["manual"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "risk-assessment")
    );
    assert_eq!(fw["counts"]["requirements"], 61, "{}", fw["counts"]);
}

#[test]
fn show_human_and_list_print_the_coverage() {
    let (code, stdout, _) = run(&["frameworks", "show", "soc3"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("uses the requirements and control mappings of `soc2`"));
    assert!(stdout.contains("CC6.1"));
    assert!(stdout.contains("sso-enforced"));

    let (code, stdout, _) = run(&["frameworks", "list"]);
    assert_eq!(code, 0);
    for id in ["soc2", "soc3", "iso27001", "hipaa", "ferpa"] {
        assert!(stdout.contains(id), "{stdout}");
    }
    let (code, stdout, _) = run(&["frameworks", "list", "--format", "json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = json["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["soc2", "soc3", "iso27001", "hipaa", "ferpa"]);
    let soc2 = &json["frameworks"][0]["counts"];
    assert_eq!(
        soc2["automated"].as_u64().unwrap()
            + soc2["manual_only"].as_u64().unwrap()
            + soc2["none"].as_u64().unwrap(),
        61
    );
}

#[test]
fn unknown_framework_exits_2_with_help() {
    let (code, stdout, stderr) = run(&["frameworks", "show", "pci-dss"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("unknown framework `pci-dss`"), "{stderr}");
    assert!(
        stderr.contains("soc2, soc3, iso27001, hipaa, ferpa"),
        "{stderr}"
    );
}

#[test]
fn custom_controls_count_towards_coverage() {
    let dir = common::tree(&[
        ("vouch.toml", "[library]\npaths = [\"compliance\"]\n"),
        (
            "compliance/controls/org/clock-sync-attested.toml",
            "id = \"clock-sync-attested\"\ntitle = \"Clocks are synchronised\"\nfamily = \"org\"\nseverity = \"low\"\neffort = 1\nautomated = false\ndescription = \"NTP everywhere.\"\nremediation = \"Attest it.\"\n\n[frameworks]\nsoc2 = [\"CC7.2\"]\niso27001 = [\"A.8.17\"]\n",
        ),
    ]);
    let (code, stdout, stderr) = run(&[
        "frameworks",
        "show",
        "iso27001",
        "--format",
        "json",
        "--path",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let a817 = json["framework"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["requirements"].as_array().unwrap())
        .find(|r| r["id"] == "A.8.17")
        .unwrap()
        .clone();
    assert_eq!(a817["coverage"], "manual");
    assert_eq!(a817["controls"]["manual"][0], "clock-sync-attested");
}
