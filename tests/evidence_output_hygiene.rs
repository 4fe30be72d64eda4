//! Crashes and output hygiene: no span panics a renderer (one-line inputs of 100 KB and more,
//! problems and findings past miette's 65,535-column limit), hostile file names are escaped
//! in human output, and out-of-range durations are refused.

mod common;

use std::sync::Arc;

use common::{AS_OF, tree, vouch};
use proptest::prelude::*;
use vouch::error::Problem;
use vouch::formats::{LoadContext, parse_file};
use vouch::report::human::{Style, render_problems};
use vouch::source::SourceFile;

/// A `terraform show -json` plan on one line with `n` unencrypted buckets.
fn one_line_plan(n: usize) -> String {
    let resources: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"address":"aws_s3_bucket.b{i}","mode":"managed","type":"aws_s3_bucket","name":"b{i}","provider_name":"registry.terraform.io/hashicorp/aws","values":{{"bucket":"bucket-{i:06}","acl":"public-read"}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"format_version":"1.2","terraform_version":"1.9.0","planned_values":{{"root_module":{{"resources":[{}]}}}}}}"#,
        resources.join(",")
    )
}

#[test]
fn a_truncated_one_line_plan_is_a_located_error_in_every_command() {
    let plan = one_line_plan(400);
    assert!(plan.len() > 70_000);
    let truncated = &plan[..plan.len() - 7];
    let dir = tree(&[("plan.json", truncated)]);
    let out_dir = tempfile::tempdir().unwrap();
    let bundle = out_dir.path().join("bundle");
    let runs: Vec<Vec<String>> = vec![
        vec!["check".into()],
        vec!["check".into(), "--format".into(), "json".into()],
        vec![
            "evidence".into(),
            "bundle".into(),
            "--out".into(),
            bundle.display().to_string(),
        ],
        vec!["roadmap".into()],
        vec!["roadmap".into(), "--format".into(), "json".into()],
        vec!["access".into(), "review".into()],
        vec![
            "access".into(),
            "review".into(),
            "--format".into(),
            "json".into(),
        ],
    ];
    for args in runs {
        let out = vouch()
            .args(&args)
            .arg(dir.path())
            .args(["--as-of", AS_OF])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains("is not valid JSON"), "{args:?}: {stderr}");
        // The location is the real one, past column 65,535.
        let col: usize = stderr
            .split("plan.json:1:")
            .nth(1)
            .and_then(|r| r.split(']').next())
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        assert!(
            col > 65_535 && col <= truncated.len() + 1,
            "{args:?}: {stderr}"
        );
        // The frame is a window of the line, not the whole 200 KB line.
        assert!(stderr.len() < 4_000, "{args:?}: {} bytes", stderr.len());
    }
    assert!(!bundle.exists(), "a failed run leaves no bundle");
}

#[test]
fn findings_past_column_65535_render_as_a_window() {
    let plan = one_line_plan(400);
    let dir = tree(&[("plan.json", &plan)]);
    let out = vouch()
        .arg("check")
        .arg(dir.path())
        .args(["--as-of", AS_OF])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stdout.contains("aws_s3_bucket.b399"), "{stdout}");
    assert!(stdout.contains("[plan.json:1:"), "{stdout}");
    // No output line carries the whole plan.
    let longest = stdout.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 1_000, "a line of {longest} bytes");
}

#[test]
fn file_names_with_newlines_and_escapes_are_escaped_in_human_output() {
    let name = "bad\nname\u{1b}[31m.tf";
    let dir = tree(&[(name, "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \n")]);
    let out = vouch()
        .arg("check")
        .arg(dir.path())
        .args(["--as-of", AS_OF])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad\\nname\\u{1b}[31m.tf"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    assert!(!stderr.contains("bad\nname"), "{stderr}");
    // JSON keeps the real name, escaped by JSON itself.
    let (code, json, _) = common::check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(json["problems"][0]["file"], name, "{json}");
}

#[test]
fn out_of_range_durations_are_refused() {
    let dir = tree(&[("inventory.toml", common::GOOD_IDP)]);
    for (flag, shown) in [
        (
            vec!["--duration", "9223372036854775807m"],
            "`--duration 9223372036854775807m` is out of range",
        ),
        (
            vec!["--context", "duration=99999999999999999999d"],
            "`duration=99999999999999999999d` is out of range",
        ),
    ] {
        let out = vouch()
            .args([
                "access",
                "check",
                "--principal",
                "ana",
                "--action",
                "read",
                "--resource",
                "db",
            ])
            .args(&flag)
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(shown), "{stderr}");
        assert!(stderr.contains("at most 87840h"), "{stderr}");
    }
}

