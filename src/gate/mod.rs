//! `vouch gate`: evaluate the merge base and the head of a change, straight from git objects,
//! and report only what the change introduces (new findings), what it fixes, and what was
//! already there.
//!
//! **Policy comes from the base.** Both sides are evaluated under one policy — `vouch.toml` and
//! the organisation's own controls as the base has them (the head's with
//! `--trust-head-config`) — so a pull request cannot waive, exclude or weaken its way past the
//! gate. What the change does to the policy is evaluated too (the head under its own policy) and
//! reported with the findings each change would hide ([`policy`]).
//!
//! Each file is parsed once per (blob id, path): files unchanged between base and head cost
//! once. Resources that did not change are not re-evaluated under the same library either.
//! Findings are matched by fingerprint (control, resource, fired policies), never by line, so
//! moving code does not make a finding new. Every path in the report is relative to the
//! repository root, also when the scanned directory is a subdirectory.

pub mod policy;
mod side;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use self::policy::{ChangedControl, HiddenFinding, PolicyChange};
use self::side::{Rev, label_problem};
use crate::assessment::{CheckResult, Provenance, Selection, Status};
use crate::check::{self, CheckOptions, CheckRun};
use crate::config::Config;
use crate::engine::{self, Evaluation};
use crate::error::{Problem, ProblemKind};
use crate::formats::{self, LoadContext};
use crate::git::{CommitInfo, Repo, Submodule};
use crate::library::{Library, Severity};

/// Version of the JSON shape of [`GateReport`] (2: policy from the base, `kept`, `path`,
/// `submodules`, `skipped`; `base` is null when the gate could not start).
pub const SCHEMA_VERSION: u32 = 2;

/// What to compare.
#[derive(Debug, Clone)]
pub struct GateOptions {
    pub path: PathBuf,
    pub base: String,
    /// `None`: the working tree if it has uncommitted changes, else `HEAD`.
    pub head: Option<String>,
    pub fail_on: Option<Severity>,
    /// Fail on findings that already existed on the base too.
    pub all: bool,
    pub as_of_days: i64,
    pub selection: Selection,
    /// Take `vouch.toml` and the custom library from the head instead of the base (for
    /// repositories that protect those files otherwise).
    pub trust_head_config: bool,
    /// Terraform values from the command line (`--var-file`, `--var`).
    pub terraform: crate::check::TerraformInputs,
}

/// The outcome of a gate run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// The gate could not run, or a side could not be evaluated: never a pass.
    Error,
}

/// Which side's policy the verdict applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicySource {
    Base,
    Head,
}

/// The policy applied, and what the change does to it.
#[derive(Debug, Serialize)]
pub struct PolicyReport {
    /// `base` unless `--trust-head-config`.
    pub source: PolicySource,
    pub trust_head_config: bool,
    /// The change's edits to `vouch.toml` and the custom library, each with the head findings
    /// it would hide. With the base's policy they are not applied until merged.
    pub changes: Vec<PolicyChange>,
}

impl PolicyReport {
    /// Changes that let a finding pass or widen what passes.
    pub fn weakening(&self) -> impl Iterator<Item = &PolicyChange> {
        self.changes.iter().filter(|c| c.weakens)
    }
}

/// The submodules whose files each side's evaluation read.
#[derive(Debug, Default, Serialize)]
pub struct Submodules {
    pub base: Vec<Submodule>,
    pub head: Vec<Submodule>,
}

