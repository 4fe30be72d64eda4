//! One side of the gate, read from a commit's objects or from the working tree: its
//! `vouch.toml`, its custom library, and its files (submodules included), each parsed once per
//! (blob id, path).

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{self, Config};
use crate::error::{Problem, ProblemKind};
use crate::formats::{self, LoadContext, Parsed};
use crate::git::{Repo, Submodule};
use crate::library::{Library, LibraryFile, Origin};
use crate::source::{self, SourceFile};

/// Where a side comes from.
#[derive(Debug, Clone, Copy)]
pub enum Rev {
    Commit(git2::Oid),
    /// The working tree, uncommitted changes included.
    WorkTree,
}

/// A side's files as one policy's excludes select them.
#[derive(Debug, Default)]
pub struct Tree {
    pub files: Vec<SourceFile>,
    /// Candidate files not read (too big, not UTF-8, a symlink leaving the tree).
    pub skipped: Vec<String>,
    /// Submodules whose files were read.
    pub submodules: Vec<Submodule>,
    pub problems: Vec<Problem>,
}

/// Appends where a problem was met (`at base 1a2b3c`) to its message.
pub fn label_problem(mut p: Problem, label: &str) -> Problem {
    p.message = format!("{} (at {label})", p.message);
    p
}

/// The side's `vouch.toml` (the default configuration when it has none).
pub fn read_config(repo: &Repo, rev: Rev) -> Result<Config, Vec<Problem>> {
    let root = repo.workdir.join(&repo.prefix);
    match rev {
        Rev::Commit(id) => match repo.read_file(id, config::FILE_NAME) {
            Ok(Some(text)) => Config::parse(&text, &root),
            Ok(None) => Ok(Config::default()),
            Err(p) => Err(vec![p]),
        },
        Rev::WorkTree => Config::load(&root),
    }
}

/// The side's files, selected by `policy`'s excludes.
pub fn read_tree(repo: &Repo, rev: Rev, policy: &Config) -> Tree {
    let mut tree = Tree::default();
    let excludes = source::exclude_set(&policy.walk_excludes()).unwrap_or_else(|p| {
        tree.problems.push(p);
        globset::GlobSet::empty()
    });
    match rev {
        Rev::Commit(id) => match repo.tree_files(id, &excludes, policy.max_file_bytes) {
            Ok(read) => {
                tree.files = read.files;
                tree.skipped = read.skipped;
                tree.submodules = read.submodules;
                tree.problems.extend(read.problems);
            }
            Err(p) => tree.problems.push(p),
        },
        Rev::WorkTree => {
            let root = repo.workdir.join(&repo.prefix);
            let walked = source::walk_limited(&root, &excludes, policy.max_file_bytes);
            tree.problems.extend(walked.problems);
            tree.skipped = walked.skipped;
            tree.files = walked.files;
            for f in &mut tree.files {
                f.blob_id = git2::Oid::hash_object(git2::ObjectType::Blob, f.text.as_bytes())
                    .map(|o| o.to_string())
                    .unwrap_or_default();
            }
            let (subs, problems) = repo.worktree_submodules(&excludes);
            tree.submodules = subs;
            tree.problems.extend(problems);
        }
    }
    tree
}

/// The built-in library plus the custom directories `config` names, as this side has them.
pub fn read_library(repo: &Repo, rev: Rev, config: &Config) -> (Library, Vec<Problem>) {
    match rev {
        Rev::Commit(id) => {
            let mut problems = Vec::new();
            let mut custom = Vec::new();
            for rel in &config.library_relative {
                match repo.library_files(id, rel) {
                    Ok(fs) => custom.extend(fs.into_iter().map(|(path, text)| LibraryFile {
                        path,
                        text: Arc::from(text),
                        origin: Origin::Custom(rel.clone()),
                    })),
                    Err(p) => problems.push(p),
                }
            }
            let (library, more) = Library::with_custom_files(custom);
            problems.extend(more);
            (library, problems)
        }
        Rev::WorkTree => Library::load(&config.library_paths),
    }
}

/// A file's identity for the parse cache: (git blob id, path).
type BlobKey = (String, String);
pub type ParseResult = Result<Parsed, Vec<Problem>>;

/// Parses files, each (blob, path) once across every side and policy of a run.
pub struct Parser {
    cache: HashMap<BlobKey, ParseResult>,
    pub ctx: LoadContext,
}

impl Parser {
    pub fn new(ctx: LoadContext) -> Self {
        Parser {
            cache: HashMap::new(),
            ctx,
        }
    }

    /// Parses a side's files (in parallel), reusing any (blob, path) already parsed.
    pub fn parse(&mut self, files: &[SourceFile]) -> Vec<(String, ParseResult)> {
        use rayon::prelude::*;
        let ctx = &self.ctx;
        let cache = &self.cache;
        let fresh: HashMap<BlobKey, ParseResult> = files
            .par_iter()
            .filter(|f| {
                f.blob_id.is_empty() || !cache.contains_key(&(f.blob_id.clone(), f.path.clone()))
            })
            .map(|f| {
                (
                    (f.blob_id.clone(), f.path.clone()),
                    formats::parse_file(f, ctx),
                )
            })
            .collect();
        let mut fresh = fresh;
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            let key = (f.blob_id.clone(), f.path.clone());
            let parsed = match fresh.remove(&key) {
                Some(p) => {
                    if !f.blob_id.is_empty() {
                        self.cache.insert(key, p.clone());
                    }
                    p
                }
                // Every file was parsed above or is cached; a miss is a bug that must not pass.
                None => self.cache.get(&key).cloned().unwrap_or_else(|| {
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
}
