//! `vouch validate --prove`: for every policy in every request environment it can apply to,
//! that it never errors; for every `forbid`, that it can fire (in some environment) and does
//! not always fire (in any); and for every `[[invariant]]`, that the access policies never
//! allow what it describes. Loader invariants that bear on a query join it.

use std::collections::BTreeSet;

use cedar_policy::{Policy, PolicySet, RequestEnv, Schema};
use cedar_policy_symcc::{CompiledPolicy, CompiledPolicySet, Env};

use super::cache::Cache;
use super::invariants::{self, LoaderInvariant, LoaderInvariants, UserInvariant};
use super::policies::{self, Member, Policies};
use super::solver::{Solver, solver_problem};
use super::{Failure, LibraryProof, Options, Tally, story};
use crate::config::Config;
use crate::error::Problem;
use crate::library::Library;

/// One proving session: the solver, the cache and what every query shares.
pub struct Session {
    pub solver: Solver,
    pub cache: Cache,
    pub schema: Schema,
    pub loader: LoaderInvariants,
    pub tally: Tally,
}

impl Session {
    /// Starts a session over `lib`'s schema with the shipped loader invariants.
    pub fn start(lib: &Library, opts: &Options) -> Result<Session, Vec<Problem>> {
        let (schema, schema_text) = policies::schema(lib).map_err(|p| vec![p])?;
        let loader = LoaderInvariants::shipped(&schema)?;
        Session::with(schema, &schema_text, loader, opts)
    }

    /// A session with the given schema and loader invariants (tests pass their own).
    pub fn with(
        schema: Schema,
        schema_text: &str,
        loader: LoaderInvariants,
        opts: &Options,
    ) -> Result<Session, Vec<Problem>> {
        let solver = Solver::locate().map_err(|p| vec![p])?;
        let cache = Cache::open(opts.no_cache, schema_text, &solver.version);
        Ok(Session {
            solver,
            cache,
            schema,
            loader,
            tally: Tally::default(),
        })
    }

    /// Runs a query whose property holds when the solver finds no example, unless the cache
    /// says it was proved.
    pub fn query(
        &mut self,
        parts: &[&str],
        ask: impl FnOnce(&mut Solver, &Schema) -> Result<Option<Env>, Problem>,
    ) -> Result<Answer, Problem> {
        let key = self.cache.key(parts);
        if self.cache.proved(&key) {
            self.tally.cached += 1;
            return Ok(Answer::Holds);
        }
        self.tally.queries += 1;
        let example = ask(&mut self.solver, &self.schema)?;
        if example.is_none() {
            self.cache.remember(&key);
            self.tally.proved += 1;
            Ok(Answer::Holds)
        } else {
            self.tally.failed += 1;
            Ok(Answer::Fails(example))
        }
    }

    /// The loader invariants that bear on `reads` in `env`.
    pub fn invariants_for(
        &self,
        env: &RequestEnv,
        reads: &BTreeSet<String>,
    ) -> Vec<&LoaderInvariant> {
        self.loader.for_env(env, reads)
    }

    /// The cache key of one property of one policy: the policy and the invariants that bear on
    /// it (the others constrain attributes it does not read, so they change no answer).
    fn member_key(&self, kind: &str, env: &RequestEnv, m: &Member) -> String {
        let invs = self.invariants_for(env, &m.reads);
        let label = policies::environment(env).to_string();
        self.cache
            .key(&[kind, &label, &key_text(&[&m.policy], &invs)])
    }

    /// The members whose `kind` proof is cached, and the others.
    pub fn split<'m>(
        &mut self,
        kind: &str,
        env: &RequestEnv,
        members: &[&'m Member],
    ) -> (Vec<&'m Member>, Vec<&'m Member>) {
        let (cached, pending): (Vec<&Member>, Vec<&Member>) = members
            .iter()
            .copied()
            .partition(|m| self.cache.proved(&self.member_key(kind, env, m)));
        self.tally.cached += cached.len();
        (cached, pending)
    }