/// The gate's view of a change.
#[derive(Debug, Serialize)]
pub struct GateReport {
    pub schema_version: u32,
    pub verdict: Verdict,
    pub threshold: Severity,
    pub fail_on_existing: bool,
    /// The scanned directory relative to the repository root (`""` for the root). Every file in
    /// this report is relative to the repository root.
    pub path: String,
    /// The merge base, or `None` when the gate could not get that far.
    pub base: Option<CommitInfo>,
    /// The head commit, or `None` for the working tree (or a gate that could not start).
    pub head: Option<CommitInfo>,
    /// True when the head is the working tree with uncommitted changes.
    pub uncommitted_changes: bool,
    pub policy: PolicyReport,
    /// Findings the change introduces.
    pub new: Vec<CheckResult>,
    /// Findings of the base that the change fixes (never claimed by a run that failed).
    pub fixed: Vec<CheckResult>,
    /// Findings already on the base (not failing the gate unless `--all`).
    pub existing: Vec<CheckResult>,
    /// Head findings covered by a current waiver (a waived finding is not fixed).
    pub waived: Vec<CheckResult>,
    /// Base findings the head could not re-evaluate because the head run failed (a file that
    /// does not parse, a library that does not load): kept as unchanged, never fixed.
    pub kept: Vec<CheckResult>,
    /// The organisation's own controls that the change adds, removes or modifies.
    pub changed_controls: Vec<ChangedControl>,
    /// The waivers of the applied policy and what they matched (unmatched ones: remove them).
    pub waivers: Vec<crate::assessment::WaiverStatus>,
    pub submodules: Submodules,
    /// Head files not read: too big, not UTF-8, or a symlink leaving the tree.
    pub skipped: Vec<String>,
    pub problems: Vec<crate::assessment::ProblemRecord>,
    /// Why the verdict is what it is, one line each.
    pub reasons: Vec<String>,
    /// When the change edits policies or invariants: the proof that it gives no new access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_proof: Option<crate::prove::DiffProof>,
}

impl GateReport {
    /// Fingerprints of the head findings that fail the gate: new ones at or above the threshold
    /// (and evaluation errors), existing ones at or above it with `--all`, and any whose waiver
    /// expired. The verdict and every output apply this one rule.
    pub fn blocking(&self) -> BTreeSet<&str> {
        let t = self.threshold;
        let new = self.new.iter().filter(|r| {
            r.severity >= t || r.status == Status::Error || check::has_expired_waiver(r)
        });
        let old = self
            .existing
            .iter()
            .filter(|r| self.fail_on_existing && r.severity >= t || check::has_expired_waiver(r));
        new.chain(old).map(|r| r.fingerprint.as_str()).collect()
    }

    /// Fingerprints of the findings the change introduces.
    pub fn new_fingerprints(&self) -> BTreeSet<&str> {
        self.new.iter().map(|r| r.fingerprint.as_str()).collect()
    }
}

/// Everything a renderer needs: the report plus the head run (sources, library, all results).
#[derive(Debug)]
pub struct GateRun {
    pub report: GateReport,
    /// The head evaluated under the applied policy (paths relative to the repository root).
    pub head: CheckRun,
    pub problems: Vec<Problem>,
    /// The repository's work tree root, when the gate found one (SARIF's `%SRCROOT%`).
    pub repository_root: Option<PathBuf>,
}

impl GateRun {
    /// True when the run failed: its outputs must say so and it never passes.
    pub fn failed(&self) -> bool {
        self.report.verdict == Verdict::Error
    }
}

/// One side's policy: its `vouch.toml` and custom library, and what kept them from loading.
struct Policy {
    config: Config,
    /// False when `vouch.toml` does not load (the default configuration stands in).
    config_ok: bool,
    library: Library,
    /// False when the library does not load (nothing may be evaluated with it).
    library_ok: bool,
    /// `vouch.toml`, library and compile problems.
    problems: Vec<Problem>,
}

impl Policy {
    fn read(repo: &Repo, rev: Rev, label: Option<&str>) -> Policy {
        let lbl = |p: Problem| match label {
            Some(l) => label_problem(p, l),
            None => p,
        };
        let mut problems = Vec::new();
        let (config, config_ok) = match side::read_config(repo, rev) {
            Ok(c) => (c, true),
            Err(ps) => {
                problems.extend(ps.into_iter().map(lbl));
                (Config::default(), false)
            }
        };
        let (library, lib_problems) = side::read_library(repo, rev, &config);
        let library_ok = lib_problems.is_empty();
        problems.extend(lib_problems.into_iter().map(lbl));
        Policy {
            config,
            config_ok,
            library,
            library_ok,
            problems,
        }
    }

