//! `vouch gate`: evaluate the merge base and the head of a change, straight from git objects,
//! and report only what the change introduces (new findings), what it fixes, and what was
//! already there.
//!
//! Each file is parsed once per (blob id, path): files unchanged between base and head cost
//! once. When both sides use the same library, resources that did not change are not
//! re-evaluated either. Findings are matched by fingerprint (control, resource, fired policies),
//! never by line, so moving code does not make a finding new.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::assessment::{CheckResult, Provenance, Selection, Status};
use crate::check::{self, CheckOptions, CheckRun};
use crate::config::Config;
use crate::engine::{self, Evaluation};
use crate::error::{Problem, ProblemKind};
use crate::formats::{self, LoadContext, Parsed};
use crate::git::{CommitInfo, Repo};
use crate::library::{Library, LibraryFile, Origin, Severity};
use crate::source::{self, SourceFile};

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
    /// Terraform values from the command line (`--var-file`, `--var`).
    pub terraform: crate::check::TerraformInputs,
}

/// A control whose definition or policies differ between base and head.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ChangedControl {
    pub control: String,
    /// `added`, `removed` or `modified`.
    pub change: String,
}

/// The outcome of a gate run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// One side could not be evaluated: the gate never passes.
    Error,
}

/// The gate's view of a change.
#[derive(Debug, Serialize)]
pub struct GateReport {
    pub schema_version: u32,
    pub verdict: Verdict,
    pub threshold: Severity,
    pub fail_on_existing: bool,
    pub base: CommitInfo,
    /// The head commit, or `None` for the working tree.
    pub head: Option<CommitInfo>,
    /// True when the head is the working tree with uncommitted changes.
    pub uncommitted_changes: bool,
    /// Findings the change introduces.
    pub new: Vec<CheckResult>,
    /// Findings of the base that the change fixes.
    pub fixed: Vec<CheckResult>,
    /// Findings already on the base (not failing the gate unless `--all`).
    pub existing: Vec<CheckResult>,
    /// Head findings covered by a current waiver.
    pub waived: Vec<CheckResult>,
    pub changed_controls: Vec<ChangedControl>,
    pub waivers: Vec<crate::assessment::WaiverStatus>,
    pub problems: Vec<crate::assessment::ProblemRecord>,
    /// Why the verdict is what it is, one line each.
    pub reasons: Vec<String>,
}

/// Everything a renderer needs: the report plus the head run (sources, library, all results).
#[derive(Debug)]
pub struct GateRun {
    pub report: GateReport,
    pub head: CheckRun,
    pub problems: Vec<Problem>,
}

/// One side of the comparison, read from a commit or from the working tree.
struct Side {
    files: Vec<SourceFile>,
    config: Config,
    library: Library,
    problems: Vec<Problem>,
}

fn read_commit_side(repo: &Repo, commit: git2::Oid, label: &str) -> Side {
    let mut problems = Vec::new();
    let root = repo.workdir.join(&repo.prefix);
    let config = match repo.read_file(commit, crate::config::FILE_NAME) {
        Ok(Some(text)) => Config::parse(&text, &root).unwrap_or_else(|ps| {
            problems.extend(ps.into_iter().map(|p| label_problem(p, label)));
            Config::default()
        }),
        Ok(None) => Config::default(),
        Err(p) => {
            problems.push(p);
            Config::default()
        }
    };
    let excludes = source::exclude_set(&config.walk_excludes()).unwrap_or_else(|p| {
        problems.push(p);
        globset::GlobSet::empty()
    });
    let files = repo
        .tree_files(commit, &excludes, &mut problems)
        .unwrap_or_else(|p| {
            problems.push(p);
            Vec::new()
        });
    // The organisation's own library, as committed on this side.
    let mut custom = Vec::new();
    for rel in &config.library_relative {
        match repo.library_files(commit, rel) {
            Ok(fs) => custom.extend(fs.into_iter().map(|(path, text)| LibraryFile {
                path,
                text: Arc::from(text),
                origin: Origin::Custom(rel.clone()),
            })),
            Err(p) => problems.push(p),
        }
    }
    let (library, lib_problems) = Library::with_custom_files(custom);
    problems.extend(lib_problems.into_iter().map(|p| label_problem(p, label)));
    Side {
        files,
        config,
        library,
        problems,
    }
}

