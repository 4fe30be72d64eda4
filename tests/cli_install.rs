//! How vouch is installed: a package name of its own (the binary and library stay `vouch`), the
//! Apache-2.0 text the manifest declares, a stripped release build, a multi-stage Dockerfile
//! that hadolint accepts, a cached composite GitHub Action that the example workflow and the
//! pre-commit hooks use, and no reference left to the unrelated crate's repository.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, Yaml};
use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> Yaml<'static> {
    let text: &'static str = Box::leak(read(rel).into_boxed_str());
    let mut docs = Yaml::load_from_str(text).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(docs.len(), 1, "{rel}: one YAML document");
    docs.remove(0)
}

/// The node at a path of mapping keys (saphyr's `[]` panics on a missing key).
fn at<'a>(y: &'a Yaml<'static>, path: &[&str]) -> Option<&'a Yaml<'static>> {
    path.iter()
        .try_fold(y, |node, key| node.as_mapping_get(key))
}

/// The string at a path of mapping keys.
fn text<'a>(y: &'a Yaml<'static>, path: &[&str]) -> Option<&'a str> {
    at(y, path).and_then(Yaml::as_str)
}

fn manifest() -> toml::Table {
    read("Cargo.toml").parse().unwrap()
}

#[test]
fn the_package_has_a_free_name_and_keeps_the_vouch_binary_and_library() {
    let m = manifest();
    let package = m["package"].as_table().unwrap();
    // `vouch` on crates.io is an unrelated package code review system.
    assert_eq!(package["name"].as_str(), Some("vouch-compliance"));
    assert!(
        !package.contains_key("repository"),
        "no repository until the project has one"
    );
    assert_eq!(m["lib"]["name"].as_str(), Some("vouch"));
    let bins = m["bin"].as_array().unwrap();
    assert_eq!(bins.len(), 1);
    assert_eq!(bins[0]["name"].as_str(), Some("vouch"));
    assert_eq!(bins[0]["path"].as_str(), Some("src/main.rs"));
    // The binary the tests run is still `vouch`.
    let out = common::vouch().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("vouch "));
}

#[test]
fn the_license_is_the_apache_2_0_text_the_manifest_declares() {
    assert_eq!(
        manifest()["package"]["license"].as_str(),
        Some("Apache-2.0")
    );
    let text = read("LICENSE");
    assert!(text.contains("Apache License\n                           Version 2.0, January 2004"));
    assert!(text.contains("END OF TERMS AND CONDITIONS"));
    // The text as the ASF publishes it (LICENSE-2.0.txt), byte for byte.
    let digest: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        digest,
        "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
    );
    let include = manifest()["package"]["include"].as_array().unwrap().clone();
    assert!(include.iter().any(|v| v.as_str() == Some("LICENSE")));
}

#[test]
fn the_release_build_ships_no_debug_info() {
    let m = manifest();
    let release = m["profile"]["release"].as_table().unwrap();
    assert_eq!(release["debug"].as_bool(), Some(false), "{release:?}");
    assert_eq!(release["strip"].as_bool(), Some(true), "{release:?}");
}

#[test]
fn nothing_refers_to_the_unrelated_vouch_repository() {
    let files = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(files.status.success());
    let needle = ["github.com", "vouch-dev"].join("/");
    let mut hits = Vec::new();
    let mut scanned = 0;
    for rel in files.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = String::from_utf8_lossy(rel).into_owned();
        let Ok(text) = std::fs::read(root().join(&rel)) else {
            continue;
        };
        scanned += 1;
        if String::from_utf8_lossy(&text).contains(&needle) {
            hits.push(rel);
        }
    }
    assert!(scanned > 100, "only {scanned} files scanned");
    assert!(
        hits.is_empty(),
        "the unrelated repository is referenced in {hits:?}"
    );
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_ships_the_binary_in_another() {
    let text = read("Dockerfile");
    let stages: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert!(stages[0].contains(" AS build"), "{stages:?}");
    assert!(
        stages[1].contains("distroless"),
        "a small runtime base: {stages:?}"
    );
    assert!(text.contains("cargo build --release --locked"));
    let runtime = &text[text.find(stages[1]).unwrap()..];
    let copies: Vec<&str> = runtime.lines().filter(|l| l.starts_with("COPY")).collect();
    assert_eq!(
        copies,
        ["COPY --from=build /out/vouch /usr/local/bin/vouch"]
    );
    assert!(runtime.contains("ENTRYPOINT [\"/usr/local/bin/vouch\"]"));
    // The build context holds what the build needs, and no local state.
    let ignore = read(".dockerignore");
    for keep in [
        "!Cargo.toml",
        "!Cargo.lock",
        "!src/",
        "!controls/",
        "!policies/",
    ] {
        assert!(ignore.lines().any(|l| l == keep), "{keep} not kept");
    }
    assert_eq!(ignore.lines().find(|l| !l.starts_with('#')), Some("*"));
}

