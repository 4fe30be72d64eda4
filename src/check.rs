//! `vouch check`: the plain evaluation every job builds on — config, library, files, engine,
//! assessment, waivers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::assessment::{
    Assessment, Inputs, Provenance, Selection, Status, WaiverRef, WaiverStatus,
};
use crate::config::{Config, Waiver};
use crate::engine::{self, Compiled};
use crate::error::{Problem, ProblemKind};
use crate::formats::{self, LoadContext, Loaded};
use crate::library::Library;
use crate::source::{self, SourceFile};

/// What to check and how.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub root: PathBuf,
    /// Days since the epoch that ages are counted up to.
    pub as_of_days: i64,
    pub selection: Selection,
    /// Terraform variable values from the command line.
    pub terraform: TerraformInputs,
    /// Keep every resource's attributes after evaluation (`CheckRun::resources`), for a caller
    /// that reads them (the decision service, the access review). Otherwise they are released
    /// as soon as the policies have read them: the results never need them, and on a large
    /// inventory they are a third of the run's memory.
    pub keep_attributes: bool,
}

/// Terraform values given on the command line, as `terraform plan` takes them.
#[derive(Debug, Clone, Default)]
pub struct TerraformInputs {
    /// `--var-file FILE` (relative to the working directory), in order.
    pub var_files: Vec<PathBuf>,
    /// `--var NAME=VALUE`, in order.
    pub vars: Vec<(String, String)>,
}

/// The Terraform overrides of a run: `[terraform] var_files` of vouch.toml (found among the
/// tree's files) and then the command line's `--var-file`s (a file inside the tree is taken from
/// the tree, so the gate reads it from git like everything else), then `--var`s.
pub fn terraform_overrides(
    root: &Path,
    config: &Config,
    inputs: &TerraformInputs,
    files: &[SourceFile],
) -> (formats::terraform::Overrides, Vec<Problem>) {
    let mut out = formats::terraform::Overrides {
        var_files: Vec::new(),
        vars: inputs.vars.clone(),
    };
    let mut problems = Vec::new();
    let add = |file: &SourceFile,
               out: &mut formats::terraform::Overrides,
               problems: &mut Vec<Problem>| {
        match formats::terraform::parse_hcl(file) {
            Ok(f) => out.var_files.push(Arc::new(f)),
            Err(ps) => problems.extend(ps),
        }
    };
    for rel in &config.terraform_var_files {
        match files.iter().find(|f| f.path == *rel) {
            Some(f) => add(f, &mut out, &mut problems),
            None => problems.push(
                Problem::config(
                    format!("terraform var file `{rel}` named in vouch.toml is not in the tree"),
                    Some(crate::config::FILE_NAME),
                )
                .with_help("var_files are relative to the repository root"),
            ),
        }
    }
    let canonical_root = root.canonicalize().ok();
    for path in &inputs.var_files {
        let inside = path.canonicalize().ok().and_then(|abs| {
            let rel = abs.strip_prefix(canonical_root.as_ref()?).ok()?;
            Some(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            )
        });
        if let Some(f) = inside
            .as_ref()
            .and_then(|rel| files.iter().find(|f| &f.path == rel))
        {
            add(f, &mut out, &mut problems);
            continue;
        }
        let shown = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => match source::decode(&shown, &bytes, config.max_file_bytes) {
                Ok(text) => add(&SourceFile::new(shown, text), &mut out, &mut problems),
                Err(p) => problems.push(p),
            },
            Err(e) => problems.push(
                Problem::io(shown, &e).with_help("--var-file is relative to the working directory"),
            ),
        }
    }
    (out, problems)
}

/// Everything a run produced, for the renderers.
#[derive(Debug)]
pub struct CheckRun {
    pub assessment: Assessment,
    /// Source texts by relative path (for code frames).
    pub sources: BTreeMap<String, Arc<str>>,
    /// Problems with their spans (the assessment holds their plain records).
    pub problems: Vec<Problem>,
    pub config: Config,
    pub library: Library,
    /// The evaluated resources; their attributes are empty unless the options kept them
    /// (`CheckOptions::keep_attributes`).
    pub resources: Vec<crate::model::Resource>,
    /// Attestations' evidence files (path from the root → bytes), for evidence bundles.
    pub evidence_files: BTreeMap<String, Arc<[u8]>>,
}