fn read_worktree_side(repo: &Repo) -> Side {
    let root = repo.workdir.join(&repo.prefix);
    let mut problems = Vec::new();
    let config = Config::load(&root).unwrap_or_else(|ps| {
        problems.extend(ps);
        Config::default()
    });
    let excludes = source::exclude_set(&config.walk_excludes()).unwrap_or_else(|p| {
        problems.push(p);
        globset::GlobSet::empty()
    });
    let walked = source::walk(&root, &excludes);
    problems.extend(walked.problems);
    let mut files = walked.files;
    for f in &mut files {
        f.blob_id = git2::Oid::hash_object(git2::ObjectType::Blob, f.text.as_bytes())
            .map(|o| o.to_string())
            .unwrap_or_default();
    }
    let (library, lib_problems) = Library::load(&config.library_paths);
    problems.extend(lib_problems);
    Side {
        files,
        config,
        library,
        problems,
    }
}

fn label_problem(mut p: Problem, label: &str) -> Problem {
    p.message = format!("{} (at {label})", p.message);
    p
}

/// A file's identity for the parse cache: (git blob id, path).
type BlobKey = (String, String);
type ParseResult = Result<Parsed, Vec<Problem>>;
type ParseCache = HashMap<BlobKey, ParseResult>;

/// Parses a side's files, reusing any (blob, path) already parsed.
fn parse_side(
    files: &[SourceFile],
    cache: &mut ParseCache,
    ctx: &LoadContext,
) -> Vec<(String, Result<Parsed, Vec<Problem>>)> {
    use rayon::prelude::*;
    let todo: Vec<&SourceFile> = files
        .iter()
        .filter(|f| {
            f.blob_id.is_empty() || !cache.contains_key(&(f.blob_id.clone(), f.path.clone()))
        })
        .collect();
    let fresh: Vec<(BlobKey, ParseResult)> = todo
        .par_iter()
        .map(|f| {
            (
                (f.blob_id.clone(), f.path.clone()),
                formats::parse_file(f, ctx),
            )
        })
        .collect();
    let mut out = Vec::with_capacity(files.len());
    let mut fresh_by_key: HashMap<(String, String), Result<Parsed, Vec<Problem>>> =
        fresh.into_iter().collect();
    for f in files {
        let key = (f.blob_id.clone(), f.path.clone());
        let parsed = match fresh_by_key.remove(&key) {
            Some(p) => {
                if !f.blob_id.is_empty() {
                    cache.insert(key, p.clone());
                }
                p
            }
            // Every file was parsed above or is cached; a miss is a bug that must not pass.
            None => cache.get(&key).cloned().unwrap_or_else(|| {
                Err(vec![Problem::new(
                    ProblemKind::Parse,
                    format!("`{}` was not parsed (internal error)", f.path),
                )])
            }),
        };
        out.push((f.path.clone(), parsed));
    }
    out
}