    fn same_as(&self, other: &Policy) -> bool {
        self.config_ok
            && other.config_ok
            && self.config.document == other.config.document
            && self.library.digest == other.library.digest
    }
}

/// How files are read under a policy. Settings of the applied policy that change how inputs
/// are read (such as Terraform variable files) belong here, so that they come from the base.
fn load_context(policy: &Config, as_of_days: i64) -> LoadContext {
    LoadContext::new(as_of_days, policy)
}

fn provenance(
    library_digest: &str,
    root: &Path,
    revision: Option<String>,
    as_of_days: i64,
) -> Provenance {
    Provenance {
        tool: "vouch".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        library_digest: library_digest.to_owned(),
        root: root.display().to_string(),
        revision,
        as_of: crate::dates::format_days(as_of_days),
    }
}

/// Runs the gate. A gate that could not start (not a repository, a bad revision, no merge base)
/// still returns a run, with verdict `error` and the problems, so every output says why.
pub fn run(opts: &GateOptions) -> GateRun {
    match compare(opts) {
        Ok(run) => run,
        Err(problems) => could_not_start(opts, problems),
    }
}

/// The run of a gate that failed before it could compare anything.
pub fn could_not_start(opts: &GateOptions, mut problems: Vec<Problem>) -> GateRun {
    let repo = Repo::discover(&opts.path).ok();
    let prefix = repo.as_ref().map(|r| r.prefix.clone()).unwrap_or_default();
    let (library, _) = Library::with_custom_files(Vec::new());
    let check_opts = CheckOptions {
        root: opts.path.clone(),
        as_of_days: opts.as_of_days,
        selection: opts.selection.clone(),
        terraform: opts.terraform.clone(),
        keep_attributes: false,
    };
    let mut head = check::assess(
        formats::Loaded::default(),
        &[],
        Config::default(),
        library,
        None,
        problems.clone(),
        provenance("", &opts.path, None, opts.as_of_days),
        &check_opts,
        false,
    );
    head.assessment.results.clear();
    problems.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let report = GateReport {
        schema_version: SCHEMA_VERSION,
        verdict: Verdict::Error,
        threshold: opts.fail_on.unwrap_or(Severity::Low),
        fail_on_existing: opts.all,
        path: prefix,
        base: None,
        head: None,
        uncommitted_changes: false,
        policy: PolicyReport {
            source: if opts.trust_head_config {
                PolicySource::Head
            } else {
                PolicySource::Base
            },
            trust_head_config: opts.trust_head_config,
            changes: Vec::new(),
        },
        new: Vec::new(),
        fixed: Vec::new(),
        existing: Vec::new(),
        waived: Vec::new(),
        kept: Vec::new(),
        changed_controls: Vec::new(),
        waivers: Vec::new(),
        submodules: Submodules::default(),
        skipped: Vec::new(),
        problems: problems
            .iter()
            .map(crate::assessment::ProblemRecord::from)
            .collect(),
        reasons: problems.iter().map(|p| p.message.clone()).collect(),
        access_proof: None,
    };
    GateRun {
        report,
        head,
        problems,
        repository_root: repo.map(|r| r.workdir),
    }
}

/// The resources of one side, evaluated (or not, when the library did not compile).
struct Evaluated {
    loaded: formats::Loaded,
    evaluations: Option<Vec<Evaluation>>,
}