    /// The members whose `kind` proof is not cached.
    pub fn pending<'m>(
        &mut self,
        kind: &str,
        env: &RequestEnv,
        members: &[&'m Member],
    ) -> Vec<&'m Member> {
        self.split(kind, env, members).1
    }

    /// Records `kind` as proved for `members`.
    pub fn settle(&mut self, kind: &str, env: &RequestEnv, members: &[&Member]) {
        for m in members {
            let key = self.member_key(kind, env, m);
            self.cache.remember(&key);
        }
        self.tally.proved += members.len();
    }

    /// A request that `set` (plus the invariants bearing on `members`) allows, or `None`.
    pub fn batch(
        &mut self,
        env: &RequestEnv,
        set: &[&Policy],
        members: &[&Member],
        what: &str,
    ) -> Result<Option<Env>, Problem> {
        let mut reads = BTreeSet::new();
        for m in members {
            reads.extend(m.reads.iter().cloned());
        }
        let invs: Vec<LoaderInvariant> = self
            .invariants_for(env, &reads)
            .into_iter()
            .cloned()
            .collect();
        let inv_refs: Vec<&LoaderInvariant> = invs.iter().collect();
        let compiled = compile_set(set, &inv_refs, env, &self.schema, what)?;
        self.tally.queries += 1;
        self.solver.allows(what, &compiled)
    }
}

/// A query's outcome.
#[derive(Debug)]
pub enum Answer {
    Holds,
    /// The property fails; the example refuting it, when the question has one.
    Fails(Option<Env>),
}

/// A policy that never matches, so no compiled set is ever empty.
fn nothing() -> Result<Policy, Problem> {
    Policy::parse(
        Some(cedar_policy::PolicyId::new("vouch:nothing")),
        "forbid (principal, action, resource) when { false };",
    )
    .map_err(|e| {
        Problem::new(
            crate::error::ProblemKind::Library,
            format!("internal policy does not parse: {e}"),
        )
    })
}

/// Compiles `policies` plus `invariants` (and a never-matching policy) for `env`.
pub fn compile_set(
    policies: &[&Policy],
    invariants: &[&LoaderInvariant],
    env: &RequestEnv,
    schema: &Schema,
    what: &str,
) -> Result<CompiledPolicySet, Problem> {
    let none = nothing()?;
    let set = policies::set_of(
        policies
            .iter()
            .copied()
            .chain(invariants.iter().map(|i| &i.policy))
            .chain(std::iter::once(&none)),
    )?;
    CompiledPolicySet::compile(&set, env, schema).map_err(|e| solver_problem(what, &e))
}

fn compile_one(
    policy: &Policy,
    env: &RequestEnv,
    schema: &Schema,
    what: &str,
) -> Result<CompiledPolicy, Problem> {
    CompiledPolicy::compile(policy, env, schema).map_err(|e| solver_problem(what, &e))
}

/// The text of a query's policies and invariants, for its cache key.
fn key_text(policies: &[&Policy], invariants: &[&LoaderInvariant]) -> String {
    let all: Vec<&Policy> = policies
        .iter()
        .copied()
        .chain(invariants.iter().map(|i| &i.policy))
        .collect();
    policies::text_of(&all)
}

