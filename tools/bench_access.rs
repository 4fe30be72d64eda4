//! Access benchmark: generates an inventory of 10,000 users and 50,000 grants (deterministic),
//! then measures one access decision in process (p50/p99 over 100,000 requests) and writes the
//! inventory to a directory for timing `vouch access review` with hyperfine (scripts/bench).
//!
//! `cargo run --release --example bench-access -- <dir> [users] [grants] [group grants]`
//! (a group grant is re-evaluated for each of its members: 10,000 users in 50 groups)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_macros)]

use std::fmt::Write as _;
use std::time::Instant;

use vouch::access::{AccessRequest, Decider, RequestContext};

/// The allocator vouch's own binary (and so `vouch serve`) runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use vouch::engine::access::AccessStore;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(
        args.get(1)
            .map_or("/tmp/vouch-access-bench", String::as_str),
    );
    let users: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let grants: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let group_grants: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(0);
    let resources = 2_000;
    let tenants = 200;
    let mut text = String::new();
    for t in 0..tenants {
        let res = if t % 3 == 0 { "eu" } else { "us" };
        let _ = writeln!(
            text,
            "[[tenant]]\nid = \"t{t}\"\ntier = \"standard\"\nisolation = \"shared\"\nresidency = [\"{res}\"]\n"
        );
    }
    for r in 0..resources {
        let env = if r % 4 == 0 { "staging" } else { "production" };
        let _ = writeln!(
            text,
            "[[resource]]\nid = \"aws_account:a{r}\"\nenvironment = \"{env}\"\nclassification = \"customer_data\"\ntenants = [\"t{}\"]\n",
            r % tenants
        );
    }
    for g in 0..50 {
        let _ = writeln!(text, "[[group]]\nid = \"g{g}\"\n");
    }
    for u in 0..users {
        let region = if u % 3 == 0 { "eu" } else { "us" };
        let status = if u % 97 == 0 {
            "deprovisioned"
        } else {
            "active"
        };
        let _ = writeln!(
            text,
            "[[user]]\nid = \"u{u}\"\nstatus = \"{status}\"\nlast_login = 2026-11-{:02}\nmfa = {}\nregion = \"{region}\"\nsupport_rotation = [\"t{}\"]\ngroups = [\"g{}\"]\n",
            1 + u % 20,
            u % 11 != 0,
            u % tenants,
            u % 50
        );
    }
    let _ = writeln!(
        text,
        "[[role]]\nid = \"reader\"\naccess = \"read\"\nactions = [\"read\"]\n"
    );
    let _ = writeln!(
        text,
        "[[role]]\nid = \"operator\"\naccess = \"write\"\nactions = [\"deploy\"]\n"
    );
    let _ = writeln!(
        text,
        "[[role]]\nid = \"admin\"\nprivileged = true\nactions = [\"*\"]\n"
    );
    // Ten people hold approval authority on everything; grants are approved by them.
    let _ = writeln!(text, "[[role]]\nid = \"approver\"\napproves = true\n");
    for a in 0..10 {
        let _ = writeln!(
            text,
            "[[grant]]\nid = \"approver-{a}\"\nuser = \"u{}\"\nrole = \"approver\"\nresource = \"*\"\napproved_by = \"u{}\"\nticket = \"SEC-{a}\"\nsince = 2026-01-01\nuntil = 2026-12-31\nlast_used = 2026-11-20\n",
            a + 1,
            (a + 1) % 10 + 1
        );
    }
    for g in 0..grants {
        let role = ["reader", "reader", "operator", "admin"][g % 4];
        let _ = writeln!(
            text,
            "[[grant]]\nid = \"gr{g}\"\nuser = \"u{}\"\nrole = \"{role}\"\nresource = \"aws_account:a{}\"\napproved_by = \"u{}\"\nticket = \"CHG-{g}\"\nsince = 2026-11-01\nuntil = 2026-{}\nlast_used = 2026-11-20\n",
            g % users,
            (g * 7) % resources,
            g % 10 + 1,
            if g % 5 == 0 { "12-31" } else { "11-02" }
        );
    }
    for g in 0..group_grants {
        let _ = writeln!(
            text,
            "[[grant]]\nid = \"group-gr{g}\"\ngroup = \"g{}\"\nrole = \"reader\"\nresource = \"aws_account:a{}\"\napproved_by = \"u1\"\nticket = \"CHG-G{g}\"\nsince = 2026-11-01\nuntil = 2026-12-31\n",
            g % 50,
            (g * 13) % resources,
        );
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("inventory.toml"), &text).unwrap();

    let as_of = vouch::dates::parse_date("2026-11-25").unwrap();
    let t0 = Instant::now();
    let files = vec![vouch::source::SourceFile::new("inventory.toml", text)];
    let loaded = vouch::formats::load(
        &files,
        &vouch::formats::LoadContext {
            as_of_days: as_of,
            ..Default::default()
        },
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems.first());
    let load_time = t0.elapsed();
    let (library, _) = vouch::library::Library::load(&[]);
    let compiled = vouch::engine::compile(&library).unwrap();
    let t1 = Instant::now();
    let store = AccessStore::build(&compiled, &loaded.resources).unwrap();
    let store_time = t1.elapsed();
    let t2 = Instant::now();
    let evaluations = compiled.evaluate(&loaded.resources);
    let eval_time = t2.elapsed();
    println!(
        "evaluate every control on {} resources ({} results, standing grants re-evaluated): {:.0} ms",
        loaded.resources.len(),
        evaluations.len(),
        eval_time.as_secs_f64() * 1e3
    );
    for ty in ["Access::User", "Access::Grant"] {
        let idx: Vec<usize> = (0..loaded.resources.len())
            .filter(|i| loaded.resources[*i].entity_type == ty)
            .collect();
        let t = Instant::now();
        let n = compiled.evaluate_indices(&loaded.resources, &idx).len();
        println!(
            "  of which {ty}: {} resources, {n} results, {:.0} ms",
            idx.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    drop(store);
    // One decision through the public API (`vouch::access::Decider`), as an embedding
    // service or `vouch serve` makes it.
    let t3 = Instant::now();
    let decider = Decider::load(&dir, as_of).unwrap();
    println!(
        "Decider::load (read, parse, compile, store): {:.0} ms",
        t3.elapsed().as_secs_f64() * 1e3
    );
    let actions = ["read", "write", "admin"];
    let mut samples = Vec::with_capacity(100_000);
    let mut allowed = 0;
    for i in 0..100_000usize {
        let request = AccessRequest {
            principal: format!("u{}", (i * 7919) % users),
            action: actions[i % 3].to_owned(),
            resource: format!("aws_account:a{}", (i * 104_729) % resources),
            context: RequestContext {
                mfa: true,
                ticket: "CHG-1".to_owned(),
                approver: "u3".to_owned(),
            },
            duration: Some("4h".to_owned()),
        };
        let start = Instant::now();
        let answer = decider.decide(&request).unwrap();
        samples.push(start.elapsed().as_nanos());
        allowed += usize::from(answer.allowed());
    }
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0;
    println!(
        "inventory: {users} users, {grants} grants, {group_grants} group grants, {resources} resources written to {}",
        dir.display()
    );
    println!(
        "parse + derive: {:.0} ms; access store: {:.0} ms",
        load_time.as_secs_f64() * 1e3,
        store_time.as_secs_f64() * 1e3
    );
    println!(
        "one decision over 100,000 requests ({allowed} allowed): p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
}
