//! The roadmap's HTML page in a real browser: headless Chromium renders the example's report
//! (a screenshot) and dumps its DOM, which must hold a readiness bar per framework and the first
//! ranked step. Chromium is installed by `scripts/test`; without it this test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{AS_OF, vouch};
use vouch::roadmap::render_remediation::{Block, blocks};

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

/// The example's roadmap written as HTML into a temporary directory (which it returns, with the
/// page's path), and the same roadmap as JSON.
fn example_roadmap() -> (tempfile::TempDir, std::path::PathBuf, serde_json::Value) {
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
    (dir, html, serde_json::from_slice(&json.stdout).unwrap())
}

#[test]
fn chromium_renders_the_example_report() {
    if !common::consumer_available("chromium", "roadmap HTML rendered by Chromium") {
        return;
    }
    let (dir, html, j) = example_roadmap();
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

/// The text of an HTML fragment as a reader sees it: tags dropped (inline code reads as its
/// text), entities decoded, whitespace collapsed.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `<tr id="step-N" …>…</tr>` of a step in the DOM.
fn step_row(dom: &str, rank: u64) -> &str {
    let start = dom
        .find(&format!("id=\"step-{rank}\""))
        .unwrap_or_else(|| panic!("no row for step {rank}"));
    let end = dom[start..].find("</tr>").unwrap() + start;
    &dom[start..end]
}

/// What a leadership reader sees, read from the DOM Chromium built: every step's remediation
/// whole (no sentence cut, no `…`), Markdown code spans as `<code>` (no raw backticks), the
/// configuration in a collapsed block for the engineers (never "vouch controls show X"), the
/// SOC 2 scope explained, and a bar segment for every non-empty status.
#[test]
fn chromium_shows_whole_remediations_code_and_scope() {
    if !common::consumer_available("chromium", "roadmap HTML content read from Chromium's DOM") {
        return;
    }
    let (dir, html, j) = example_roadmap();
    let url = format!("file://{}", html.display());
    let dom = chromium(&dir.path().join("profile"), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(dom.contains("<main>"), "no DOM dumped: {dom}");

    assert!(
        !dom.contains("vouch controls show"),
        "a terminal command on the page"
    );
    let steps = j["steps"].as_array().unwrap();
    assert!(!steps.is_empty());
    let (mut spans, mut changes) = (0, 0);
    for step in steps {
        let rank = step["rank"].as_u64().unwrap();
        let row = step_row(&dom, rank);
        let seen = text_of(row);
        assert!(!seen.contains('`'), "raw backticks in step {rank}: {seen}");
        assert!(!seen.contains('…'), "step {rank} is cut: {seen}");
        let remediation = step["remediation"].as_str().unwrap();
        let parts = blocks(remediation);
        for part in &parts {
            match part {
                Block::Prose(p) => {
                    // The whole prose is there (code spans read as their text).
                    let p = p.replace('`', "");
                    let p = p.strip_suffix(':').unwrap_or(&p);
                    let p = p.split_whitespace().collect::<Vec<_>>().join(" ");
                    assert!(
                        seen.contains(&p),
                        "step {rank}: {p:?} not whole in {seen:?}"
                    );
                    if remediation.contains('`') {
                        spans += 1;
                    }
                }
                Block::Code(c) => {
                    changes += 1;
                    let first = c.lines().find(|l| !l.trim().is_empty()).unwrap().trim();
                    let details =
                        &row[row.find("<details class=\"change\">").unwrap_or_else(|| {
                            panic!("step {rank}: its configuration is not in a <details>")
                        })..];
                    assert!(
                        !details.contains(" open"),
                        "the engineers' block is collapsed"
                    );
                    assert!(
                        text_of(details).contains(first),
                        "step {rank}: no {first:?}"
                    );
                }
            }
        }
        if parts
            .iter()
            .any(|p| matches!(p, Block::Prose(t) if t.contains('`')))
        {
            assert!(
                row.contains("<code>"),
                "step {rank}: code spans not rendered: {row}"
            );
        }
        // Every sentence shown ends as a sentence.
        for fix in row.split("<div class=\"fix\">").skip(1) {
            let t = text_of(&fix[..fix.find("</div>").unwrap()]);
            assert!(
                t.ends_with(['.', '!', '?', ')', '"']),
                "step {rank}: a remediation ends mid-sentence: {t:?}"
            );
        }
    }
    assert!(
        changes > 0,
        "the example has no step with a configuration change to show"
    );
    assert!(
        spans > 0
            || !steps
                .iter()
                .any(|s| s["remediation"].as_str().unwrap().contains('`'))
    );

    // SOC 2: why it counts fewer requirements here than `vouch check`.
    let soc2 = j["readiness"]["soc2"]["requirements"].as_u64().unwrap();
    let scope = &dom[dom.find("id=\"soc2-scope\"").expect("no SOC 2 scope note")..];
    let scope = text_of(&scope[..scope.find("</p>").unwrap()]);
    assert!(
        scope.contains(&format!("counts the {soc2} criteria")),
        "{scope}"
    );
    assert!(scope.contains("vouch check"), "{scope}");

    // A bar segment for every status with requirements, none for an empty one.
    for fw in ["soc2", "iso27001", "hipaa"] {
        let card = &dom[dom.find(&format!("id=\"readiness-{fw}\"")).unwrap()..];
        let card = &card[..card.find("</article>").unwrap()];
        for status in ["met", "failing", "pending", "unaddressed"] {
            let n = j["readiness"][fw][status].as_u64().unwrap();
            let at = card
                .find(&format!("<span class=\"{status}\" style=\"width:"))
                .unwrap();
            let width: f64 = card[at..]
                .split("width:")
                .nth(1)
                .unwrap()
                .split('%')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                n > 0,
                width > 0.0,
                "{fw} {status}: {n} requirements, width {width}%"
            );
        }
    }
}