/// Proves the library.
pub fn library(
    lib: &Library,
    config: &Config,
    opts: &Options,
) -> Result<LibraryProof, Vec<Problem>> {
    let (schema, schema_text) = policies::schema(lib).map_err(|p| vec![p])?;
    let loader = LoaderInvariants::shipped(&schema)?;
    let pols = Policies::of(lib, &schema)?;
    let users = invariants::user(&config.invariants, &schema)?;
    let envs = pols.envs();
    // One solver per worker: the queries of one environment run in order, environments in
    // parallel (each worker has its own cvc5 process and current-thread runtime).
    let workers = workers().min(envs.len()).max(1);
    let mut shares: Vec<Vec<&RequestEnv>> = vec![Vec::new(); workers];
    let mut by_cost: Vec<&RequestEnv> = envs.iter().collect();
    by_cost.sort_by_key(|e| std::cmp::Reverse(pols.in_env(e).count()));
    for (i, env) in by_cost.into_iter().enumerate() {
        if let Some(share) = shares.get_mut(i % workers) {
            share.push(env);
        }
    }
    let outcomes: Vec<Result<(EnvOutcome, Tally, String), Vec<Problem>>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .iter()
                .map(|share| {
                    let (schema, loader, pols) = (schema.clone(), loader.clone(), &pols);
                    let text = schema_text.as_str();
                    scope.spawn(move || {
                        let mut session = Session::with(schema, text, loader, opts)?;
                        let mut all = EnvOutcome::default();
                        for env in share {
                            let one = prove_env(&mut session, pols, env).map_err(|p| vec![p])?;
                            all.failures.extend(one.failures);
                            all.fired.extend(one.fired);
                        }
                        Ok((all, session.tally.clone(), session.solver.version.clone()))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(vec![Problem::new(
                            crate::error::ProblemKind::Evaluation,
                            "a proof worker stopped unexpectedly",
                        )])
                    })
                })
                .collect()
        });
    let mut failures = Vec::new();
    let mut fired: BTreeSet<String> = BTreeSet::new();
    let mut tally = Tally::default();
    let mut solver = String::new();
    let mut problems = Vec::new();
    for o in outcomes {
        match o {
            Ok((env, t, version)) => {
                failures.extend(env.failures);
                fired.extend(env.fired);
                tally.add(&t);
                solver = version;
            }
            Err(ps) => problems.extend(ps),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    for member in pols.members.values().filter(|m| m.forbid) {
        if !fired.contains(&member.id) {
            failures.push(never_fires(member));
        }
    }
    // The organisation's invariants against the library's access policies.
    let mut session = Session::with(schema.clone(), &schema_text, loader.clone(), opts)?;
    for inv in &users {
        failures.extend(user_invariant(&mut session, &pols, inv, "library").map_err(|p| vec![p])?);
    }
    tally.add(&session.tally);
    if solver.is_empty() {
        solver = session.solver.version.clone();
    }
    failures.sort_by(|a, b| {
        (&a.subject, &a.check, &a.environment).cmp(&(&b.subject, &b.check, &b.environment))
    });
    Ok(LibraryProof {
        schema_version: 1,
        solver,
        library_digest: lib.digest.clone(),
        policies: pols.members.len(),
        forbids: pols.members.values().filter(|m| m.forbid).count(),
        environments: envs.len(),
        loader_invariants: loader.all.iter().map(|i| i.id.clone()).collect(),
        user_invariants: users.iter().map(|u| u.name.clone()).collect(),
        tally,
        failures,
    })
}

/// How many solvers run at once: `VOUCH_PROVE_JOBS`, else one per core (at most 4).
fn workers() -> usize {
    std::env::var("VOUCH_PROVE_JOBS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)))
}

/// What one environment's proofs found.
#[derive(Debug, Default)]
pub struct EnvOutcome {
    pub failures: Vec<Failure>,
    /// Forbids shown to fire on some request of the environment.
    pub fired: BTreeSet<String>,
}

/// The failure of a forbid that fires in none of its environments.
fn never_fires(member: &Member) -> Failure {
    let envs: Vec<String> = member
        .envs
        .iter()
        .map(|e| policies::environment(e).to_string())
        .collect();
    Failure {
        check: "can_fire".to_owned(),
        subject: member.id.clone(),
        file: member.file.clone(),
        environment: None,
        message: format!(
            "forbid `{}` can never fire: no request in {} satisfies its conditions (with the loader's invariants), so its control can never fail",
            member.id,
            if envs.is_empty() {
                "any environment".to_owned()
            } else {
                envs.join("; ")
            }
        ),
        counterexample: None,
    }
}

/// Every property of every policy of one environment.
pub fn prove_env(
    session: &mut Session,
    pols: &Policies,
    env: &RequestEnv,
) -> Result<EnvOutcome, Problem> {
    let mut out = EnvOutcome::default();
    let members: Vec<&Member> = pols.in_env(env).collect();

    // Never errors, policy by policy (cvc5's cost grows faster than the query: one query per
    // policy is cheaper than one for many).
    for m in session.pending("never_errors", env, &members) {
        out.failures.extend(never_errors(session, pols, m, env)?);
    }

    // Can fire and does not always fire are shown by examples: every example the solver gives
    // is replayed on every forbid of the environment (with the invariants bearing on it), so
    // one query usually settles several forbids, both ways.
    let forbids: Vec<&Member> = members.iter().copied().filter(|m| m.forbid).collect();
    let mut witnesses = Witnesses::default();
    let (fired, mut can_fire_pending) = session.split("can_fire", env, &forbids);
    witnesses.fired.extend(fired.iter().map(|m| m.id.clone()));
    let (missed, mut not_always_pending) = session.split("not_always_fires", env, &forbids);
    witnesses.missed.extend(missed.iter().map(|m| m.id.clone()));
    while let Some(m) = can_fire_pending.first().copied() {
        if let Some(example) = can_fire(session, m, env)? {
            witnesses.record(session, env, &example, &forbids)?;
        }
        // Whatever the answer, `m` is settled; an example may have settled others.
        can_fire_pending.retain(|p| p.id != m.id && !witnesses.fired.contains(&p.id));
        not_always_pending.retain(|p| !witnesses.missed.contains(&p.id));
    }
    while let Some(m) = not_always_pending.first().copied() {
        match not_always(session, m, env)? {
            Ok(example) => witnesses.record(session, env, &example, &forbids)?,
            Err(failure) => out.failures.push(failure),
        }
        not_always_pending.retain(|p| p.id != m.id && !witnesses.missed.contains(&p.id));
    }
    let newly_fired: Vec<&Member> = forbids
        .iter()
        .copied()
        .filter(|m| witnesses.fired.contains(&m.id) && !fired.iter().any(|f| f.id == m.id))
        .collect();
    session.settle("can_fire", env, &newly_fired);
    let newly_missed: Vec<&Member> = forbids
        .iter()
        .copied()
        .filter(|m| witnesses.missed.contains(&m.id) && !missed.iter().any(|f| f.id == m.id))
        .collect();
    session.settle("not_always_fires", env, &newly_missed);
    out.fired = witnesses.fired;
    Ok(out)
}

/// Forbids shown (by a replayed example) to fire, and not to fire, in one environment.
#[derive(Debug, Default)]
struct Witnesses {
    fired: BTreeSet<String>,
    missed: BTreeSet<String>,
}

impl Witnesses {
    /// Replays `example` on each forbid whose invariants it satisfies: one that fires on it can
    /// fire, one that evaluates to false on it does not always fire.
    fn record(
        &mut self,
        session: &Session,
        env: &RequestEnv,
        example: &Env,
        forbids: &[&Member],
    ) -> Result<(), Problem> {
        let all = policies::permit_all("vouch:all")?;
        for m in forbids {
            if self.fired.contains(&m.id) && self.missed.contains(&m.id) {
                continue;
            }
            let invs = session.invariants_for(env, &m.reads);
            let holds =
                policies::set_of(std::iter::once(&all).chain(invs.iter().map(|i| &i.policy)))?;
            let valid = story::replay(example, "invariants", &holds);
            if valid.decision != "allow" || !valid.errors.is_empty() {
                continue;
            }
            let permit = policies::as_permit(&m.policy, "vouch:fires")?;
            let r = story::replay(example, "fires", &policies::set_of([&permit])?);
            if !r.errors.is_empty() {
                continue;
            }
            if r.decision == "allow" {
                self.fired.insert(m.id.clone());
            } else {
                self.missed.insert(m.id.clone());
            }
        }
        Ok(())
    }
}

/// Every library policy that applies to `env`, as a set (for replays).
fn library_set(pols: &Policies, env: &RequestEnv) -> Result<PolicySet, Problem> {
    policies::set_of(pols.in_env(env).map(|m| &m.policy))
}

fn never_errors(
    session: &mut Session,
    pols: &Policies,
    member: &Member,
    env: &RequestEnv,
) -> Result<Option<Failure>, Problem> {
    let label = policies::environment(env);
    let what = format!("that `{}` never errors for {label}", member.id);
    // First without invariants: most policies cannot error at all, and then none is needed.
    let compiled = compile_one(&member.policy, env, &session.schema, &what)?;
    session.tally.queries += 1;
    let Some(mut example) = session.solver.errors(&what, &compiled)? else {
        session.settle("never_errors", env, &[member]);
        return Ok(None);
    };
    // An error only on data the loader never builds is no error: ask again under invariants.
    let invs: Vec<LoaderInvariant> = session
        .invariants_for(env, &member.reads)
        .into_iter()
        .cloned()
        .collect();
    if !invs.is_empty() {
        let inv_refs: Vec<&LoaderInvariant> = invs.iter().collect();
        let scope = policies::scope_permit(&member.policy, "vouch:scope")?;
        let evaluates = policies::evaluates_permit(&member.policy, "vouch:evaluates")?;
        let a = compile_set(&[&scope], &inv_refs, env, &session.schema, &what)?;
        let b = compile_set(&[&evaluates], &inv_refs, env, &session.schema, &what)?;
        session.tally.queries += 1;
        match session.solver.exceeds(&what, &a, &b)? {
            None => {
                session.settle("never_errors", env, &[member]);
                return Ok(None);
            }
            Some(e) => example = e,
        }
    }
    session.tally.failed += 1;
    let set = library_set(pols, env)?;
    let mut reads = member.reads.clone();
    reads.extend(invs.iter().flat_map(|i| i.reads.iter().cloned()));
    let cex = story::tell(&example, &[("library", &set)], &reads, "asks to");
    Ok(Some(Failure {
        check: "never_errors".to_owned(),
        subject: member.id.clone(),
        file: member.file.clone(),
        environment: Some(label),
        message: format!(
            "policy `{}` can error, and Cedar skips a policy that errors: {}",
            member.id,
            if member.forbid {
                "its control fails open on this request"
            } else {
                "what it permits is then denied"
            }
        ),
        counterexample: Some(cex),
    }))
}

/// A request of `env` the loader can build on which the forbid fires, or `None`.
fn can_fire(
    session: &mut Session,
    member: &Member,
    env: &RequestEnv,
) -> Result<Option<Env>, Problem> {
    let label = policies::environment(env);
    let what = format!("that `{}` can fire for {label}", member.id);
    let permit = policies::as_permit(&member.policy, "vouch:fires")?;
    session.batch(env, &[&permit], &[member], &what)
}

/// A request of `env` the loader can build on which the forbid does not fire, or the failure
/// of a forbid that fires on every one.
fn not_always(
    session: &mut Session,
    member: &Member,
    env: &RequestEnv,
) -> Result<Result<Env, Failure>, Problem> {
    let label = policies::environment(env);
    let what = format!("that `{}` does not always fire for {label}", member.id);
    let all = policies::permit_all("vouch:all")?;
    if let Some(example) = session.batch(env, &[&all, &member.policy], &[member], &what)? {
        return Ok(Ok(example));
    }
    session.tally.failed += 1;
    Ok(Err(Failure {
        check: "not_always_fires".to_owned(),
        subject: member.id.clone(),
        file: member.file.clone(),
        environment: Some(label.clone()),
        message: format!(
            "forbid `{}` fires on every request for {label} (with the loader's invariants): its control fails on everything, whatever the data",
            member.id
        ),
        counterexample: None,
    }))
}

/// Proves that `pols`' access policies never allow what `inv` describes, in each of its
/// environments; `side` names the policies in replays.
pub fn user_invariant(
    session: &mut Session,
    pols: &Policies,
    inv: &UserInvariant,
    side: &str,
) -> Result<Vec<Failure>, Problem> {
    let mut out = Vec::new();
    for env in &inv.envs {
        let label = policies::environment(env);
        let what = format!("invariant `{}` for {label}", inv.name);
        let members: Vec<&Member> = pols.in_env(env).collect();
        let access: Vec<&Policy> = members.iter().map(|m| &m.policy).collect();
        let mut reads = invariants::reads(&inv.policy);
        for m in &members {
            reads.extend(m.reads.iter().cloned());
        }
        let invs: Vec<LoaderInvariant> = session
            .invariants_for(env, &reads)
            .into_iter()
            .cloned()
            .collect();
        let inv_refs: Vec<&LoaderInvariant> = invs.iter().collect();
        let mut key_policies = access.clone();
        key_policies.push(&inv.policy);
        let answer = session.query(
            &[
                "invariant",
                &label.to_string(),
                &key_text(&key_policies, &inv_refs),
            ],
            |solver, schema| {
                let a = compile_set(&access, &inv_refs, env, schema, &what)?;
                let b = compile_set(&[&inv.policy], &inv_refs, env, schema, &what)?;
                solver.overlap(&what, &a, &b)
            },
        )?;
        let Answer::Fails(example) = answer else {
            continue;
        };
        let counterexample = match example {
            Some(e) => {
                let real = policies::set_of(access.iter().copied())?;
                let own = policies::set_of([&inv.policy])?;
                Some(story::tell(
                    &e,
                    &[(side, &real), ("invariant", &own)],
                    &reads,
                    "can",
                ))
            }
            None => None,
        };
        out.push(Failure {
            check: "invariant".to_owned(),
            subject: inv.name.clone(),
            file: crate::config::FILE_NAME.to_owned(),
            environment: Some(label),
            message: format!(
                "the access policies allow what invariant `{}` forbids{}",
                inv.name,
                if inv.description.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", inv.description)
                }
            ),
            counterexample,
        });
    }
    Ok(out)
}
