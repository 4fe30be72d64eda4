//! Where input files come from: a directory tree on disk (walkdir) or, for the gate, a git tree.
//!
//! A source yields [`SourceFile`]s with paths relative to the scanned root. The walk skips
//! `.git`, `.terraform`, `node_modules` and the configured excludes, never follows a symlink that
//! leaves the root, and reads nothing bigger than [`MAX_FILE_BYTES`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::Problem;

/// Files larger than this are reported and not read (a config file is never this big).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Directory names never descended into.
pub const SKIPPED_DIRS: &[&str] = &[".git", ".terraform", "node_modules", "target", ".venv"];

/// One input file, read into memory.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the scanned root, with `/` separators.
    pub path: String,
    /// The file's text (shared so that diagnostics can hold it cheaply).
    pub text: Arc<str>,
    /// Identity of the content (git blob id when read from git, else empty): lets the gate
    /// parse each blob once.
    pub blob_id: String,
}

impl SourceFile {
    /// A file from a path and text.
    pub fn new(path: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
            blob_id: String::new(),
        }
    }

    /// The file's extension, lowercased (`tf`, `json`, `yaml`, …).
    pub fn extension(&self) -> String {
        Path::new(&self.path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    }

    /// The file's name without directories.
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// The directory part of the path (`""` for the root).
    pub fn dir(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(d, _)| d)
    }
}

/// The files found under a root, plus the problems met while walking.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<SourceFile>,
    pub problems: Vec<Problem>,
    /// Files skipped because of their size or because they are not UTF-8 text.
    pub skipped: Vec<String>,
}

/// Builds the exclude matcher from `vouch.toml` globs.
pub fn exclude_set(globs: &[String]) -> Result<GlobSet, Problem> {
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g)
            .map_err(|e| Problem::config(format!("invalid exclude glob `{g}`: {e}"), None))?;
        builder.add(glob);
    }
    builder
        .build()
        .map_err(|e| Problem::config(format!("invalid exclude globs: {e}"), None))
}

/// Decodes a candidate file's bytes: UTF-8 (a byte-order mark is dropped), or UTF-16 with a
/// byte-order mark (what PowerShell's `>` writes). Anything else is a problem naming the file
/// and the reason, never a silent skip: a file vouch cannot read is not a file that passed.
pub fn decode(path: &str, bytes: &[u8], max_bytes: u64) -> Result<String, Problem> {
    let unreadable = |why: String| unreadable(path, &why);
    if bytes.len() as u64 > max_bytes {
        return Err(too_big(path, bytes.len() as u64, max_bytes));
    }
    let utf16 = |units: Vec<u16>| {
        String::from_utf16(&units)
            .map_err(|_| unreadable("it is UTF-16 with an invalid character".to_owned()))
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            std::str::from_utf8(rest).map(str::to_owned).map_err(|e| {
                unreadable(format!(
                    "it is not valid UTF-8 (byte {})",
                    e.valid_up_to() + 3
                ))
            })
        }
        [0xFF, 0xFE, rest @ ..] if rest.len() % 2 == 0 => utf16(
            rest.chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
        ),
        [0xFE, 0xFF, rest @ ..] if rest.len() % 2 == 0 => utf16(
            rest.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect(),
        ),
        _ => std::str::from_utf8(bytes).map(str::to_owned).map_err(|e| {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
            unreadable(format!(
                "it is not valid UTF-8 (line {line}, byte {at}); save it as UTF-8"
            ))
        }),
    }
}

fn unreadable(path: &str, why: &str) -> Problem {
    Problem::new(
        crate::error::ProblemKind::Io,
        format!("`{path}` cannot be read: {why}"),
    )
    .in_file(path)
}

/// The problem of a candidate file over the size limit.
pub fn too_big(path: &str, size: u64, max_bytes: u64) -> Problem {
    unreadable(
        path,
        &format!(
            "it is {size} bytes, over the {} MiB limit",
            max_bytes / (1024 * 1024)
        ),
    )
    .with_help("raise `max_file_mb` under [check] in vouch.toml, or exclude the file")
}