#[expect(clippy::too_many_lines, reason = "the gate's steps read best in order")]
fn compare(opts: &GateOptions) -> Result<GateRun, Vec<Problem>> {
    let one = |p: Problem| vec![p];
    let repo = Repo::discover(&opts.path).map_err(one)?;
    let head_id = repo
        .commit_id(opts.head.as_deref().unwrap_or("HEAD"))
        .map_err(one)?;
    let base_tip = repo.commit_id(&opts.base).map_err(one)?;
    let base_id = repo.merge_base(base_tip, head_id).map_err(one)?;
    let base_info = repo.commit_info(base_id).map_err(one)?;
    let uncommitted = opts.head.is_none() && repo.is_dirty().map_err(one)?;
    let head_info = if uncommitted {
        None
    } else {
        Some(repo.commit_info(head_id).map_err(one)?)
    };
    let base_rev = Rev::Commit(base_id);
    let head_rev = if uncommitted {
        Rev::WorkTree
    } else {
        Rev::Commit(head_id)
    };
    let base_label = format!("base {}", base_info.short_id);

    // Each side's policy; the applied one (`auth`) and the other one (`alt`).
    let mut base_policy = Policy::read(&repo, base_rev, Some(&base_label));
    if !opts.trust_head_config && !base_policy.config_ok {
        for p in &mut base_policy.problems {
            let hint = "the gate applies the base's vouch.toml: fix it on the base branch first \
                        (or, if vouch.toml is protected otherwise, run with --trust-head-config)";
            p.help = Some(
                p.help
                    .take()
                    .map_or_else(|| hint.to_owned(), |h| format!("{h}; {hint}")),
            );
        }
    }
    let head_policy = Policy::read(&repo, head_rev, None);
    let differs = !base_policy.same_as(&head_policy);
    let (mut auth, mut alt) = if opts.trust_head_config {
        (head_policy, base_policy)
    } else {
        (base_policy, head_policy)
    };
    let (base_ref, head_ref) = if opts.trust_head_config {
        (&alt, &auth)
    } else {
        (&auth, &alt)
    };
    let mut changes = if !head_ref.config_ok {
        vec![policy::invalid_config()]
    } else if differs {
        policy::changes(
            &base_ref.config,
            &head_ref.config,
            &base_ref.library,
            &head_ref.library,
        )
    } else {
        Vec::new()
    };
    let changed_controls = policy::changed_controls(&base_ref.library, &head_ref.library);
    // Policies or invariants changed: prove the head gives no new access (src/prove).
    let access_proof = crate::prove::gate(
        &base_ref.library,
        &head_ref.library,
        &base_ref.config,
        &head_ref.config,
    );

    // Read both trees under the applied policy and parse each blob once.
    let ctx = load_context(&auth.config, opts.as_of_days);
    let mut parser = side::Parser::new(ctx);
    let base_tree = side::read_tree(&repo, base_rev, &auth.config);
    let head_tree = side::read_tree(&repo, head_rev, &auth.config);
    let base_parsed = parser.parse(&base_tree.files);
    let head_parsed = parser.parse(&head_tree.files);
    // Terraform values files: the applied policy names them; each side's tree holds them.
    let (base_tf, base_tf_problems) = crate::check::terraform_overrides(
        &opts.path,
        &auth.config,
        &opts.terraform,
        &base_tree.files,
    );
    let (head_tf, head_tf_problems) = crate::check::terraform_overrides(
        &opts.path,
        &auth.config,
        &opts.terraform,
        &head_tree.files,
    );

    // Assembly of both sides overlaps the library's compilation.
    let auth_lib_ok = auth.library_ok;
    let ((base_loaded, compiled), head_loaded) = rayon::join(
        || {
            (
                formats::assemble_with(base_parsed, &parser.ctx, &base_tf),
                auth_lib_ok.then(|| engine::compile(&auth.library)),
            )
        },
        || formats::assemble_with(head_parsed, &parser.ctx, &head_tf),
    );
    let compiled = match compiled {
        Some(Ok(c)) => Some(c),
        Some(Err(ps)) => {
            let label = (!opts.trust_head_config).then_some(base_label.as_str());
            auth.problems.extend(ps.into_iter().map(|p| match label {
                Some(l) => label_problem(p, l),
                None => p,
            }));
            None
        }
        None => None,
    };
    let base_evals = compiled
        .as_ref()
        .map(|c| c.evaluate(&base_loaded.resources));
    let head_evals = compiled.as_ref().map(|c| match &base_evals {
        Some(be) => reuse_evaluations(c, &base_loaded.resources, be, &head_loaded.resources),
        None => c.evaluate(&head_loaded.resources),
    });

    // The head under the other policy, when it differs: what the change's policy would hide.
    let alt_usable = differs && alt.config_ok && alt.problems.is_empty();
    let mut alt_eval: Option<(Option<side::Tree>, Evaluated)> = None;
    if alt_usable {
        let alt_tree = if alt.config.walk_excludes() == auth.config.walk_excludes() {
            None
        } else {
            Some(side::read_tree(&repo, head_rev, &alt.config))
        };
        let files = alt_tree.as_ref().map_or(&head_tree.files, |t| &t.files);
        let (alt_tf, _) =
            crate::check::terraform_overrides(&opts.path, &alt.config, &opts.terraform, files);
        let loaded = formats::assemble_with(parser.parse(files), &parser.ctx, &alt_tf);
        let same_library = alt.library.digest == auth.library.digest;
        let alt_compiled = if same_library {
            None
        } else {
            match engine::compile(&alt.library) {
                Ok(c) => Some(c),
                Err(ps) => {
                    alt.problems.extend(ps);
                    None
                }
            }
        };
        let evaluations = match (same_library, &compiled, &alt_compiled, &head_evals) {
            (true, Some(c), _, Some(he)) => Some(reuse_evaluations(
                c,
                &head_loaded.resources,
                he,
                &loaded.resources,
            )),
            (false, _, Some(c), _) => Some(c.evaluate(&loaded.resources)),
            _ => None,
        };
        if evaluations.is_some() {
            alt_eval = Some((
                alt_tree,
                Evaluated {
                    loaded,
                    evaluations,
                },
            ));
        }
    }

    let check_opts = CheckOptions {
        root: opts.path.clone(),
        as_of_days: opts.as_of_days,
        selection: opts.selection.clone(),
        terraform: opts.terraform.clone(),
        keep_attributes: true, // the gate compares resources by their attributes
    };
    let head_revision = head_info.as_ref().map(|h| h.id.clone());
    // Problems of each run: the tree's, and the policy's where it is that side's own; the head
    // run always carries the head's policy problems (a change that breaks vouch.toml or a
    // control fails the gate).
    let mut base_problems = if opts.trust_head_config {
        Vec::new()
    } else {
        auth.problems.clone()
    };
    base_problems.extend(
        base_tree
            .problems
            .iter()
            .cloned()
            .map(|p| label_problem(p, &base_label)),
    );
    base_problems.extend(
        base_tf_problems
            .into_iter()
            .map(|p| label_problem(p, &base_label)),
    );
    let mut head_problems = auth.problems.clone();
    head_problems.extend(head_tree.problems.iter().cloned());
    head_problems.extend(head_tf_problems);
    if !opts.trust_head_config {
        head_problems.extend(alt.problems.iter().cloned());
    }
    let auth_digest = auth.library.digest.clone();
    let (base_run, mut head_run) = rayon::join(
        || {
            check::assess(
                base_loaded,
                &base_tree.files,
                auth.config.clone(),
                auth.library.clone(),
                base_evals.map(|e| vec![e]),
                base_problems,
                provenance(
                    &auth_digest,
                    &opts.path,
                    Some(base_info.id.clone()),
                    opts.as_of_days,
                ),
                &check_opts,
                false,
            )
        },
        || {
            check::assess(
                head_loaded,
                &head_tree.files,
                auth.config.clone(),
                auth.library.clone(),
                head_evals.map(|e| vec![e]),
                head_problems,
                provenance(
                    &auth_digest,
                    &opts.path,
                    head_revision.clone(),
                    opts.as_of_days,
                ),
                &check_opts,
                true,
            )
        },
    );
    let alt_run = alt_eval.map(|(tree, ev)| {
        let (files, problems) = match &tree {
            Some(t) => (&t.files, t.problems.clone()),
            None => (&head_tree.files, head_tree.problems.clone()),
        };
        check::assess(
            ev.loaded,
            files,
            alt.config.clone(),
            alt.library.clone(),
            ev.evaluations.map(|e| vec![e]),
            problems,
            provenance(
                &alt.library.digest,
                &opts.path,
                head_revision.clone(),
                opts.as_of_days,
            ),
            &check_opts,
            false,
        )
    });
    // Files the head's tree did not read are listed and counted, as `check` does.
    {
        let a = &mut head_run.assessment;
        a.unrecognised.extend(head_tree.skipped.iter().cloned());
        a.unrecognised.sort();
        a.unrecognised.dedup();
        a.summary.unrecognised_files = a.unrecognised.len();
    }

    let threshold = opts
        .fail_on
        .or(auth.config.fail_on)
        .unwrap_or(Severity::Low);
    let c = classify(&base_run, &head_run);

    // What each policy change would hide: the head under the base's policy vs the head's.
    if let Some(alt_run) = &alt_run {
        let new_fps: BTreeSet<&str> = c.new.iter().map(|r| r.fingerprint.as_str()).collect();
        let (under_base, under_head) = if opts.trust_head_config {
            (alt_run, &head_run)
        } else {
            (&head_run, alt_run)
        };
        let counts = |r: &CheckResult| opts.all || new_fps.contains(r.fingerprint.as_str());
        policy::attribute(
            &mut changes,
            under_base,
            under_head,
            &new_fps,
            &counts,
            opts.fail_on.is_some(),
        );
    }

    let mut reasons = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    if base_run.assessment.run_failed() {
        reasons.push(format!(
            "the base {} could not be evaluated",
            base_info.short_id
        ));
        problems.extend(base_run.problems.iter().cloned().map(|p| {
            if p.message.contains(&format!("(at {base_label})")) {
                p
            } else {
                label_problem(p, &base_label)
            }
        }));
    }
    if head_run.assessment.run_failed() {
        reasons.push("the head could not be evaluated".to_owned());
        problems.extend(head_run.problems.iter().cloned());
    }
    if let Some(Err(ps)) = &access_proof {
        reasons.push("the proof that the change gives no new access could not run".to_owned());
        problems.extend(ps.iter().cloned());
    }
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert((p.file.clone(), p.line, p.message.clone())));
    let failed = !reasons.is_empty();
    let t = threshold;
    let blocking_new = c
        .new
        .iter()
        .filter(|r| r.severity >= t || r.status == Status::Error)
        .count();
    let blocking_old = if opts.all {
        c.existing.iter().filter(|r| r.severity >= t).count()
    } else {
        0
    };
    if blocking_new > 0 {
        reasons.push(format!(
            "{blocking_new} new findings at or above `{}`",
            t.as_str()
        ));
    }
    if blocking_old > 0 {
        reasons.push(format!(
            "{blocking_old} existing findings at or above `{}` (--all)",
            t.as_str()
        ));
    }
    for w in head_run
        .assessment
        .waivers
        .iter()
        .filter(|w| w.expired && w.matched > 0)
    {
        reasons.push(format!(
            "the waiver of `{}` on `{}` expired on {}",
            w.control, w.resource, w.expires
        ));
    }
    let prefix = repo.prefix.clone();
    let mut report = GateReport {
        schema_version: SCHEMA_VERSION,
        verdict: if failed {
            Verdict::Error
        } else {
            Verdict::Pass
        },
        threshold,
        fail_on_existing: opts.all,
        path: prefix.clone(),
        base: Some(base_info),
        head: head_info,
        uncommitted_changes: uncommitted,
        policy: PolicyReport {
            source: if opts.trust_head_config {
                PolicySource::Head
            } else {
                PolicySource::Base
            },
            trust_head_config: opts.trust_head_config,
            changes,
        },
        new: c.new,
        fixed: c.fixed,
        existing: c.existing,
        waived: c.waived,
        kept: c.kept,
        changed_controls,
        waivers: head_run.assessment.waivers.clone(),
        submodules: Submodules {
            base: base_tree.submodules,
            head: head_tree.submodules,
        },
        skipped: head_tree.skipped,
        problems: Vec::new(),
        reasons,
        access_proof: None,
    };
    if !failed && !report.blocking().is_empty() {
        report.verdict = Verdict::Fail;
    }
    if let Some(Ok(proof)) = access_proof {
        let proved = crate::prove::gate_reasons(&proof);
        if !failed && !proved.is_empty() {
            report.verdict = Verdict::Fail;
        }
        report.reasons.extend(proved);
        report.access_proof = Some(proof);
    }
    rebase_report(&mut report, &prefix);
    rebase_run(&mut head_run, &prefix);
    for p in &mut problems {
        rebase_problem(p, &prefix);
    }
    problems.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report.problems = problems
        .iter()
        .map(crate::assessment::ProblemRecord::from)
        .collect();
    Ok(GateRun {
        report,
        head: head_run,
        problems,
        repository_root: Some(repo.workdir.clone()),
    })
}

