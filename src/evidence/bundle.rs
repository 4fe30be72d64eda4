//! Assembling a bundle in memory (assessment, summary, redacted inputs, library, provenance,
//! waivers, OSCAL, manifest, signature), then writing it atomically as a directory and as a
//! deterministic `.tar.gz`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use super::manifest::{self, MANIFEST, Manifest, SIGNATURE};
use super::{oscal, redact, sign};
use crate::assessment::{Assessment, CheckResult, Status};
use crate::check::CheckRun;
use crate::error::Problem;
use crate::git::WorkTree;
use crate::library::{LibraryFile, Origin};
use crate::report::to_json;

/// A bundle's files by path (`/`-separated, relative to the bundle), sorted.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The git provenance of the evaluated tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The work tree root.
    pub repository: String,
    /// The scanned directory inside it (`.` for the root).
    pub path: String,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub author: Option<String>,
    pub author_email: Option<String>,
    /// Commit time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub commit_time: Option<String>,
    /// Uncommitted or untracked changes under the scanned directory.
    pub dirty: bool,
}

/// The tool that collected the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

/// `provenance.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceFile {
    pub schema_version: u32,
    /// When the evidence was collected, `YYYY-MM-DDTHH:MM:SSZ` (UTC): the only value that
    /// differs between two bundles of the same commit.
    pub collected_at: String,
    /// `None` when the scanned directory is not inside a git repository.
    pub source: Option<SourceInfo>,
    pub tool: ToolInfo,
    pub library_digest: String,
    /// The date ages were counted up to.
    pub as_of: String,
}

impl SourceInfo {
    /// The provenance of a work tree.
    pub fn of(w: &WorkTree) -> SourceInfo {
        SourceInfo {
            repository: w.repository.clone(),
            path: if w.prefix.is_empty() {
                ".".to_owned()
            } else {
                w.prefix.clone()
            },
            commit: w.commit.as_ref().map(|c| c.id.clone()),
            branch: w.branch.clone(),
            author: w.commit.as_ref().map(|c| c.author.clone()),
            author_email: w.commit.as_ref().map(|c| c.author_email.clone()),
            commit_time: w.commit.as_ref().map(|c| c.time_utc.clone()),
            dirty: w.dirty,
        }
    }
}

/// `redactions.json`: every input file, the digest of its original, and what was redacted.
#[derive(Debug, Clone, Serialize)]
struct Redactions {
    schema_version: u32,
    mask: &'static str,
    files: Vec<RedactedFile>,
}

#[derive(Debug, Clone, Serialize)]
struct RedactedFile {
    path: String,
    /// SHA-256 of the original file (before redaction).
    original_sha256: String,
    original_size: u64,
    redactions: Vec<redact::Redaction>,
}

/// A waiver in force, with the ticket from `vouch.toml`.
#[derive(Debug, Clone, Serialize)]
struct WaiverRecord {
    control: String,
    resource: String,
    reason: String,
    approver: String,
    expires: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<String>,
    expired: bool,
    matched: usize,
    line: u32,
}

/// True for library files a bundle carries: control definitions, catalogs, policies, schema
/// (fixtures are left out).
fn carried(f: &LibraryFile) -> bool {
    let parts: Vec<&str> = f.path.split('/').collect();
    match parts.first() {
        Some(&"controls") => parts.len() == 3 && f.path.ends_with(".toml"),
        Some(&"policies") => true,
        _ => false,
    }
}

/// Where a library file goes in the bundle.
fn library_path(f: &LibraryFile, run: &CheckRun) -> String {
    match &f.origin {
        Origin::Builtin => format!("library/{}", f.path),
        Origin::Custom(dir) => {
            let rel = run
                .config
                .library_paths
                .iter()
                .position(|p| p.display().to_string() == *dir)
                .and_then(|i| run.config.library_relative.get(i).cloned())
                .unwrap_or_else(|| {
                    dir.replace(['/', '\\', ':'], "_")
                        .trim_start_matches('.')
                        .to_owned()
                });
            format!("library/custom/{rel}/{}", f.path)
        }
    }
}

/// Everything a bundle is made from.
#[derive(Debug)]
pub struct Collection<'a> {
    pub run: &'a CheckRun,
    pub source: Option<&'a WorkTree>,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub collected_at: &'a str,
    pub key: Option<&'a SigningKey>,
    /// A `vouch serve` decision log to carry (its chain is checked by `vouch evidence verify`).
    pub decision_log: Option<&'a [u8]>,
}