/// Loads the library (built-in plus custom) and compiles it.
pub fn load_library(config: &Config) -> (Library, Option<Compiled>, Vec<Problem>) {
    let (library, mut problems) = Library::load(&config.library_paths);
    if !problems.is_empty() {
        return (library, None, problems);
    }
    match engine::compile(&library) {
        Ok(c) => (library, Some(c), problems),
        Err(mut ps) => {
            problems.append(&mut ps);
            (library, None, problems)
        }
    }
}

/// A directory tree read for evaluation: its config, its files and its compiled library.
pub struct Tree {
    pub config: Config,
    pub files: Vec<SourceFile>,
    pub library: Library,
    /// `None` when the library does not load or validate.
    pub compiled: Option<Compiled>,
    /// Every problem met so far (config, walk, library); the run fails when any is present.
    pub problems: Vec<Problem>,
    /// Files not read: too big, not UTF-8, or a symlink leaving the tree (counted, never silent).
    pub skipped: Vec<String>,
    /// Git submodules under the root, scanned as checked out.
    pub submodules: Vec<crate::git::Submodule>,
}

/// Reads `vouch.toml`, walks the tree and loads the library (every job starts here).
pub fn read_tree(root: &Path) -> Tree {
    read_tree_and(root, |_, _| ()).0
}

/// Reads a tree and runs `then` on its files while the library compiles on the other core.
fn read_tree_and<T: Send>(
    root: &Path,
    then: impl FnOnce(&Config, &[SourceFile]) -> T + Send,
) -> (Tree, T) {
    let mut problems = Vec::new();
    let config = match Config::load(root) {
        Ok(c) => c,
        Err(mut ps) => {
            problems.append(&mut ps);
            Config::default()
        }
    };
    let excludes = match source::exclude_set(&config.walk_excludes()) {
        Ok(s) => s,
        Err(p) => {
            problems.push(p);
            globset::GlobSet::empty()
        }
    };
    let ((walked, after), (library, compiled, mut lib_problems)) = rayon::join(
        || {
            let walked = source::walk_limited(root, &excludes, config.max_file_bytes);
            // IAM policy documents and account exports (JSON) are analysed against the action
            // catalog while they are parsed: it is read as soon as the parse starts, not by the
            // first policy analysed while the other threads wait for it. (Terraform's policies
            // are analysed after evaluation, which reads it then: `terraform::evaluate`.)
            let iam_possible = walked.files.iter().any(|f| f.path.ends_with(".json"));
            let (after, ()) = rayon::join(
                || then(&config, &walked.files),
                || {
                    if iam_possible {
                        crate::iam::catalog::catalog();
                    }
                },
            );
            (walked, after)
        },
        || load_library(&config),
    );
    problems.extend(walked.problems);
    problems.append(&mut lib_problems);
    // Submodules are scanned like any directory; one not checked out would be a silent gap.
    let (submodules, mut sub_problems) = crate::git::submodules_under(root, &excludes);
    problems.append(&mut sub_problems);
    let tree = Tree {
        config,
        files: walked.files,
        library,
        compiled,
        problems,
        skipped: walked.skipped,
        submodules,
    };
    (tree, after)
}

/// Runs a check on a directory tree (Helm charts rendered with their default values).
pub fn run(opts: &CheckOptions) -> CheckRun {
    run_with(opts, &formats::kubernetes::HelmOptions::default())
}

/// Runs a check on a directory tree, rendering Helm charts as `helm` says.
pub fn run_with(opts: &CheckOptions, helm: &formats::kubernetes::HelmOptions) -> CheckRun {
    let (
        Tree {
            config,
            files,
            library,
            compiled,
            mut problems,
            skipped,
            submodules,
        },
        (mut loaded, tf_problems),
    ) = read_tree_and(&opts.root, |config, files| {
        let (overrides, problems) = terraform_overrides(&opts.root, config, &opts.terraform, files);
        let ctx = LoadContext::new(opts.as_of_days, config);
        (formats::load_with(files, &ctx, &overrides), problems)
    });
    problems.extend(tf_problems);
    formats::render_charts(&mut loaded, &opts.root, helm);
    let (evidence_problems, evidence_files) =
        crate::basis::resolve_evidence(&opts.root, &mut loaded.attestations);
    problems.extend(evidence_problems);
    let provenance = Provenance {
        tool: "vouch".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        library_digest: library.digest.clone(),
        root: opts.root.display().to_string(),
        revision: None,
        as_of: crate::dates::format_days(opts.as_of_days),
    };
    let mut run = evaluate_loaded(
        loaded,
        &files,
        config,
        library,
        compiled.as_ref(),
        problems,
        provenance,
        opts,
    );
    run.evidence_files = evidence_files;
    // Files the walk did not read are listed and counted with the unrecognised ones.
    let a = &mut run.assessment;
    a.submodules = submodules;
    a.unrecognised.extend(skipped);
    a.unrecognised.sort();
    a.summary.unrecognised_files = a.unrecognised.len();
    run
}