/// The head's findings sorted against the base's.
struct Classified {
    new: Vec<CheckResult>,
    existing: Vec<CheckResult>,
    fixed: Vec<CheckResult>,
    waived: Vec<CheckResult>,
    kept: Vec<CheckResult>,
}

/// New, existing, waived, and — only when the head was evaluated in full — fixed. A finding
/// waived on either side is known there (waived is not fixed); when the head run failed, the
/// base findings it no longer shows are kept as unchanged.
fn classify(base: &CheckRun, head: &CheckRun) -> Classified {
    let failing = |r: &CheckResult| matches!(r.status, Status::Fail | Status::Error);
    let known = |r: &CheckResult| failing(r) || r.status == Status::Waived;
    let base_fps: BTreeSet<&str> = base
        .assessment
        .results
        .iter()
        .filter(|r| known(r))
        .map(|r| r.fingerprint.as_str())
        .collect();
    let head_fps: BTreeSet<&str> = head
        .assessment
        .results
        .iter()
        .filter(|r| known(r))
        .map(|r| r.fingerprint.as_str())
        .collect();
    let mut c = Classified {
        new: Vec::new(),
        existing: Vec::new(),
        fixed: Vec::new(),
        waived: Vec::new(),
        kept: Vec::new(),
    };
    for r in &head.assessment.results {
        if r.status == Status::Waived {
            c.waived.push(r.clone());
        } else if failing(r) {
            if base_fps.contains(r.fingerprint.as_str()) {
                c.existing.push(r.clone());
            } else {
                c.new.push(r.clone());
            }
        }
    }
    let gone = base
        .assessment
        .results
        .iter()
        .filter(|r| known(r) && !head_fps.contains(r.fingerprint.as_str()))
        .cloned();
    if head.assessment.run_failed() {
        c.kept.extend(gone);
    } else {
        c.fixed.extend(gone);
    }
    c
}

