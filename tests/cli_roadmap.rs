//! `vouch roadmap` in a terminal: each readiness bar draws a segment for every status that has
//! requirements (awaiting attestation included) and none for an empty one, and SOC 2's count is
//! explained against `vouch check`'s, in both outputs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{AS_OF, vouch};

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme")
}

fn stdout_of(args: &[&str]) -> String {
    let out = vouch()
        .args(args)
        .arg(example())
        .args(["--as-of", AS_OF])
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_bar_segment_matches_its_count() {
    let text = stdout_of(&["roadmap"]);
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&["roadmap", "--format", "json"])).unwrap();
    let mut bars = 0;
    for fw in json["frameworks"].as_array().unwrap() {
        let r = &fw["readiness"];
        let line = text
            .lines()
            .find(|l| {
                l.contains(&format!(
                    "{} of {} met",
                    r["met"].as_u64().unwrap(),
                    r["requirements"].as_u64().unwrap()
                )) && l.contains(['█', '▓', '▒', '░'])
            })
            .unwrap_or_else(|| panic!("no readiness line for {}: {text}", fw["id"]));
        let count = |c: char| line.chars().filter(|x| *x == c).count();
        assert_eq!(
            count('█') + count('▓') + count('▒') + count('░'),
            24,
            "{line}"
        );
        for (glyph, status) in [
            ('█', "met"),
            ('▓', "failing"),
            ('▒', "pending"),
            ('░', "unaddressed"),
        ] {
            let n = r[status].as_u64().unwrap();
            assert_eq!(n > 0, count(glyph) > 0, "{status} = {n}, bar {line}");
        }
        bars += 1;
    }
    assert_eq!(bars, 3);
    assert!(
        json["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["readiness"]["pending"].as_u64().unwrap() > 0),
        "the example has nothing awaiting attestation: the test proves nothing"
    );
}

#[test]
fn soc2_counts_are_explained_in_check_and_roadmap() {
    let roadmap = stdout_of(&["roadmap"]);
    let json: serde_json::Value =
        serde_json::from_str(&stdout_of(&["roadmap", "--format", "json"])).unwrap();
    let in_scope = json["readiness"]["soc2"]["requirements"].as_u64().unwrap();
    assert!(
        roadmap.contains(&format!("SOC 2 counts the {in_scope} criteria of the categories in scope (security); `vouch check` also counts those of availability, processing-integrity, confidentiality, privacy")),
        "{roadmap}"
    );
    let check = stdout_of(&["check"]);
    let checked: serde_json::Value =
        serde_json::from_str(&stdout_of(&["check", "--format", "json"])).unwrap();
    let all = checked["summary"]["frameworks"]["soc2"]["requirements_checked"]
        .as_u64()
        .unwrap();
    assert!(
        all > in_scope,
        "check {all}, roadmap {in_scope}: nothing to explain"
    );
    assert!(
        check.contains("SOC 2 and SOC 3 count the criteria of every trust services category"),
        "{check}"
    );
    assert!(
        check.contains("`vouch roadmap` counts those of the categories in scope"),
        "{check}"
    );
    let note = check
        .lines()
        .filter(|l| l.contains("trust services") || l.contains("soc2_categories"));
    assert!(
        note.clone().count() >= 2 && note.into_iter().all(|l| l.chars().count() <= 100),
        "{check}"
    );
}