/// Walks `root` and reads every candidate file (by extension) into memory.
///
/// Only files whose extension a parser may want are read (`.tf`, `.json`, `.yaml`, `.yml`,
/// `.toml`); the rest are never opened. Symlinks are followed only when their target stays
/// inside `root`.
pub fn walk(root: &Path, excludes: &GlobSet) -> Walked {
    walk_limited(root, excludes, MAX_FILE_BYTES)
}

/// [`walk`] with a size limit: a bigger candidate file is a problem, not read.
pub fn walk_limited(root: &Path, excludes: &GlobSet, max_bytes: u64) -> Walked {
    let mut out = Walked::default();
    let canonical_root = match root.canonicalize() {
        Ok(p) => p,
        Err(e) => {
            out.problems
                .push(Problem::io(root.display().to_string(), &e));
            return out;
        }
    };
    let walker = walkdir::WalkDir::new(&canonical_root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if !e.file_type().is_dir() || e.depth() == 0 {
                return true;
            }
            let name = e.file_name().to_str().unwrap_or("");
            // Modules `terraform init` installed are read (module calls resolve to them);
            // nothing else under `.terraform` is.
            if name == ".terraform" {
                return true;
            }
            let parent = e
                .path()
                .parent()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str());
            if parent == Some(".terraform") {
                return name == "modules";
            }
            !SKIPPED_DIRS.contains(&name)
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map_or_else(|| root.display().to_string(), |p| p.display().to_string());
                out.problems.push(Problem::walk(path, e.to_string()));
                continue;
            }
        };
        let Ok(rel) = entry.path().strip_prefix(&canonical_root) else {
            continue;
        };
        let rel = relative_string(rel);
        if rel.is_empty() || excludes.is_match(&rel) {
            continue;
        }
        let mut path: PathBuf = entry.path().to_path_buf();
        if entry.path_is_symlink() {
            match entry.path().canonicalize() {
                Ok(target) if target.starts_with(&canonical_root) => {
                    if target.is_dir() {
                        // A directory inside the root is walked on its own; don't walk it twice.
                        continue;
                    }
                    path = target;
                }
                Ok(_) | Err(_) => {
                    out.skipped.push(rel);
                    continue;
                }
            }
        } else if !entry.file_type().is_file() {
            continue;
        }
        if !is_candidate(&rel) || (installed_module(&rel) && !is_installed_module_file(&rel)) {
            continue;
        }
        match std::fs::metadata(&path) {
            Ok(m) if m.len() > max_bytes => {
                // Not read at all: the size alone decides.
                out.problems.push(too_big(&rel, m.len(), max_bytes));
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                out.problems.push(Problem::io(rel, &e));
                continue;
            }
        }
        match std::fs::read(&path) {
            Ok(bytes) => match decode(&rel, &bytes, max_bytes) {
                Ok(text) => out.files.push(SourceFile::new(rel, text)),
                Err(p) => out.problems.push(p),
            },
            Err(e) => out.problems.push(Problem::io(rel, &e)),
        }
    }
    out
}

/// True for a path inside `.terraform/` (what `terraform init` installed).
pub fn installed_module(path: &str) -> bool {
    path.starts_with(".terraform/") || path.contains("/.terraform/")
}

/// Of the files `terraform init` installed, only module configuration and the modules
/// manifest are inputs (an installed module's examples or manifests are not the project's).
fn is_installed_module_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.contains(".terraform/modules/")
        && (name.ends_with(".tf") || name.ends_with(".tf.json") || name == "modules.json")
        && !name.starts_with('.')
}

/// True when a parser may want a file with this name.
pub fn is_candidate(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".tf", ".tfvars", ".json", ".yaml", ".yml", ".toml", ".csv"]
        .iter()
        .any(|ext| lower.ends_with(ext))
        // Kustomize also reads a kustomization from a file named `Kustomization`.
        || path.rsplit('/').next() == Some("Kustomization")
}

fn relative_string(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
