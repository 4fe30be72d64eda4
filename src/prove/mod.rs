//! Proofs over the policies, for every request the schema allows (`--prove`).
//!
//! Cedar's symbolic compiler (`cedar-policy-symcc`, verified in Lean) turns a question about
//! policies into an SMT query that the cvc5 solver answers for *every* request of a request
//! environment (principal type, action, resource type), entities and context included, not for
//! the requests that happen to exist. Four questions are asked:
//!
//! - `vouch validate --prove` ([`library`]): every policy never errors (Cedar skips a policy
//!   whose evaluation errors: a `forbid` control would fail open), and every `forbid` can fire
//!   and does not always fire (no vacuous, no blanket control);
//! - `vouch access diff --prove` ([`access_diff`]): the head's access policies allow nothing
//!   the base's deny;
//! - on both, every `[[invariant]]` of `vouch.toml` is disjoint from the access policies.
//!
//! Proofs are over Cedar's semantics, the schema and the invariants of the loader
//! (`policies/invariants.cedar`, added to both sides of every query), never over how vouch
//! parses files. A failed proof carries a concrete counterexample (request and entities),
//! replayed through the normal authorizer. The solver runs as a subprocess on a current-thread
//! tokio runtime confined to [`solver`]; proved results are cached by digest ([`cache`]).
//!
//! Built with the `prove` cargo feature (on by default); without it every `--prove` exits 2.

pub mod invariants;
mod report;

#[cfg(feature = "prove")]
mod cache;
#[cfg(feature = "prove")]
mod checks;
#[cfg(feature = "prove")]
mod diff;
#[cfg(feature = "prove")]
mod policies;
#[cfg(feature = "prove")]
mod solver;
#[cfg(feature = "prove")]
mod story;

use serde::Serialize;

use crate::config::Config;
use crate::error::{Problem, ProblemKind};
use crate::library::Library;

pub use report::{render_diff, render_library};

/// The request environment a result is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Environment {
    pub principal: String,
    pub action: String,
    pub resource: String,
}

impl std::fmt::Display for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "principal {}, action {}, resource {}",
            self.principal, self.action, self.resource
        )
    }
}

/// One entity of a counterexample.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CexEntity {
    pub uid: String,
    /// Attribute → value in Cedar syntax, sorted.
    pub attrs: std::collections::BTreeMap<String, String>,
    /// Ancestors, sorted.
    pub parents: Vec<String>,
}

/// What the normal authorizer does with a counterexample, on one policy set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replay {
    /// `head`, `base`, `library`, `invariant`.
    pub side: String,
    /// `allow` or `deny`.
    pub decision: String,
    /// Policies that determined the decision, sorted.
    pub policies: Vec<String>,
    /// Policies skipped because they errored, with the error, sorted.
    pub errors: Vec<String>,
}

/// A concrete request and entity store that refutes a property, replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counterexample {
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// Context field → value in Cedar syntax, sorted.
    pub context: std::collections::BTreeMap<String, String>,
    pub entities: Vec<CexEntity>,
    pub replay: Vec<Replay>,
    /// The counterexample in words (the attributes the policies involved read).
    pub story: String,
}

/// A property that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// `never_errors`, `can_fire`, `not_always_fires`, `no_new_access`, `invariant`.
    pub check: String,
    /// The policy (or invariant name) it is about.
    pub subject: String,
    /// Where it is defined (`builtin:policies/…`, `vouch.toml`).
    pub file: String,
    pub environment: Option<Environment>,
    /// One sentence.
    pub message: String,
    pub counterexample: Option<Counterexample>,
}

/// Counts of what was proved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Properties proved by this run (one per policy, environment and property).
    pub proved: usize,
    /// Properties whose proof was found in the cache.
    pub cached: usize,
    pub failed: usize,
    /// Questions put to the solver (several properties are often settled by one).
    pub queries: usize,
}

impl Tally {
    /// Adds another tally to this one.
    pub fn add(&mut self, other: &Tally) {
        self.proved += other.proved;
        self.cached += other.cached;
        self.failed += other.failed;
        self.queries += other.queries;
    }
}