/// Controls whose definition or policy files differ between two libraries (custom ones only:
/// the built-in library is the same binary on both sides).
fn changed_controls(base: &Library, head: &Library) -> Vec<ChangedControl> {
    let texts = |lib: &Library| -> BTreeMap<String, String> {
        let mut by_control: BTreeMap<String, String> = BTreeMap::new();
        for c in lib
            .controls
            .values()
            .filter(|c| c.origin != Origin::Builtin)
        {
            let mut text = String::new();
            if let Some(f) = lib.files.iter().find(|f| f.display_path() == c.file) {
                text.push_str(&f.text);
            }
            for p in lib.policies.iter().filter(|p| {
                p.origin == c.origin && p.text.contains(&format!("@control(\"{}\")", c.id))
            }) {
                text.push_str(&p.text);
            }
            by_control.insert(c.id.clone(), text);
        }
        by_control
    };
    let (b, h) = (texts(base), texts(head));
    let mut out = Vec::new();
    for (id, text) in &h {
        match b.get(id) {
            None => out.push(ChangedControl {
                control: id.clone(),
                change: "added".to_owned(),
            }),
            Some(t) if t != text => out.push(ChangedControl {
                control: id.clone(),
                change: "modified".to_owned(),
            }),
            Some(_) => {}
        }
    }
    for id in b.keys().filter(|id| !h.contains_key(*id)) {
        out.push(ChangedControl {
            control: id.clone(),
            change: "removed".to_owned(),
        });
    }
    out.sort();
    out
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

/// Runs the gate. Problems that stop it before anything could be compared are returned as `Err`.
#[expect(clippy::too_many_lines, reason = "the gate's steps read best in order")]
pub fn run(opts: &GateOptions) -> Result<GateRun, Vec<Problem>> {
    let repo = Repo::discover(&opts.path).map_err(|p| vec![p])?;
    let head_rev = opts.head.clone().unwrap_or_else(|| "HEAD".to_owned());
    let head_id = repo.commit_id(&head_rev).map_err(|p| vec![p])?;
    let base_tip = repo.commit_id(&opts.base).map_err(|p| vec![p])?;
    let base_id = repo.merge_base(base_tip, head_id).map_err(|p| vec![p])?;
    let base_info = repo.commit_info(base_id).map_err(|p| vec![p])?;
    let uncommitted = opts.head.is_none() && repo.is_dirty().map_err(|p| vec![p])?;

    let ctx = LoadContext {
        as_of_days: opts.as_of_days,
    };
    let check_opts = CheckOptions {
        root: opts.path.clone(),
        as_of_days: opts.as_of_days,
        selection: opts.selection.clone(),
        terraform: opts.terraform.clone(),
    };
    let mut cache = ParseCache::new();

    // Read both trees (git objects are read on this thread) and parse each blob once.
    let base = read_commit_side(&repo, base_id, &format!("base {}", base_info.short_id));
    let (head_side, head_info) = if uncommitted {
        (read_worktree_side(&repo), None)
    } else {
        let info = repo.commit_info(head_id).map_err(|p| vec![p])?;
        (
            read_commit_side(&repo, head_id, &format!("head {}", info.short_id)),
            Some(info),
        )
    };
    let base_parsed = parse_side(&base.files, &mut cache, &ctx);
    let head_parsed = parse_side(&head_side.files, &mut cache, &ctx);
    // Terraform values files named in vouch.toml are read from each side's own tree.
    let (base_tf, base_tf_problems) =
        crate::check::terraform_overrides(&opts.path, &base.config, &opts.terraform, &base.files);
    let (head_tf, head_tf_problems) = crate::check::terraform_overrides(
        &opts.path,
        &head_side.config,
        &opts.terraform,
        &head_side.files,
    );

    // The two sides' sequential steps overlap: base assembly and evaluation with head assembly.
    // An unchanged library (the usual pull request) is compiled once, for both sides.
    let base_ok = base.problems.is_empty();
    let head_ok = head_side.problems.is_empty();
    let same_library = base.library.digest == head_side.library.digest;
    let ((base_loaded, base_compiled), (head_loaded, head_compiled)) = rayon::join(
        || {
            let loaded = formats::assemble_with(base_parsed, &ctx, &base_tf);
            let compiled = (base_ok || same_library).then(|| engine::compile(&base.library));
            (loaded, compiled)
        },
        || {
            let loaded = formats::assemble_with(head_parsed, &ctx, &head_tf);
            let compiled = (head_ok && !same_library).then(|| engine::compile(&head_side.library));
            (loaded, compiled)
        },
    );
    let mut base_problems = base.problems;
    let mut head_problems = head_side.problems;
    base_problems.extend(base_tf_problems);
    head_problems.extend(head_tf_problems);
    // A side is evaluated only when it was read without problems and its library compiled.
    let base_compiled = match base_compiled {
        Some(Ok(c)) => Some(c),
        Some(Err(ps)) => {
            if base_ok {
                base_problems.extend(ps.iter().cloned().map(|p| label_problem(p, "base")));
            }
            if same_library && head_ok {
                head_problems.extend(ps);
            }
            None
        }
        None => None,
    };
    let head_compiled = match head_compiled {
        Some(Ok(c)) => Some(c),
        Some(Err(ps)) => {
            head_problems.extend(ps);
            None
        }
        None => None,
    };
    let head_compiled: Option<&engine::Compiled> = if same_library {
        base_compiled.as_ref().filter(|_| head_ok)
    } else {
        head_compiled.as_ref()
    };
    let base_compiled = base_compiled.as_ref().filter(|_| base_ok);
    let base_evals = base_compiled.map(|c| c.evaluate(&base_loaded.resources));
    let base_digest = base.library.digest.clone();
    // Re-evaluate only resources that differ from the base when the library is the same.
    let head_evals = head_compiled.map(|compiled| {
        match (&base_evals, head_side.library.digest == base_digest) {
            (Some(base_evals), true) => reuse_evaluations(
                compiled,
                &base_loaded.resources,
                base_evals,
                &head_loaded.resources,
            ),
            _ => compiled.evaluate(&head_loaded.resources),
        }
    });
    let changed = changed_controls(&base.library, &head_side.library);

    let revision = head_info.as_ref().map(|h| h.id.clone());
    let head_digest = head_side.library.digest.clone();
    let base_provenance = provenance(
        &base_digest,
        &opts.path,
        Some(base_info.id.clone()),
        opts.as_of_days,
    );
    let head_provenance = provenance(&head_digest, &opts.path, revision, opts.as_of_days);
    let (base_run, head_run) = rayon::join(
        || {
            check::assess(
                base_loaded,
                &base.files,
                base.config,
                base.library,
                base_evals,
                base_problems,
                base_provenance,
                &check_opts,
                false,
            )
        },
        || {
            check::assess(
                head_loaded,
                &head_side.files,
                head_side.config,
                head_side.library,
                head_evals,
                head_problems,
                head_provenance,
                &check_opts,
                true,
            )
        },
    );

    let threshold = opts
        .fail_on
        .or(head_run.config.fail_on)
        .unwrap_or(Severity::Low);
    let failing = |r: &CheckResult| matches!(r.status, Status::Fail | Status::Error);
    let base_fps: BTreeSet<&str> = base_run
        .assessment
        .results
        .iter()
        .filter(|r| failing(r))
        .map(|r| r.fingerprint.as_str())
        .collect();
    let head_fps: BTreeSet<&str> = head_run
        .assessment
        .results
        .iter()
        .filter(|r| failing(r))
        .map(|r| r.fingerprint.as_str())
        .collect();
    let new: Vec<CheckResult> = head_run
        .assessment
        .results
        .iter()
        .filter(|r| failing(r) && !base_fps.contains(r.fingerprint.as_str()))
        .cloned()
        .collect();
    let existing: Vec<CheckResult> = head_run
        .assessment
        .results
        .iter()
        .filter(|r| failing(r) && base_fps.contains(r.fingerprint.as_str()))
        .cloned()
        .collect();
    let fixed: Vec<CheckResult> = base_run
        .assessment
        .results
        .iter()
        .filter(|r| failing(r) && !head_fps.contains(r.fingerprint.as_str()))
        .cloned()
        .collect();
    let waived: Vec<CheckResult> = head_run
        .assessment
        .results
        .iter()
        .filter(|r| r.status == Status::Waived)
        .cloned()
        .collect();

    let mut reasons = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    if base_run.assessment.run_failed() {
        reasons.push(format!(
            "the base {} could not be evaluated",
            base_info.short_id
        ));
        problems.extend(
            base_run
                .problems
                .iter()
                .cloned()
                .map(|p| label_problem(p, "base")),
        );
    }
    if head_run.assessment.run_failed() {
        reasons.push("the head could not be evaluated".to_owned());
        problems.extend(head_run.problems.iter().cloned());
    }
    let verdict = if !reasons.is_empty() {
        Verdict::Error
    } else {
        let blocking_new = new
            .iter()
            .filter(|r| r.severity >= threshold || r.status == Status::Error)
            .count();
        let blocking_old = if opts.all {
            existing.iter().filter(|r| r.severity >= threshold).count()
        } else {
            0
        };
        let expired: Vec<_> = head_run
            .assessment
            .waivers
            .iter()
            .filter(|w| w.expired && w.matched > 0)
            .collect();
        if blocking_new > 0 {
            reasons.push(format!(
                "{blocking_new} new findings at or above `{}`",
                threshold.as_str()
            ));
        }
        if blocking_old > 0 {
            reasons.push(format!(
                "{blocking_old} existing findings at or above `{}` (--all)",
                threshold.as_str()
            ));
        }
        for w in &expired {
            reasons.push(format!(
                "the waiver of `{}` on `{}` expired on {}",
                w.control, w.resource, w.expires
            ));
        }
        if blocking_new + blocking_old + expired.len() > 0 {
            Verdict::Fail
        } else {
            Verdict::Pass
        }
    };
    let problem_records = problems
        .iter()
        .map(crate::assessment::ProblemRecord::from)
        .collect();
    let report = GateReport {
        schema_version: 1,
        verdict,
        threshold,
        fail_on_existing: opts.all,
        base: base_info,
        head: head_info,
        uncommitted_changes: uncommitted,
        new,
        fixed,
        existing,
        waived,
        changed_controls: changed,
        waivers: head_run.assessment.waivers.clone(),
        problems: problem_records,
        reasons,
    };
    Ok(GateRun {
        report,
        head: head_run,
        problems,
    })
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
    let side = read_commit_side(&repo, base_id, &format!("base {}", info.short_id));
    let ctx = LoadContext { as_of_days };
    let loaded = formats::load(&side.files, &ctx);
    let mut problems = side.problems;
    problems.extend(loaded.problems);
    if problems.is_empty() {
        Ok((loaded.resources, side.library, info))
    } else {
        Err(problems)
    }
}