/// `path` (relative to the scanned directory) relative to the repository root.
fn rebase(prefix: &str, path: &str) -> String {
    if prefix.is_empty() || path.is_empty() {
        path.to_owned()
    } else {
        format!("{prefix}/{path}")
    }
}

fn rebase_results(results: &mut [CheckResult], prefix: &str) {
    for r in results {
        if let Some(res) = &mut r.resource {
            let res = std::sync::Arc::make_mut(res);
            res.file = rebase(prefix, &res.file);
        }
    }
}

fn rebase_problem(p: &mut Problem, prefix: &str) {
    if let Some(f) = &mut p.file {
        *f = rebase(prefix, f);
    }
}

fn rebase_report(r: &mut GateReport, prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    for list in [
        &mut r.new,
        &mut r.fixed,
        &mut r.existing,
        &mut r.waived,
        &mut r.kept,
    ] {
        rebase_results(list, prefix);
    }
    for c in &mut r.policy.changes {
        for h in &mut c.hides {
            if let Some(res) = &mut h.resource {
                let res = std::sync::Arc::make_mut(res);
                res.file = rebase(prefix, &res.file);
            }
        }
    }
    for s in r
        .submodules
        .base
        .iter_mut()
        .chain(r.submodules.head.iter_mut())
    {
        s.path = rebase(prefix, &s.path);
    }
    for f in &mut r.skipped {
        *f = rebase(prefix, f);
    }
}