#[test]
fn hadolint_accepts_the_dockerfile() {
    if !common::consumer_available("hadolint", "the Dockerfile linted by hadolint") {
        return;
    }
    let venv = root().join(".venv/bin/hadolint");
    let bin = if venv.exists() {
        venv
    } else {
        PathBuf::from("hadolint")
    };
    let out = std::process::Command::new(&bin)
        .arg(root().join("Dockerfile"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}): run scripts/test", bin.display()));
    assert!(
        out.status.success(),
        "hadolint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_action_installs_vouch_from_a_cache_keyed_on_lock_and_version() {
    let action = yaml("action.yml");
    assert_eq!(text(&action, &["runs", "using"]), Some("composite"));
    let steps = at(&action, &["runs", "steps"])
        .and_then(Yaml::as_vec)
        .unwrap();
    let uses: Vec<&str> = steps.iter().filter_map(|s| text(s, &["uses"])).collect();
    assert_eq!(uses, ["actions/cache@v4"]);
    let cache = steps.iter().find(|s| text(s, &["uses"]).is_some()).unwrap();
    assert_eq!(
        text(cache, &["with", "key"]),
        Some("${{ steps.key.outputs.key }}")
    );
    let key_step = steps
        .iter()
        .find(|s| text(s, &["id"]) == Some("key"))
        .unwrap();
    let script = text(key_step, &["run"]).unwrap();
    for part in ["Cargo.lock", "version", "RUNNER_OS", "RUNNER_ARCH"] {
        assert!(script.contains(part), "the cache key ignores {part}");
    }
    // The build runs only on a cache miss, locked, and vouch ends up on PATH.
    let build = steps
        .iter()
        .find(|s| text(s, &["run"]).is_some_and(|r| r.contains("cargo install")))
        .unwrap();
    assert_eq!(
        text(build, &["if"]),
        Some("steps.cache.outputs.cache-hit != 'true'")
    );
    assert!(text(build, &["run"]).unwrap().contains("--locked"));
    assert!(
        steps
            .iter()
            .any(|s| text(s, &["run"]).is_some_and(|r| r.contains("GITHUB_PATH")))
    );
    // Every step of a composite action names its shell.
    for s in steps.iter().filter(|s| text(s, &["run"]).is_some()) {
        assert_eq!(text(s, &["shell"]), Some("bash"), "{s:?}");
    }
}

#[test]
fn the_example_workflow_and_the_hooks_use_the_action_and_the_dockerfile() {
    let wf = yaml("examples/ci/github-actions.yml");
    let steps = at(&wf, &["jobs", "gate", "steps"])
        .and_then(Yaml::as_vec)
        .unwrap();
    let install = steps
        .iter()
        .find(|s| text(s, &["name"]) == Some("Install vouch"))
        .unwrap();
    let uses = text(install, &["uses"]).unwrap();
    assert!(uses.ends_with("/vouch@v0.1.0"), "{uses}");
    assert!(
        at(install, &["run"]).is_none(),
        "no cargo build in the workflow"
    );
    let checkout = &steps[0];
    assert_eq!(
        at(checkout, &["with", "fetch-depth"]).and_then(Yaml::as_integer),
        Some(0)
    );

    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_vec().unwrap();
    let lang = |id: &str| {
        hooks
            .iter()
            .find(|h| text(h, &["id"]) == Some(id))
            .and_then(|h| text(h, &["language"]))
            .unwrap_or_else(|| panic!("no hook {id}"))
    };
    assert_eq!(lang("vouch-gate"), "rust");
    assert_eq!(lang("vouch-gate-docker"), "docker");
    assert_eq!(lang("vouch-check-docker"), "docker");
    assert!(
        Path::new(&root().join("Dockerfile")).is_file(),
        "docker hooks build the Dockerfile"
    );
}
