//! Exports benchmark: generates an identity-provider directory (Okta Users API shape) of
//! 100,000 people and 20 application SCIM exports of 50,000 accounts each (deterministic; 1 in
//! 500 application accounts belongs to a deprovisioned person), then measures in process the
//! parse of every file and the comparison (the cross-file pass), and writes the tree for timing
//! `vouch check` with hyperfine (scripts/bench).
//!
//! `cargo run --release --example bench-exports -- <dir> [idp users] [apps] [accounts per app]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_macros)]

use std::fmt::Write as _;
use std::time::Instant;

use rayon::prelude::*;
use vouch::formats::{LoadContext, assemble, parse_file};
use vouch::source::SourceFile;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(
        args.get(1)
            .map_or("/tmp/vouch-exports-bench", String::as_str),
    );
    let people: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let apps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(20);
    let per_app: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(50_000);

    let mut files: Vec<(String, String)> = Vec::new();
    let mut inv = String::from(
        "[organization]\nname = \"bench\"\n\n[[identity_provider]]\nid = \"okta\"\nsso_enforced = true\nmfa = \"phishing_resistant\"\nscim = { enabled = true, deprovision_within_hours = 4 }\nsession_timeout_minutes = 480\n\n",
    );
    let mut cfg = String::from(
        "[exports]\nmax_export_age_days = 7\n\n[[exports.file]]\npath = \"exports/okta-users.json\"\nidentity_provider = \"okta\"\ncollected_at = 2026-11-24\n\n",
    );
    for a in 0..apps {
        let _ = writeln!(
            inv,
            "[[application]]\nid = \"app{a}\"\ncritical_data = true\nsso = true\nscim = true\n"
        );
        let _ = writeln!(
            cfg,
            "[[exports.file]]\npath = \"exports/app{a}-users.json\"\napplication = \"app{a}\"\ncollected_at = 2026-11-24\n"
        );
    }
    files.push(("inventory.toml".to_owned(), inv));
    files.push(("vouch.toml".to_owned(), cfg));

    let mut okta = String::with_capacity(people * 200);
    okta.push('[');
    for p in 0..people {
        let status = if p % 500 == 7 {
            "DEPROVISIONED"
        } else {
            "ACTIVE"
        };
        if p > 0 {
            okta.push(',');
        }
        let _ = write!(
            okta,
            "\n{{\"id\":\"00u{p:08}\",\"status\":\"{status}\",\"lastLogin\":\"2026-11-{:02}T08:00:00.000Z\",\"lastUpdated\":\"2026-11-24T06:00:00.000Z\",\"profile\":{{\"login\":\"person{p}@bench.example\",\"email\":\"person{p}@bench.example\"}}}}",
            1 + p % 24
        );
    }
    okta.push_str("\n]\n");
    files.push(("exports/okta-users.json".to_owned(), okta));
    for a in 0..apps {
        let mut s = String::with_capacity(per_app * 160);
        s.push_str(
            "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"Resources\":[",
        );
        for i in 0..per_app {
            let p = (i * 2 + a * 7) % people;
            if i > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                "\n{{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"a{a}-{i}\",\"userName\":\"person{p}@bench.example\",\"active\":true}}"
            );
        }
        s.push_str("\n]}\n");
        files.push((format!("exports/app{a}-users.json"), s));
    }
    let bytes: usize = files.iter().map(|f| f.1.len()).sum();
    for (path, text) in &files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let sources: Vec<SourceFile> = files
        .iter()
        .map(|(p, t)| SourceFile::new(p.clone(), t.as_str()))
        .collect();
    let ctx = LoadContext {
        as_of_days: vouch::dates::parse_date("2026-11-25").unwrap(),
        ..LoadContext::default()
    };
    let mut parse_ms = Vec::new();
    let mut compare_ms = Vec::new();
    let mut orphans = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let parsed: Vec<_> = sources
            .par_iter()
            .map(|f| (f.path.clone(), parse_file(f, &ctx)))
            .collect();
        parse_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let loaded = assemble(parsed, &ctx);
        compare_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(
            loaded.problems.is_empty(),
            "{:?}",
            loaded.problems.first().map(|p| &p.message)
        );
        orphans = loaded
            .resources
            .iter()
            .filter_map(|r| match r.attrs.get("orphan_accounts") {
                Some(vouch::model::Value::Set(s)) => Some(s.len()),
                _ => None,
            })
            .sum::<usize>();
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{people} identity-provider users, {apps} applications x {per_app} accounts ({:.0} MB of JSON): parse {:.0} ms, compare {:.0} ms (median of 5); {orphans} orphan accounts",
        bytes as f64 / 1e6,
        median(&mut parse_ms),
        median(&mut compare_ms)
    );
}