fn rebase_run(run: &mut CheckRun, prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    rebase_results(&mut run.assessment.results, prefix);
    run.sources = std::mem::take(&mut run.sources)
        .into_iter()
        .map(|(k, v)| (rebase(prefix, &k), v))
        .collect();
    for p in &mut run.problems {
        rebase_problem(p, prefix);
    }
    for p in &mut run.assessment.problems {
        if let Some(f) = &mut p.file {
            *f = rebase(prefix, f);
        }
    }
}

/// Head evaluations, reusing the base's for resources that did not change.
fn reuse_evaluations(
    compiled: &engine::Compiled,
    base: &[crate::model::Resource],
    base_evals: &[Evaluation],
    head: &[crate::model::Resource],
) -> Vec<Evaluation> {
    let same = |a: &crate::model::Resource, b: &crate::model::Resource| {
        a.entity_type == b.entity_type
            && a.scope == b.scope
            && a.address == b.address
            && a.attrs == b.attrs
            && a.parents == b.parents
    };
    let base_index: HashMap<(&str, &str, &str), usize> = base
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                (r.entity_type.as_str(), r.scope.as_str(), r.address.as_str()),
                i,
            )
        })
        .collect();
    let mut by_base: HashMap<usize, Vec<&Evaluation>> = HashMap::new();
    for e in base_evals {
        by_base.entry(e.resource).or_default().push(e);
    }
    let mut out = Vec::new();
    let mut changed = Vec::new();
    for (i, r) in head.iter().enumerate() {
        match base_index.get(&(r.entity_type.as_str(), r.scope.as_str(), r.address.as_str())) {
            // Grants are re-evaluated as access requests that read other entities: never reused.
            Some(&b) if same(&base[b], r) && r.entity_type != crate::engine::access::GRANT_TYPE => {
                for e in by_base.get(&b).into_iter().flatten() {
                    out.push(Evaluation {
                        resource: i,
                        ..(*e).clone()
                    });
                }
            }
            _ => changed.push(i),
        }
    }
    out.extend(compiled.evaluate_indices(head, &changed));
    out.sort_unstable_by(|a, b| (a.resource, &a.control).cmp(&(b.resource, &b.control)));
    out
}

