//! The solver: cvc5 located (`$CVC5`, else `cvc5` on `PATH`), started lazily as one
//! subprocess, and driven through `cedar-policy-symcc` on a current-thread tokio runtime. This
//! is the only async code of the prover: every query runs to completion with `block_on`.

use std::path::{Path, PathBuf};

use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicy, CompiledPolicySet, Env};

use crate::error::{Problem, ProblemKind};

/// How long cvc5 may think about one query, in milliseconds.
const TIME_LIMIT_MS: u32 = 60_000;

/// The help shown whenever cvc5 cannot be found or started.
pub const INSTALL_HELP: &str = "install cvc5, the SMT solver behind `--prove`: `apt-get install cvc5` (Debian, Ubuntu), \
     `brew install cvc5` (macOS) or a release from https://github.com/cvc5/cvc5/releases; \
     or point the CVC5 environment variable at the executable";

/// A located solver, started at its first query.
pub struct Solver {
    path: PathBuf,
    /// `cvc5 1.0.3`.
    pub version: String,
    runtime: tokio::runtime::Runtime,
    compiler: Option<CedarSymCompiler<LocalSolver>>,
}

impl std::fmt::Debug for Solver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Solver")
            .field("path", &self.path)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Finds the cvc5 executable: `$CVC5` when set, else `cvc5` on `PATH`.
fn locate() -> Result<PathBuf, Problem> {
    if let Some(given) = std::env::var_os("CVC5").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(&given);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Problem::new(
                ProblemKind::Config,
                format!(
                    "`CVC5={}` names no file, so no proof can run",
                    path.display()
                ),
            )
            .with_help(INSTALL_HELP))
        };
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("cvc5"))
            .find(|candidate| candidate.is_file())
    });
    found.ok_or_else(|| {
        Problem::new(
            ProblemKind::Config,
            "cvc5 is not installed (no `cvc5` on PATH), so no proof can run",
        )
        .with_help(INSTALL_HELP)
    })
}