/// Evaluates already-read files (a directory walk or a git tree).
pub fn evaluate_files(
    files: &[SourceFile],
    config: Config,
    library: Library,
    compiled: Option<&Compiled>,
    problems: Vec<Problem>,
    provenance: Provenance,
    opts: &CheckOptions,
) -> CheckRun {
    let ctx = LoadContext::new(opts.as_of_days, &config);
    let (overrides, tf_problems) = terraform_overrides(&opts.root, &config, &opts.terraform, files);
    let mut problems = problems;
    problems.extend(tf_problems);
    let loaded = formats::load_with(files, &ctx, &overrides);
    evaluate_loaded(
        loaded, files, config, library, compiled, problems, provenance, opts,
    )
}

/// Evaluates already-parsed files.
#[expect(
    clippy::too_many_arguments,
    reason = "the gate and check share this one assembly step"
)]
pub fn evaluate_loaded(
    loaded: Loaded,
    files: &[SourceFile],
    config: Config,
    library: Library,
    compiled: Option<&Compiled>,
    problems: Vec<Problem>,
    provenance: Provenance,
    opts: &CheckOptions,
) -> CheckRun {
    let mut loaded = loaded;
    // The results are built from the evaluations' parts, never merged.
    let parts = match compiled {
        Some(c) if opts.keep_attributes => {
            let all: Vec<usize> = (0..loaded.resources.len()).collect();
            Some(c.evaluate_unordered(&loaded.resources, &all))
        }
        Some(c) => Some(c.evaluate_releasing(&mut loaded.resources)),
        None => {
            if !opts.keep_attributes {
                crate::model::release_attributes(&mut loaded.resources);
            }
            None
        }
    };
    assess(
        loaded, files, config, library, parts, problems, provenance, opts, true,
    )
}

/// An attestation must name a manual control of the library. One naming an unknown control (a
/// typo) would leave the control it meant failing with no word why; one naming an automated
/// control would read as evidence for what only the policies decide.
fn attestation_problems(
    attestations: &[crate::formats::inventory::Attestation],
    library: &Library,
    files: &[SourceFile],
) -> Vec<Problem> {
    let mut manual: Vec<&str> = library
        .controls
        .values()
        .filter(|c| !c.automated)
        .map(|c| c.id.as_str())
        .collect();
    manual.sort_unstable();
    let mut out = Vec::new();
    for a in attestations {
        let (message, help) = match library.controls.get(&a.control) {
            Some(c) if !c.automated => continue,
            Some(_) => (
                format!(
                    "the attestation names `{}`, an automated control: its policies decide it",
                    a.control
                ),
                "attestations satisfy manual controls only (`vouch controls list` shows which)"
                    .to_owned(),
            ),
            None => (
                format!(
                    "the attestation names control `{}`, which the library does not define",
                    a.control
                ),
                crate::error::did_you_mean(&a.control, &manual)
                    .unwrap_or_else(|| "`vouch controls list` shows every control".to_owned()),
            ),
        };
        let problem = match files.iter().find(|f| f.path == a.file) {
            Some(f) => Problem::new(ProblemKind::Config, message).with_span(
                &f.path,
                &f.text,
                a.offset,
                "[[attestation]]".len(),
                "this attestation",
            ),
            None => Problem::config(message, Some(&a.file)),
        };
        out.push(problem.with_help(help));
    }
    out
}