/// `vouch validate --prove`: what was proved of the library.
#[derive(Debug, Clone, Serialize)]
pub struct LibraryProof {
    pub schema_version: u32,
    /// `cvc5 1.0.3`.
    pub solver: String,
    pub library_digest: String,
    pub policies: usize,
    pub forbids: usize,
    /// Request environments some policy applies to.
    pub environments: usize,
    /// Loader invariants (ids) that took part.
    pub loader_invariants: Vec<String>,
    /// `[[invariant]]` names proved.
    pub user_invariants: Vec<String>,
    pub tally: Tally,
    pub failures: Vec<Failure>,
}

impl LibraryProof {
    /// True when every property holds.
    pub fn holds(&self) -> bool {
        self.failures.is_empty()
    }
}

/// `vouch access diff --prove`: the policy half of an access diff.
#[derive(Debug, Clone, Serialize)]
pub struct DiffProof {
    /// Always `proof`: the enumerative half of the diff is `enumeration`.
    pub method: String,
    pub solver: String,
    /// Access request environments compared.
    pub environments: Vec<Environment>,
    /// Environments whose access policies are the same text on both sides (nothing to prove).
    pub unchanged: Vec<Environment>,
    /// Access policies added, removed or edited, by id.
    pub changed_policies: Vec<String>,
    pub loader_invariants: Vec<String>,
    pub user_invariants: Vec<String>,
    pub tally: Tally,
    /// Requests the head allows and the base denies (one per environment where one exists),
    /// and invariants the head's policies can violate.
    pub failures: Vec<Failure>,
}

impl DiffProof {
    /// True when the head allows nothing new and every invariant holds.
    pub fn holds(&self) -> bool {
        self.failures.is_empty()
    }
}

/// How to run the proofs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Do not read or write the proof cache.
    pub no_cache: bool,
    /// Fail without a solver even when nothing needs proving (an explicit `--prove`; the
    /// gate's hook needs one only for a proof it has to make).
    pub require_solver: bool,
}

/// The problem of a `--prove` that cannot run: never a silent pass.
pub fn not_built() -> Problem {
    Problem::new(
        ProblemKind::Config,
        "this vouch was built without proofs (the `prove` cargo feature)",
    )
    .with_help("install a release build, or build with `cargo install vouch --features prove`")
}

/// Proves the library: never errors, forbids can fire and do not always fire, user invariants.
pub fn library(
    lib: &Library,
    config: &Config,
    opts: &Options,
) -> Result<LibraryProof, Vec<Problem>> {
    #[cfg(feature = "prove")]
    {
        checks::library(lib, config, opts)
    }
    #[cfg(not(feature = "prove"))]
    {
        let _ = (lib, config, opts);
        Err(vec![not_built()])
    }
}

/// Proves that the head's access policies allow nothing the base's deny, and that the
/// invariants of both sides' `vouch.toml` hold on the head.
pub fn access_diff(
    base: &Library,
    head: &Library,
    invariants: &[crate::config::Invariant],
    opts: &Options,
) -> Result<DiffProof, Vec<Problem>> {
    #[cfg(feature = "prove")]
    {
        diff::access_diff(base, head, invariants, opts)
    }
    #[cfg(not(feature = "prove"))]
    {
        let _ = (base, head, invariants, opts);
        Err(vec![not_built()])
    }
}

/// `vouch validate --prove`: exit 0 every property proved, 1 a property fails, 2 the proof
/// could not run (no solver, a library that does not load, a solver that could not decide).
pub fn validate_cmd(path: &std::path::Path, format: crate::report::Format, opts: &Options) -> u8 {
    use crate::app::{exit, fail};
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(ps) => return fail(&ps),
    };
    let (lib, compiled, problems) = crate::check::load_library(&config);
    if compiled.is_none() || !problems.is_empty() {
        return fail(&problems);
    }
    match library(&lib, &config, opts) {
        Ok(proof) => {
            match format {
                crate::report::Format::Json => crate::report::emit_json(&proof),
                crate::report::Format::Human => crate::report::emit(&render_library(&proof)),
            }
            if proof.holds() {
                exit::CLEAN
            } else {
                exit::FINDINGS
            }
        }
        Err(ps) => fail(&ps),
    }
}