/// `cvc5 --version` → `cvc5 1.0.3`.
fn version_of(path: &Path) -> Result<String, Problem> {
    let out = std::process::Command::new(path)
        .arg("--version")
        .output()
        .map_err(|e| {
            Problem::new(
                ProblemKind::Config,
                format!(
                    "cannot run `{}`: {}",
                    path.display(),
                    crate::error::lowercase_first(&e.to_string())
                ),
            )
            .with_help(INSTALL_HELP)
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .lines()
        .next()
        .and_then(|l| l.split("version ").nth(1))
        .map(|v| v.split_whitespace().next().unwrap_or_default().to_owned())
        .filter(|v| !v.is_empty());
    match version {
        Some(v) if out.status.success() => Ok(format!("cvc5 {v}")),
        _ => Err(Problem::new(
            ProblemKind::Config,
            format!(
                "`{} --version` does not answer as cvc5 does",
                path.display()
            ),
        )
        .with_help(INSTALL_HELP)),
    }
}

/// A problem from the symbolic compiler or the solver.
pub fn solver_problem(what: &str, e: &cedar_policy_symcc::err::Error) -> Problem {
    use cedar_policy_symcc::err::Error;
    let (message, help) = match e {
        Error::SolverUnknown => (
            format!("the solver could not decide {what} (it answered `unknown`)"),
            format!(
                "it stops after {} s; simplify the policy, or report it with the policy text",
                TIME_LIMIT_MS / 1000
            ),
        ),
        Error::SolverError(s) => (
            format!(
                "the solver failed while proving {what}: {}",
                crate::error::lowercase_first(&s.to_string())
            ),
            INSTALL_HELP.to_owned(),
        ),
        other => (
            format!(
                "cannot prove {what}: {}",
                crate::error::lowercase_first(&other.to_string())
            ),
            "this is a limit of Cedar's symbolic compiler for this policy; please report it"
                .to_owned(),
        ),
    };
    Problem::new(ProblemKind::Evaluation, message).with_help(help)
}

impl Solver {
    /// Locates cvc5 and reads its version; the process starts at the first query.
    pub fn locate() -> Result<Solver, Problem> {
        let path = locate()?;
        let version = version_of(&path)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Problem::new(
                    ProblemKind::Io,
                    format!(
                        "cannot start the solver's runtime: {}",
                        crate::error::lowercase_first(&e.to_string())
                    ),
                )
            })?;
        Ok(Solver {
            path,
            version,
            runtime,
            compiler: None,
        })
    }

    /// The compiler, its cvc5 process started on first use (and again if it died).
    fn compiler(&mut self) -> Result<&mut CedarSymCompiler<LocalSolver>, Problem> {
        if self.compiler.is_none() {
            let _inside = self.runtime.enter();
            let started = LocalSolver::from_command(
                tokio::process::Command::new(&self.path)
                    .args(["--lang", "smt"])
                    .arg(format!("--tlimit={TIME_LIMIT_MS}"))
                    .kill_on_drop(true),
            )
            .map_err(cedar_policy_symcc::err::Error::from)
            .and_then(CedarSymCompiler::new)
            .map_err(|e| {
                Problem::new(
                    ProblemKind::Config,
                    format!(
                        "cannot start `{}`: {}",
                        self.path.display(),
                        crate::error::lowercase_first(&e.to_string())
                    ),
                )
                .with_help(INSTALL_HELP)
            })?;
            self.compiler = Some(started);
        }
        self.compiler.as_mut().ok_or_else(|| {
            Problem::new(ProblemKind::Config, "the solver did not start").with_help(INSTALL_HELP)
        })
    }

    /// The runtime and the started compiler, for one query.
    fn parts(
        &mut self,
    ) -> Result<(&tokio::runtime::Runtime, &mut CedarSymCompiler<LocalSolver>), Problem> {
        self.compiler()?;
        let Solver {
            runtime, compiler, ..
        } = self;
        match compiler.as_mut() {
            Some(c) => Ok((runtime, c)),
            None => Err(
                Problem::new(ProblemKind::Config, "the solver did not start")
                    .with_help(INSTALL_HELP),
            ),
        }
    }

    /// A query's answer; a failed solver is dropped so the next query starts a fresh one.
    fn settle(
        &mut self,
        what: &str,
        out: cedar_policy_symcc::err::Result<Option<Env>>,
    ) -> Result<Option<Env>, Problem> {
        if out.is_err() {
            self.compiler = None;
        }
        out.map_err(|e| solver_problem(what, &e))
    }

    /// A request on which `policy` errors, or `None` when it never errors.
    pub fn errors(&mut self, what: &str, policy: &CompiledPolicy) -> Result<Option<Env>, Problem> {
        let (rt, c) = self.parts()?;
        let out = rt.block_on(c.check_never_errors_with_counterexample_opt(policy));
        self.settle(what, out)
    }

    /// A request `set` allows, or `None` when it denies every request.
    pub fn allows(&mut self, what: &str, set: &CompiledPolicySet) -> Result<Option<Env>, Problem> {
        let (rt, c) = self.parts()?;
        let out = rt.block_on(c.check_always_denies_with_counterexample_opt(set));
        self.settle(what, out)
    }

    /// A request `wider` allows and `narrower` denies, or `None` when `wider` allows nothing
    /// `narrower` denies.
    pub fn exceeds(
        &mut self,
        what: &str,
        wider: &CompiledPolicySet,
        narrower: &CompiledPolicySet,
    ) -> Result<Option<Env>, Problem> {
        let (rt, c) = self.parts()?;
        let out = rt.block_on(c.check_implies_with_counterexample_opt(wider, narrower));
        self.settle(what, out)
    }

    /// A request both sets allow, or `None` when they are disjoint.
    pub fn overlap(
        &mut self,
        what: &str,
        a: &CompiledPolicySet,
        b: &CompiledPolicySet,
    ) -> Result<Option<Env>, Problem> {
        let (rt, c) = self.parts()?;
        let out = rt.block_on(c.check_disjoint_with_counterexample_opt(a, b));
        self.settle(what, out)
    }
}