/// A problem for a gate that could not start.
pub fn setup_problem(message: String) -> Problem {
    Problem::new(ProblemKind::Git, message)
}

/// The resources and library at the merge base of `base` and HEAD (for `vouch access diff`).
pub fn resources_at_merge_base(
    path: &Path,
    base: &str,
    as_of_days: i64,
) -> Result<(Vec<crate::model::Resource>, Library, CommitInfo), Vec<Problem>> {
    let repo = Repo::discover(path).map_err(|p| vec![p])?;
    let head_id = repo.commit_id("HEAD").map_err(|p| vec![p])?;
    let base_tip = repo.commit_id(base).map_err(|p| vec![p])?;
    let base_id = repo.merge_base(base_tip, head_id).map_err(|p| vec![p])?;
    let info = repo.commit_info(base_id).map_err(|p| vec![p])?;
    let label = format!("base {}", info.short_id);
    let policy = Policy::read(&repo, Rev::Commit(base_id), Some(&label));
    let tree = side::read_tree(&repo, Rev::Commit(base_id), &policy.config);
    let ctx = load_context(&policy.config, as_of_days);
    let loaded = formats::load(&tree.files, &ctx);
    let mut problems = policy.problems;
    problems.extend(tree.problems);
    problems.extend(loaded.problems);
    if problems.is_empty() {
        Ok((loaded.resources, policy.library, info))
    } else {
        Err(problems)
    }
}