/// Builds the run from loaded resources and their evaluations (`None`: the library did not
/// compile, so nothing was evaluated and nothing may look compliant).
#[expect(
    clippy::too_many_arguments,
    reason = "the gate and check share this one assembly step"
)]
pub fn assess(
    loaded: Loaded,
    files: &[SourceFile],
    config: Config,
    library: Library,
    evaluations: Option<Vec<Vec<crate::engine::Evaluation>>>,
    mut problems: Vec<Problem>,
    provenance: Provenance,
    opts: &CheckOptions,
    keep_passing: bool,
) -> CheckRun {
    problems.extend(loaded.problems.iter().cloned());
    problems.extend(attestation_problems(&loaded.attestations, &library, files));
    let compiled_ok = evaluations.is_some();
    let mut assessment = Assessment::build(Inputs {
        library: &library,
        resources: &loaded.resources,
        evaluations: evaluations.unwrap_or_default(),
        attestations: &loaded.attestations,
        problems: &problems,
        files: loaded.files.clone(),
        unrecognised: loaded.unrecognised.clone(),
        provenance,
        selection: &opts.selection,
        as_of_days: opts.as_of_days,
        keep_passing,
    });
    if !compiled_ok {
        // The library did not load: nothing was evaluated, and nothing may look compliant.
        assessment.results.clear();
    }
    let tf = &loaded.terraform;
    if !tf.roots.is_empty() || !tf.modules_not_expanded.is_empty() || tf.plans > 0 {
        assessment.summary.terraform = Some(loaded.terraform.clone());
    }
    let waivers = apply_waivers(&mut assessment, &config.waivers, opts.as_of_days);
    assessment.waivers = waivers;
    assessment.summarise(&library);
    assessment.summary.kubernetes = loaded.kubernetes.clone();
    let sources = files
        .iter()
        .map(|f| (f.path.clone(), Arc::clone(&f.text)))
        .collect();
    CheckRun {
        assessment,
        sources,
        problems,
        config,
        library,
        resources: loaded.resources,
        evidence_files: BTreeMap::new(),
    }
}

/// The end of the message an expired waiver adds to the failure it no longer covers.
const EXPIRED_WAIVER: &str = "; renew it or fix the finding";

/// True when an expired waiver matched this failing result (it then fails the gate).
pub fn has_expired_waiver(r: &crate::assessment::CheckResult) -> bool {
    r.status == Status::Fail
        && r.messages()
            .iter()
            .any(|m| m.starts_with("the waiver approved by ") && m.ends_with(EXPIRED_WAIVER))
}

/// Marks failures covered by a current waiver as waived; an expired waiver leaves them failing.
pub fn apply_waivers(
    assessment: &mut Assessment,
    waivers: &[Waiver],
    as_of_days: i64,
) -> Vec<WaiverStatus> {
    let mut out = Vec::new();
    for w in waivers {
        let expired = w.expires_days < as_of_days;
        let mut matched = 0;
        for r in &mut assessment.results {
            // A result on no resource (a manual control) is waived by `resource = "*"`.
            // A waiver scoped by `path` covers only resources declared in matching files.
            let applies = match &r.resource {
                Some(res) => w.applies(&res.address, &res.file),
                None => w.resource == "*" && w.path.is_none(),
            };
            if *r.control != *w.control || !applies {
                continue;
            }
            if !matches!(r.status, Status::Fail | Status::Waived) {
                continue;
            }
            matched += 1;
            if expired {
                r.push_message(format!(
                    "the waiver approved by {} expired on {}{EXPIRED_WAIVER}",
                    w.approver, w.expires
                ));
            } else {
                r.status = Status::Waived;
                r.waiver = Some(Box::new(WaiverRef {
                    reason: w.reason.clone(),
                    approver: w.approver.clone(),
                    expires: w.expires.clone(),
                    ticket: w.ticket.clone(),
                }));
            }
        }
        out.push(WaiverStatus {
            control: w.control.clone(),
            resource: w.resource.clone(),
            path: w.path.clone(),
            reason: w.reason.clone(),
            approver: w.approver.clone(),
            expires: w.expires.clone(),
            expired,
            matched,
            line: w.line,
        });
    }
    out.sort_by(|a, b| {
        (&a.control, &a.resource, &a.path, a.line).cmp(&(&b.control, &b.resource, &b.path, b.line))
    });
    out
}

/// Resolves the scanned root (relative paths are kept as given for display).
pub fn root_of(path: &Path) -> PathBuf {
    if path.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        path.to_path_buf()
    }
}
