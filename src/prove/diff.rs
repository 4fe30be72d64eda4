//! `vouch access diff --prove`: for every access request environment, that the head's access
//! policies allow nothing the base's deny (whatever the people, resources, grants and request
//! facts), with the loader's invariants on both sides; and that the head's access policies
//! never allow what an `[[invariant]]` describes.

use std::collections::{BTreeMap, BTreeSet};

use cedar_policy::{Policy, RequestEnv};

use super::checks::{self, Answer, Session, compile_set};
use super::invariants::{self, LoaderInvariant};
use super::policies::{self, Member, Policies};
use super::{DiffProof, Failure, Options, story};
use crate::config::Invariant as ConfigInvariant;
use crate::error::{Problem, ProblemKind};
use crate::library::Library;

/// Access policy id → its text, for one side.
fn access_texts(pols: &Policies) -> BTreeMap<String, String> {
    pols.members
        .values()
        .filter(|m| m.envs.iter().any(policies::is_access))
        .map(|m| (m.id.clone(), policies::text_of(&[&m.policy])))
        .collect()
}

/// Proves the head's access policies against the base's.
pub fn access_diff(
    base: &Library,
    head: &Library,
    user_invariants: &[ConfigInvariant],
    opts: &Options,
) -> Result<DiffProof, Vec<Problem>> {
    let (schema, _) = policies::schema(head).map_err(|p| vec![p])?;
    let base_p = Policies::of(base, &schema)?;
    let head_p = Policies::of(head, &schema)?;
    let users = invariants::user(user_invariants, &schema)?;
    let (base_texts, head_texts) = (access_texts(&base_p), access_texts(&head_p));
    let ids: BTreeSet<&String> = base_texts.keys().chain(head_texts.keys()).collect();
    let changed_policies: Vec<String> = ids
        .into_iter()
        .filter(|id| base_texts.get(*id) != head_texts.get(*id))
        .cloned()
        .collect();
    let envs: BTreeSet<RequestEnv> = base_p
        .envs()
        .into_iter()
        .chain(head_p.envs())
        .filter(policies::is_access)
        .collect();
    let unchanged = |env: &RequestEnv| {
        let b: Vec<&Policy> = base_p.in_env(env).map(|m| &m.policy).collect();
        let h: Vec<&Policy> = head_p.in_env(env).map(|m| &m.policy).collect();
        policies::text_of(&b) == policies::text_of(&h)
    };
    // Nothing to prove needs no solver (the gate asks on every policy change).
    if users.is_empty() && envs.iter().all(unchanged) {
        let solver = if opts.require_solver {
            super::solver::Solver::locate()
                .map_err(|p| vec![p])?
                .version
        } else {
            "none needed".to_owned()
        };
        return Ok(DiffProof {
            method: "proof".to_owned(),
            solver,
            environments: envs.iter().map(policies::environment).collect(),
            unchanged: envs.iter().map(policies::environment).collect(),
            changed_policies,
            loader_invariants: Vec::new(),
            user_invariants: Vec::new(),
            tally: Default::default(),
            failures: Vec::new(),
        });
    }
    let mut session = Session::start(head, opts)?;
    let mut proof = DiffProof {
        method: "proof".to_owned(),
        solver: session.solver.version.clone(),
        environments: envs.iter().map(policies::environment).collect(),
        unchanged: Vec::new(),
        changed_policies,
        loader_invariants: session.loader.all.iter().map(|i| i.id.clone()).collect(),
        user_invariants: users.iter().map(|u| u.name.clone()).collect(),
        tally: Default::default(),
        failures: Vec::new(),
    };
    for env in &envs {
        if unchanged(env) {
            proof.unchanged.push(policies::environment(env));
            continue;
        }
        let b: Vec<&Member> = base_p.in_env(env).collect();
        let h: Vec<&Member> = head_p.in_env(env).collect();
        if let Some(f) = no_new_access(&mut session, env, &b, &h).map_err(|p| vec![p])? {
            proof.failures.push(f);
        }
    }
    for inv in &users {
        proof.failures.extend(
            checks::user_invariant(&mut session, &head_p, inv, "head").map_err(|p| vec![p])?,
        );
    }
    proof.tally = session.tally.clone();
    Ok(proof)
}

/// A failure when the head's policies allow a request of `env` that the base's deny.
fn no_new_access(
    session: &mut Session,
    env: &RequestEnv,
    base: &[&Member],
    head: &[&Member],
) -> Result<Option<Failure>, Problem> {
    let label = policies::environment(env);
    let what = format!("that the head allows nothing new for {label}");
    let bp: Vec<&Policy> = base.iter().map(|m| &m.policy).collect();
    let hp: Vec<&Policy> = head.iter().map(|m| &m.policy).collect();
    let mut reads = BTreeSet::new();
    for m in base.iter().chain(head) {
        reads.extend(m.reads.iter().cloned());
    }
    let invs: Vec<LoaderInvariant> = session
        .invariants_for(env, &reads)
        .into_iter()
        .cloned()
        .collect();
    let inv_refs: Vec<&LoaderInvariant> = invs.iter().collect();
    let inv_policies: Vec<&Policy> = inv_refs.iter().map(|i| &i.policy).collect();
    let key = format!(
        "head\n{}base\n{}invariants\n{}",
        policies::text_of(&hp),
        policies::text_of(&bp),
        policies::text_of(&inv_policies)
    );
    let answer = session.query(
        &["no_new_access", &label.to_string(), &key],
        |solver, schema| {
            let h = compile_set(&hp, &inv_refs, env, schema, &what)?;
            let b = compile_set(&bp, &inv_refs, env, schema, &what)?;
            solver.exceeds(&what, &h, &b)
        },
    )?;
    let Answer::Fails(example) = answer else {
        return Ok(None);
    };
    let Some(example) = example else {
        return Err(Problem::new(
            ProblemKind::Evaluation,
            format!("the solver found new access for {label} but gave no example"),
        ));
    };
    let head_set = policies::set_of(hp.iter().copied())?;
    let base_set = policies::set_of(bp.iter().copied())?;
    reads.extend(inv_refs.iter().flat_map(|i| i.reads.iter().cloned()));
    let cex = story::tell(
        &example,
        &[("head", &head_set), ("base", &base_set)],
        &reads,
        "can now",
    );
    // The example must replay as the proof says; anything else is a bug, never a pass.
    let replayed = |side: &str| {
        cex.replay
            .iter()
            .find(|r| r.side == side)
            .map(|r| r.decision.clone())
    };
    if replayed("head").as_deref() != Some("allow") || replayed("base").as_deref() != Some("deny") {
        return Err(Problem::new(
            ProblemKind::Evaluation,
            format!(
                "the counterexample for {label} does not replay as allowed by the head and denied by the base ({:?} / {:?})",
                replayed("head"),
                replayed("base")
            ),
        )
        .with_help("this is a bug in vouch or Cedar's symbolic compiler; please report it with both sides' access policies"));
    }
    Ok(Some(Failure {
        check: "no_new_access".to_owned(),
        subject: label.action.clone(),
        file: String::new(),
        environment: Some(label.clone()),
        message: format!(
            "the head's access policies allow a `{}` request that the base's deny",
            label.action
        ),
        counterexample: Some(cex),
    }))
}