/// The assessment as bundled: its root is the directory inside the repository (not the path
/// given on the command line) and its revision the commit, so clones agree.
fn bundled_assessment(run: &CheckRun, source: Option<&WorkTree>) -> Assessment {
    let mut a = run.assessment.clone();
    // Attestation evidence links can carry access tokens: their query strings are masked,
    // wherever the link is repeated.
    for r in &mut a.results {
        if let Some(att) = &mut r.attestation {
            let masked = redact::mask_url_query(&att.evidence);
            if masked != att.evidence {
                for m in r.detail.iter_mut().flat_map(|d| &mut d.messages) {
                    *m = m.replace(&att.evidence, &masked);
                }
                att.evidence = masked;
            }
        }
    }
    match source {
        Some(w) => {
            a.provenance.root = if w.prefix.is_empty() {
                ".".to_owned()
            } else {
                w.prefix.clone()
            };
            a.provenance.revision = w.commit.as_ref().map(|c| c.id.clone());
        }
        None => a.provenance.root = ".".to_owned(),
    }
    a
}

/// Builds every file of a bundle, the manifest and (with a key) its signature.
pub fn assemble(c: &Collection<'_>) -> Result<Files, Problem> {
    let run = c.run;
    let mut files = Files::new();
    // Inputs, redacted together (a secret found in one file is masked in all of them).
    let inputs: Vec<(&str, &str)> = run
        .assessment
        .files
        .keys()
        .filter_map(|path| run.sources.get(path).map(|t| (path.as_str(), &**t)))
        .collect();
    let (masked, known) = redact::redact_all(&inputs);
    let mut redacted = Vec::new();
    for ((path, text), (out, found)) in inputs.iter().zip(masked) {
        redacted.push(RedactedFile {
            path: (*path).to_owned(),
            original_sha256: manifest::sha256_hex(text.as_bytes()),
            original_size: text.len() as u64,
            redactions: found,
        });
        files.insert(format!("inputs/{path}"), out.into_bytes());
    }
    // Attestations' evidence files, byte for byte (their digests are in the assessment).
    for (path, bytes) in &run.evidence_files {
        files.insert(format!("inputs/{path}"), bytes.to_vec());
    }
    files.insert(
        "redactions.json".to_owned(),
        to_json(&Redactions {
            schema_version: 1,
            mask: redact::MASK,
            files: redacted,
        })
        .into_bytes(),
    );
    // The library that was used.
    for f in run.library.files.iter().filter(|f| carried(f)) {
        files.insert(library_path(f, run), f.text.as_bytes().to_vec());
    }
    // Assessment, waivers, provenance, summary.
    let assessment = bundled_assessment(run, c.source);
    let assessment_json = known.scrub(&to_json(&assessment));
    let assessment_sha = manifest::sha256_hex(assessment_json.as_bytes());
    files.insert("assessment.json".to_owned(), assessment_json.into_bytes());
    let waivers: Vec<WaiverRecord> = assessment
        .waivers
        .iter()
        .map(|w| WaiverRecord {
            control: w.control.clone(),
            resource: w.resource.clone(),
            reason: w.reason.clone(),
            approver: w.approver.clone(),
            expires: w.expires.clone(),
            ticket: run
                .config
                .waivers
                .iter()
                .find(|cw| {
                    cw.control == w.control && cw.resource == w.resource && cw.line == w.line
                })
                .and_then(|cw| cw.ticket.clone()),
            expired: w.expired,
            matched: w.matched,
            line: w.line,
        })
        .collect();
    files.insert(
        "waivers.json".to_owned(),
        known
            .scrub(&to_json(
                &serde_json::json!({ "schema_version": 1, "waivers": waivers }),
            ))
            .into_bytes(),
    );
    let source = c.source.map(SourceInfo::of);
    let provenance = ProvenanceFile {
        schema_version: 1,
        collected_at: c.collected_at.to_owned(),
        source: source.clone(),
        tool: ToolInfo {
            name: "vouch".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        library_digest: run.library.digest.clone(),
        as_of: assessment.provenance.as_of.clone(),
    };
    files.insert(
        "provenance.json".to_owned(),
        to_json(&provenance).into_bytes(),
    );
    files.insert(
        "summary.md".to_owned(),
        known
            .scrub(&summary_markdown(&assessment, run, source.as_ref()))
            .into_bytes(),
    );
    // OSCAL.
    let commit = source.as_ref().and_then(|s| s.commit.clone());
    let seed = format!(
        "{}\n{}\n{}",
        commit.as_deref().unwrap_or("uncommitted"),
        run.library.digest,
        assessment_sha
    );
    let doc = oscal::assessment_results(
        &assessment,
        &run.library,
        &oscal::Context {
            seed: &seed,
            collected_at: c.collected_at,
            commit: commit.as_deref(),
            assessment_sha256: &assessment_sha,
        },
    );
    files.insert(
        oscal::PATH.to_owned(),
        known.scrub(&to_json(&doc)).into_bytes(),
    );
    // The decision log is carried as written: its hash chain is the evidence.
    if let Some(log) = c.decision_log {
        files.insert(
            crate::serve::decision_log::BUNDLE_PATH.to_owned(),
            log.to_vec(),
        );
    }
    // Manifest and signature.
    let m = Manifest::build(&files);
    if let Some(key) = c.key {
        let sig = sign::sign(key, &m.manifest_digest)?;
        files.insert(SIGNATURE.to_owned(), to_json(&sig).into_bytes());
    }
    files.insert(MANIFEST.to_owned(), to_json(&m).into_bytes());
    Ok(files)
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `summary.md`: per framework, per requirement, the controls, their status and resources.
fn summary_markdown(a: &Assessment, run: &CheckRun, source: Option<&SourceInfo>) -> String {
    let lib = &run.library;
    let mut by_control: BTreeMap<&str, Vec<&CheckResult>> = BTreeMap::new();
    for r in &a.results {
        by_control.entry(r.control.as_ref()).or_default().push(r);
    }
    // framework → requirement → controls
    let mut mapped: BTreeMap<&str, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    for (control, results) in &by_control {
        if let Some(first) = results.first() {
            for (fw, ids) in first.about.frameworks.iter() {
                for id in ids {
                    mapped
                        .entry(fw.as_str())
                        .or_default()
                        .entry(id.as_str())
                        .or_default()
                        .push(control);
                }
            }
        }
    }
    let mut s = String::new();
    let _ = writeln!(s, "# Evidence summary\n");
    let _ = writeln!(s, "| | |\n| --- | --- |");
    match source {
        Some(src) => {
            let _ = writeln!(
                s,
                "| Source | `{}` at commit `{}`{} ({}) |",
                cell(&src.path),
                src.commit.as_deref().unwrap_or("none"),
                src.branch
                    .as_deref()
                    .map(|b| format!(" on `{}`", cell(b)))
                    .unwrap_or_default(),
                if src.dirty {
                    "uncommitted changes"
                } else {
                    "clean work tree"
                }
            );
            if let (Some(author), Some(time)) = (&src.author, &src.commit_time) {
                let _ = writeln!(s, "| Commit | {} at {time} |", cell(author));
            }
        }
        None => {
            let _ = writeln!(s, "| Source | not a git repository |");
        }
    }
    let r = &a.summary.results;
    let _ = writeln!(s, "| Evaluated as of | {} |", a.provenance.as_of);
    let _ = writeln!(
        s,
        "| Tool | vouch {}, library `{}` |",
        a.provenance.version, a.provenance.library_digest
    );
    let _ = writeln!(
        s,
        "| Inputs | {} files, {} resources, {} controls |",
        a.summary.files, a.summary.resources, a.summary.controls
    );
    let _ = writeln!(
        s,
        "| Results | {} pass, {} fail, {} error, {} waived, {} not applicable |",
        r.pass, r.fail, r.error, r.waived, r.not_applicable
    );
    if !a.problems.is_empty() {
        let _ = writeln!(
            s,
            "| Problems | {} (the run failed; see assessment.json) |",
            a.problems.len()
        );
    }
    let _ = writeln!(
        s,
        "\nThe collection time is in `provenance.json`; `manifest.json` lists the digest of every file.\n"
    );
    for (fw, reqs) in &mapped {
        let (checked, failing) = a.summary.frameworks.get(*fw).map_or((reqs.len(), 0), |f| {
            (f.requirements_checked, f.requirements_failing)
        });
        let _ = writeln!(
            s,
            "## {} — {checked} requirements checked, {failing} failing\n",
            lib.catalogs.name(fw)
        );
        let catalog = lib.catalogs.frameworks.get(*fw);
        let mut ids: Vec<&str> = reqs.keys().copied().collect();
        let order = |id: &str| {
            catalog
                .and_then(|c| c.requirements.iter().position(|r| r.id == id))
                .unwrap_or(usize::MAX)
        };
        ids.sort_by(|a, b| {
            order(a)
                .cmp(&order(b))
                .then_with(|| crate::library::catalog::natural_cmp(a, b))
        });
        for id in ids {
            let title = catalog
                .and_then(|c| c.requirements.iter().find(|r| r.id == id))
                .map(|r| r.title.as_str())
                .unwrap_or_default();
            let _ = writeln!(s, "### {id} — {}\n", cell(title));
            let _ = writeln!(s, "| Control | Status | Resources |\n| --- | --- | --- |");
            for control in reqs.get(id).map(Vec::as_slice).unwrap_or_default() {
                let results = by_control
                    .get(control)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let status = oscal::control_status(results);
                let title = results.first().map(|r| &*r.about.title).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "| `{control}` {} | {} | {} |",
                    cell(title),
                    status.as_str(),
                    resources_cell(results)
                );
            }
            s.push('\n');
        }
    }
    s
}

fn resources_cell(results: &[&CheckResult]) -> String {
    let mut groups: BTreeMap<Status, Vec<String>> = BTreeMap::new();
    for r in results {
        let text = match &r.resource {
            Some(res) => format!("`{}` ({}:{})", res.address, res.file, res.line),
            None => match &r.attestation {
                Some(_) => r.messages().join("; "),
                None => r.messages().join("; "),
            },
        };
        groups.entry(r.status).or_default().push(text);
    }
    let mut parts = Vec::new();
    for status in [
        Status::Fail,
        Status::Error,
        Status::Waived,
        Status::Pass,
        Status::NotApplicable,
    ] {
        if let Some(items) = groups.get(&status) {
            parts.push(format!("**{}**: {}", status.as_str(), items.join(", ")));
        }
    }
    cell(&parts.join("; "))
}

fn io(path: &Path, e: &std::io::Error) -> Problem {
    Problem::io(path.display().to_string(), e)
}

/// A sibling path of `path` (same directory), hidden, unique to this process.
fn sibling(path: &Path, tag: &str) -> PathBuf {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.vouch-{tag}-{}", std::process::id()))
}

/// Writes the bundle directory atomically: everything goes to a temporary directory next to
/// `out` (the manifest last), which is then renamed. An existing `out` is refused unless
/// `force`, and then replaced only once the new bundle is complete.
pub fn write_dir(out: &Path, files: &Files, force: bool) -> Result<(), Problem> {
    stage_dir(out, files, force)?.publish()
}

/// A bundle directory written in full next to its destination, not yet in place: dropped
/// without [`Staged::publish`], it is removed, so a run that fails later leaves nothing.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    out: PathBuf,
    force: bool,
    published: bool,
}

