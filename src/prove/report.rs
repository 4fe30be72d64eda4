//! Proof results in words, for a terminal (JSON is the structs themselves).

use std::fmt::Write as _;

use super::{Counterexample, DiffProof, Failure, LibraryProof, Replay};

/// `ALLOW by grant-write` / `DENY by x, y; skipped with an error: …`.
fn replay_line(r: &Replay) -> String {
    let mut line = format!("{}: {}", r.side, r.decision.to_uppercase());
    if r.policies.is_empty() {
        line.push_str(if r.decision == "deny" {
            " (no policy permits it)"
        } else {
            ""
        });
    } else {
        let _ = write!(line, " by {}", r.policies.join(", "));
    }
    if !r.errors.is_empty() {
        let _ = write!(line, "; skipped, with an error: {}", r.errors.join("; "));
    }
    line
}

/// A counterexample: the story, the replays, then the request and entities.
pub fn counterexample(out: &mut String, c: &Counterexample, indent: &str) {
    let _ = writeln!(out, "{indent}counterexample: {}", c.story);
    for r in &c.replay {
        let _ = writeln!(out, "{indent}  {}", replay_line(r));
    }
    let _ = writeln!(
        out,
        "{indent}  request: principal {}, action {}, resource {}",
        c.principal, c.action, c.resource
    );
    if !c.context.is_empty() {
        let fields: Vec<String> = c.context.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(out, "{indent}  context: {{{}}}", fields.join(", "));
    }
    for e in &c.entities {
        let attrs: Vec<String> = e.attrs.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let parents = if e.parents.is_empty() {
            String::new()
        } else {
            format!(" in [{}]", e.parents.join(", "))
        };
        let _ = writeln!(
            out,
            "{indent}  entity {}{parents} {{{}}}",
            e.uid,
            attrs.join(", ")
        );
    }
}

fn failure(out: &mut String, f: &Failure) {
    let at = if f.file.is_empty() {
        String::new()
    } else {
        format!(" ({})", f.file)
    };
    let _ = writeln!(out, "✗ {}: {}{at}", f.check.replace('_', " "), f.subject);
    if let Some(env) = &f.environment {
        let _ = writeln!(out, "    for {env}");
    }
    let _ = writeln!(out, "    {}", f.message);
    if let Some(c) = &f.counterexample {
        counterexample(out, c, "    ");
    }
}

/// `vouch validate --prove`, for a terminal.
pub fn render_library(p: &LibraryProof) -> String {
    let mut out = String::new();
    for f in &p.failures {
        failure(&mut out, f);
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "proved with {} over Cedar's semantics, the schema and {} loader invariants: {} policies ({} forbids) in {} request environments",
        p.solver,
        p.loader_invariants.len(),
        p.policies,
        p.forbids,
        p.environments
    );
    let _ = writeln!(
        out,
        "  every policy never errors; every forbid can fire and does not always fire{}",
        if p.user_invariants.is_empty() {
            String::new()
        } else {
            format!("; invariants {}", p.user_invariants.join(", "))
        }
    );
    let _ = writeln!(
        out,
        "  {} proofs ({} from the cache), {} failed",
        p.tally.proved + p.tally.cached,
        p.tally.cached,
        p.failures.len()
    );
    out
}

/// The proof half of `vouch access diff --prove`, for a terminal.
pub fn render_diff(p: &DiffProof) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "policy changes, proved for every request the schema allows ({}, {} loader invariants):",
        p.solver,
        p.loader_invariants.len()
    );
    if p.changed_policies.is_empty() {
        let _ = writeln!(out, "  the access policies are the same on both sides");
    } else {
        let _ = writeln!(
            out,
            "  access policies changed: {}",
            p.changed_policies.join(", ")
        );
    }
    for env in &p.environments {
        let failed: Vec<&Failure> = p
            .failures
            .iter()
            .filter(|f| f.check == "no_new_access" && f.environment.as_ref() == Some(env))
            .collect();
        let status = if p.unchanged.contains(env) {
            "unchanged".to_owned()
        } else if failed.is_empty() {
            "proved: the head allows nothing the base denies".to_owned()
        } else {
            "NEW ACCESS".to_owned()
        };
        let _ = writeln!(out, "  {}: {status}", env.action);
        for f in failed {
            if let Some(c) = &f.counterexample {
                counterexample(&mut out, c, "    ");
            }
        }
    }
    for name in &p.user_invariants {
        let broken: Vec<&Failure> = p
            .failures
            .iter()
            .filter(|f| f.check == "invariant" && &f.subject == name)
            .collect();
        if broken.is_empty() {
            let _ = writeln!(out, "  invariant {name}: proved");
        } else {
            for f in broken {
                let _ = writeln!(out, "  invariant {name}: VIOLATED — {}", f.message);
                if let Some(env) = &f.environment {
                    let _ = writeln!(out, "    for {env}");
                }
                if let Some(c) = &f.counterexample {
                    counterexample(&mut out, c, "    ");
                }
            }
        }
    }
    out
}