/// One line of `len` bytes in the style of `kind`, cut at `cut` (a fraction of its length).
fn long_line(kind: &str, len: usize, salt: u8) -> (String, String) {
    let filler: String = (0..len / 8)
        .map(|i| format!("k{:06}", (i + usize::from(salt)) % 1_000_000))
        .collect::<Vec<_>>()
        .join(",");
    match kind {
        "plan" => (
            "plan.json".into(),
            format!(
                r#"{{"format_version":"1.2","planned_values":{{"root_module":{{"resources":[{{"address":"x","type":"aws_s3_bucket","values":{{"tags":"{filler}"}}}}]}}}}}}"#
            ),
        ),
        "iam" => (
            "policy.json".into(),
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{filler}","Resource":"*"}}]}}"#
            ),
        ),
        "tf" => (
            "main.tf".into(),
            format!(r#"resource "aws_s3_bucket" "b" {{ bucket = "{filler}" }}"#),
        ),
        "tfvars" => ("prod.tfvars".into(), format!(r#"x = "{filler}""#)),
        "yaml" => (
            "k8s.yaml".into(),
            format!(
                "{{apiVersion: v1, kind: ConfigMap, metadata: {{name: a}}, data: {{a: \"{filler}\"}}}}"
            ),
        ),
        "inventory" => (
            "inventory.toml".into(),
            format!(r#"tenant = [{{ id = "{filler}", tier = "enterprise" }}]"#),
        ),
        _ => ("vouch.toml".into(), format!(r#"exclude = ["{filler}"]"#)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every parser on a single line of 100 KB+ (whole, or cut anywhere, or with a byte
    /// replaced), and every problem it reports rendered: nothing panics, every frame is short.
    #[test]
    fn single_line_inputs_of_100kb_never_panic_a_parser_or_renderer(
        kind in prop::sample::select(vec!["plan", "iam", "tf", "tfvars", "yaml", "inventory", "config"]),
        extra in 0usize..20_000,
        cut in 0.0f64..1.0,
        flip in prop::option::of((0.0f64..1.0, any::<u8>())),
        salt in any::<u8>(),
    ) {
        let (path, text) = long_line(kind, 100_000 + extra, salt);
        let mut bytes = text.into_bytes();
        if let Some((at, b)) = flip {
            let i = ((bytes.len() - 1) as f64 * at) as usize;
            bytes[i] = b;
        }
        let keep = bytes.len() - ((bytes.len() / 2) as f64 * cut) as usize;
        bytes.truncate(keep);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        prop_assert!(text.len() >= 50_000);
        let problems: Vec<Problem> = if path == "vouch.toml" {
            vouch::config::Config::parse(&text, std::path::Path::new(".")).err().unwrap_or_default()
        } else {
            let file = SourceFile::new(path.clone(), text.clone());
            parse_file(&file, &LoadContext { as_of_days: 20_000, ..Default::default() }).err().unwrap_or_default()
        };
        for color in [false, true] {
            let shown = render_problems(&problems, Style { color });
            for line in shown.lines() {
                prop_assert!(line.len() < 2_000, "{} bytes", line.len());
            }
        }
        let records: Vec<vouch::assessment::ProblemRecord> =
            problems.iter().map(vouch::assessment::ProblemRecord::from).collect();
        prop_assert!(serde_json::to_string(&records).is_ok());
    }

    /// Any span into any long line renders: offsets past the end, inside a multi-byte
    /// character, spans longer than the text.
    #[test]
    fn no_span_panics_the_renderer(
        line_len in 60_000usize..140_000,
        lines in 1usize..4,
        offset in any::<usize>(),
        len in prop::sample::select(vec![0usize, 1, 7, 500, 70_000, usize::MAX / 2]),
        wide in any::<bool>(),
    ) {
        let unit = if wide { "é" } else { "a" };
        let text: String = (0..lines)
            .map(|_| unit.repeat(line_len / unit.len()))
            .collect::<Vec<_>>()
            .join("\n");
        let text: Arc<str> = text.into();
        let offset = offset % (text.len() + 10);
        let p = Problem::parse("long.txt", &text, offset, len, "a problem", "here");
        let shown = render_problems(&[p], Style { color: false });
        prop_assert!(shown.contains("a problem"));
        prop_assert!(shown.lines().all(|l| l.len() < 2_000));
    }
}