/// The `[[invariant]]`s an access diff proves: the head's `vouch.toml`'s and the base's (an
/// invariant the change deletes or edits still holds the change to account), by name; an
/// invariant whose condition differs between the sides is proved in both forms.
pub fn diff_invariants(
    path: &std::path::Path,
    base: &str,
) -> Result<Vec<crate::config::Invariant>, Vec<Problem>> {
    let one = |p: Problem| vec![p];
    let head = Config::load(path)?;
    let repo = crate::git::Repo::discover(path).map_err(one)?;
    let head_id = repo.commit_id("HEAD").map_err(one)?;
    let base_tip = repo.commit_id(base).map_err(one)?;
    let base_id = repo.merge_base(base_tip, head_id).map_err(one)?;
    let root = repo.workdir.join(&repo.prefix);
    let base_config = match repo
        .read_file(base_id, crate::config::FILE_NAME)
        .map_err(one)?
    {
        Some(text) => Config::parse(&text, &root).map_err(|ps| {
            ps.into_iter()
                .map(|mut p| {
                    p.message = format!("{} (at the base)", p.message);
                    p
                })
                .collect::<Vec<_>>()
        })?,
        None => Config::default(),
    };
    Ok(merge_invariants(head.invariants, base_config.invariants))
}

/// The head's invariants, then the base's that the head removed or changed (renamed so both
/// forms are proved).
fn merge_invariants(
    head: Vec<crate::config::Invariant>,
    base: Vec<crate::config::Invariant>,
) -> Vec<crate::config::Invariant> {
    let mut out = head;
    for inv in base {
        match out.iter().find(|i| i.name == inv.name) {
            Some(same) if same.condition == inv.condition && same.actions == inv.actions => {}
            Some(_) => out.push(crate::config::Invariant {
                name: format!("{} (as on the base)", inv.name),
                ..inv
            }),
            None => out.push(crate::config::Invariant {
                name: format!("{} (removed by the change)", inv.name),
                ..inv
            }),
        }
    }
    out
}

/// The gate's hook: when a change edits the policies (custom controls, access policies) or the
/// `[[invariant]]`s, the proof that the head gives no new access and keeps every invariant of
/// both sides; `None` when neither changed.
pub fn gate(
    base: &Library,
    head: &Library,
    base_config: &Config,
    head_config: &Config,
) -> Option<Result<DiffProof, Vec<Problem>>> {
    let texts = |l: &Library| -> Vec<(String, String)> {
        l.policies
            .iter()
            .map(|f| (f.display_path(), f.text.to_string()))
            .collect()
    };
    let conditions = |c: &Config| -> Vec<(String, String, Vec<String>)> {
        c.invariants
            .iter()
            .map(|i| (i.name.clone(), i.condition.clone(), i.actions.clone()))
            .collect()
    };
    if texts(base) == texts(head) && conditions(base_config) == conditions(head_config) {
        return None;
    }
    let invariants = merge_invariants(
        head_config.invariants.clone(),
        base_config.invariants.clone(),
    );
    Some(access_diff(base, head, &invariants, &Options::default()))
}

/// The gate's reasons from a proof: one line per new access and per broken invariant.
pub fn gate_reasons(proof: &DiffProof) -> Vec<String> {
    proof
        .failures
        .iter()
        .map(|f| match (&f.counterexample, f.check.as_str()) {
            (Some(c), "no_new_access") => format!(
                "the change gives new `{}` access (proved for every request, {}): {}",
                f.subject, proof.solver, c.story
            ),
            (Some(c), _) => format!("{}: {}", f.message, c.story),
            (None, _) => f.message.clone(),
        })
        .collect()
}
