//! The roadmap's HTML page in a real browser: headless Chromium renders the example's report
//! (a screenshot) and dumps its DOM, which must hold a readiness bar per framework and the first
//! ranked step. Chromium is installed by `scripts/test`; without it this test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{AS_OF, vouch};

fn chromium(profile: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output();
    match out {
        Ok(o) => o,
        Err(e) => panic!(
            "cannot run `chromium` ({e}): run scripts/test, which installs Debian's chromium package"
        ),
    }
}

#[test]
fn chromium_renders_the_example_report() {
    if !common::consumer_available("chromium", "roadmap HTML rendered by Chromium") {
        return;
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme");
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("roadmap.html");
    let out = vouch()
        .arg("roadmap")
        .arg(&example)
        .args(["--as-of", AS_OF, "--format", "html", "--out"])
        .arg(&html)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = vouch()
        .arg("roadmap")
        .arg(&example)
        .args(["--as-of", AS_OF, "--format", "json"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let first = j["steps"][0]["control"].as_str().unwrap().to_owned();

    let url = format!("file://{}", html.display());
    let png = dir.path().join("roadmap.png");
    let profile = dir.path().join("profile");
    let shot = chromium(
        &profile,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,2000",
            &url,
        ],
    );
    assert!(
        png.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
    assert!(bytes.len() > 20_000, "the screenshot looks empty");

    let dom = chromium(&profile, &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<main>"), "no DOM dumped: {dom}");
    for fw in ["soc2", "iso27001", "hipaa"] {
        let percent = j["readiness"][fw]["percent"].as_u64().unwrap();
        assert!(
            dom.contains(&format!(
                "id=\"readiness-{fw}\" data-framework=\"{fw}\" data-percent=\"{percent}\""
            )),
            "no readiness bar for {fw}"
        );
    }
    assert_eq!(dom.matches("class=\"bar\"").count(), 3);
    let step = format!("id=\"step-1\" data-control=\"{first}\"");
    assert!(
        dom.contains(&step),
        "the first ranked step `{first}` is not in the DOM"
    );
}