/// Writes the bundle to a temporary directory beside `out` (refusing an existing `out`
/// unless `force`).
pub fn stage_dir(out: &Path, files: &Files, force: bool) -> Result<Staged, Problem> {
    if out.exists() && !force {
        return Err(
            Problem::config(format!("`{}` already exists", out.display()), None)
                .with_help("choose a new directory, or pass --force to replace it"),
        );
    }
    let tmp = sibling(out, "tmp");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, &e))?;
    }
    let staged = Staged {
        tmp,
        out: out.to_path_buf(),
        force,
        published: false,
    };
    write_all(&staged.tmp, files)?;
    Ok(staged)
}

impl Staged {
    /// Renames the staged directory into place (replacing an old bundle under `force`).
    pub fn publish(mut self) -> Result<(), Problem> {
        let (tmp, out) = (&self.tmp, &self.out);
        let result = if out.exists() {
            if !self.force {
                return Err(Problem::config(
                    format!("`{}` appeared while the bundle was written", out.display()),
                    None,
                )
                .with_help("another run wrote it; choose a new directory, or pass --force"));
            }
            let old = sibling(out, "old");
            std::fs::rename(out, &old)
                .and_then(|()| std::fs::rename(tmp, out))
                .map_err(|e| io(out, &e))
                .and_then(|()| std::fs::remove_dir_all(&old).map_err(|e| io(&old, &e)))
        } else {
            std::fs::rename(tmp, out).map_err(|e| io(out, &e))
        };
        self.published = result.is_ok();
        result
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

fn write_all(dir: &Path, files: &Files) -> Result<(), Problem> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, &e))?;
    // The manifest (and its signature) last: a partial directory never has one.
    let last = [MANIFEST, SIGNATURE];
    let order = files
        .iter()
        .filter(|(p, _)| !last.contains(&p.as_str()))
        .chain(files.iter().filter(|(p, _)| last.contains(&p.as_str())));
    for (rel, data) in order {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, &e))?;
        }
        let mut f = std::fs::File::create(&path).map_err(|e| io(&path, &e))?;
        f.write_all(data).map_err(|e| io(&path, &e))?;
        f.sync_all().map_err(|e| io(&path, &e))?;
    }
    Ok(())
}

/// A deterministic `.tar.gz` of the bundle: one top directory `root`, entries sorted, mtime 0,
/// uid/gid 0, mode 0644, no gzip timestamp or file name.
pub fn archive(files: &Files, root: &str) -> Result<Vec<u8>, Problem> {
    let err = |e: std::io::Error| Problem::io("archive", &e);
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (rel, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        tar.append_data(&mut h, format!("{root}/{rel}"), data.as_slice())
            .map_err(err)?;
    }
    let gz = tar.into_inner().map_err(err)?;
    gz.finish().map_err(err)
}
