//! The built-in library: it loads, validates, and every control is proven both ways.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use vouch::library::Library;

fn builtin() -> Library {
    let (lib, problems) = Library::load(&[]);
    assert!(problems.is_empty(), "{problems:#?}");
    lib
}

#[test]
fn library_loads_and_validates_strictly() {
    let lib = builtin();
    assert!(
        lib.controls.len() >= 20,
        "only {} controls",
        lib.controls.len()
    );
    vouch::engine::compile(&lib).expect("the built-in library validates");
}

#[test]
fn every_control_file_is_loaded() {
    let lib = builtin();
    let files: BTreeSet<String> = lib
        .files
        .iter()
        .filter(|f| {
            let parts: Vec<&str> = f.path.split('/').collect();
            parts.len() == 3
                && parts[0] == "controls"
                && parts[1] != "frameworks"
                && parts[2].ends_with(".toml")
        })
        .map(|f| f.path.clone())
        .collect();
    let loaded: BTreeSet<String> = lib
        .controls
        .values()
        .map(|c| c.file.trim_start_matches("builtin:").to_owned())
        .collect();
    assert_eq!(files, loaded);
}

#[test]
fn every_policy_belongs_to_a_control_and_every_control_has_policies() {
    let lib = builtin();
    let compiled = vouch::engine::compile(&lib).unwrap();
    let mut with_policy = BTreeSet::new();
    for p in compiled.policies().values() {
        match &p.control {
            Some(c) => {
                assert!(
                    lib.controls.contains_key(c),
                    "policy {} names unknown control {c}",
                    p.id
                );
                with_policy.insert(c.clone());
            }
            None => assert!(
                p.id == "base"
                    || (p.id.starts_with("grant-") && p.resource_types == ["Access::Resource"]),
                "only the base permit and the access grant permits have no control, not {}",
                p.id
            ),
        }
        assert!(
            p.id == "base" || p.id.starts_with(p.control.as_deref().unwrap_or("")),
            "policy id {} should start with its control id",
            p.id
        );
    }
    for c in lib.controls.values().filter(|c| c.automated) {
        assert!(
            with_policy.contains(&c.id),
            "control {} has no policy",
            c.id
        );
    }
}

#[test]
fn every_control_maps_to_soc2_iso_and_hipaa_ids_that_exist() {
    let lib = builtin();
    for c in lib.controls.values() {
        for fw in ["soc2", "iso27001"] {
            assert!(
                c.frameworks.get(fw).is_some_and(|ids| !ids.is_empty()),
                "{} has no {fw} mapping",
                c.id
            );
        }
        for (fw, ids) in &c.frameworks {
            for id in ids {
                assert!(
                    lib.catalogs.resolve(fw, id).is_some(),
                    "{}: {fw} {id}",
                    c.id
                );
            }
        }
    }
}

#[test]
fn catalogs_are_complete() {
    let lib = builtin();
    let count = |fw: &str| {
        lib.catalogs
            .frameworks
            .get(fw)
            .map_or(0, |f| f.requirements.len())
    };
    assert_eq!(count("soc2"), 61);
    assert_eq!(count("iso27001"), 127);
    assert_eq!(count("hipaa"), 65);
    assert_eq!(count("ferpa"), 32);
    assert_eq!(
        lib.catalogs
            .frameworks
            .get("soc3")
            .and_then(|f| f.based_on.as_deref()),
        Some("soc2")
    );
}

#[test]
fn every_control_fires_on_its_violating_fixtures_and_not_on_compliant_ones() {
    let lib = builtin();
    let compiled = vouch::engine::compile(&lib).unwrap();
    let report = vouch::fixtures::run(&lib, &compiled, &[]);
    let failed: Vec<String> = report
        .cases
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}/{}: {}", c.control, c.case, c.failures.join(" | ")))
        .collect();
    assert!(
        failed.is_empty(),
        "failing fixtures:\n{}",
        failed.join("\n")
    );
    assert!(
        report.missing.is_empty(),
        "controls without both fixtures: {:?}",
        report.missing
    );
}
