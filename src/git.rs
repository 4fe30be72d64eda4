//! Git: the only module that talks to `git2`. Reads a revision's tree straight from git objects
//! (no checkout), and the provenance of a working tree (commit, author, time, dirty or not).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{ObjectType, Repository, StatusOptions, TreeWalkMode, TreeWalkResult};
use globset::GlobSet;
use serde::Serialize;

use crate::error::{Problem, ProblemKind};
use crate::source::{self, SKIPPED_DIRS, SourceFile};

/// A repository and where the scanned directory sits inside it.
pub struct Repo {
    repo: Repository,
    /// The scanned directory relative to the work tree root (`""` for the root), `/`-separated.
    pub prefix: String,
    pub workdir: PathBuf,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("workdir", &self.workdir)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// Who made a commit and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    pub id: String,
    pub short_id: String,
    pub summary: String,
    pub author: String,
    pub author_email: String,
    /// Commit time, seconds since the epoch (UTC).
    pub time: i64,
    /// Commit time as `YYYY-MM-DDTHH:MM:SSZ`.
    pub time_utc: String,
}

fn git_problem(message: String) -> Problem {
    Problem::new(ProblemKind::Git, message)
}

fn one_line(e: &git2::Error) -> String {
    crate::error::lowercase_first(e.message().trim())
}

/// Submodules inside submodules are read this deep, no deeper.
const MAX_SUBMODULE_DEPTH: usize = 8;

/// A git submodule whose files were read, at the commit recorded for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Submodule {
    /// Its directory, relative to the scanned directory.
    pub path: String,
    /// The commit read: the one the superproject records (a revision) or the one checked out
    /// (a work tree).
    pub commit: String,
}

/// The files of a revision's tree, submodules included.
#[derive(Debug, Default)]
pub struct TreeFiles {
    pub files: Vec<SourceFile>,
    /// Candidate files not read: too big or not UTF-8 (listed, never silent).
    pub skipped: Vec<String>,
    /// The submodules whose files were read.
    pub submodules: Vec<Submodule>,
    /// Submodules that could not be read (their commit is not in this clone).
    pub problems: Vec<Problem>,
}

/// Opens the repository at exactly `path` (never one of its parents).
fn open_here(path: &Path) -> Option<Repository> {
    let none: [&std::ffi::OsStr; 0] = [];
    Repository::open_ext(path, git2::RepositoryOpenFlags::NO_SEARCH, none).ok()
}

/// True when the configured excludes leave a submodule's whole directory out.
fn submodule_excluded(rel: &str, excludes: &GlobSet) -> bool {
    excludes.is_match(rel) || excludes.is_match(format!("{rel}/.vouch-submodule"))
}

fn submodule_unreadable(rel: &str, commit: &str, depth: usize) -> Problem {
    let short: String = commit.chars().take(12).collect();
    let why = if depth >= MAX_SUBMODULE_DEPTH {
        format!("submodules nest deeper than {MAX_SUBMODULE_DEPTH} levels")
    } else {
        "its repository or that commit is not in this clone".to_owned()
    };
    git_problem(format!(
        "submodule `{rel}` at commit {short} cannot be read: {why}"
    ))
    .in_file(rel)
    .with_help(format!(
        "check submodules out (`git submodule update --init --recursive`; in GitHub Actions, \
         actions/checkout with `submodules: recursive`), or leave it unscanned on purpose with \
         `[check] exclude = [\"{rel}/**\"]` in vouch.toml"
    ))
}

/// Walks `tree`, returning the blobs that `select` maps (from their full path) to a relative
/// path, and every submodule (gitlink) as (full path, recorded commit). Symlinks are never
/// followed; with `skip_dirs`, the directories a directory walk skips are not entered.
type Walked = (Vec<(String, git2::Oid)>, Vec<(String, git2::Oid)>);

fn walk_tree(
    tree: &git2::Tree<'_>,
    skip_dirs: bool,
    select: impl Fn(&str) -> Option<String>,
) -> Result<Walked, git2::Error> {
    let mut entries = Vec::new();
    let mut links = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        let Some(name) = entry.name() else {
            return TreeWalkResult::Skip;
        };
        match entry.kind() {
            Some(ObjectType::Tree) => {
                if skip_dirs && SKIPPED_DIRS.contains(&name) {
                    TreeWalkResult::Skip
                } else {
                    TreeWalkResult::Ok
                }
            }
            Some(ObjectType::Commit) => {
                links.push((format!("{root}{name}"), entry.id()));
                TreeWalkResult::Ok
            }
            Some(ObjectType::Blob) if entry.filemode() != 0o120_000 => {
                if let Some(rel) = select(&format!("{root}{name}")) {
                    entries.push((rel, entry.id()));
                }
                TreeWalkResult::Ok
            }
            _ => TreeWalkResult::Ok,
        }
    })?;
    entries.sort();
    links.sort();
    Ok((entries, links))
}

/// `YYYY-MM-DDTHH:MM:SSZ` of seconds since the epoch.
pub fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        crate::dates::format_days(days),
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

impl Repo {
    /// Finds the repository containing `path`.
    pub fn discover(path: &Path) -> Result<Repo, Problem> {
        let repo = Repository::discover(path).map_err(|e| {
            git_problem(format!(
                "`{}` is not inside a git repository: {}",
                path.display(),
                one_line(&e)
            ))
            .with_help("run the gate from a clone of the repository")
        })?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| {
                git_problem("the repository is bare; the gate needs a work tree".to_owned())
            })?
            .canonicalize()
            .map_err(|e| Problem::io(path.display().to_string(), &e))?;
        let scanned = path
            .canonicalize()
            .map_err(|e| Problem::io(path.display().to_string(), &e))?;
        let prefix = scanned
            .strip_prefix(&workdir)
            .map(|p| {
                p.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default();
        Ok(Repo {
            repo,
            prefix,
            workdir,
        })
    }

    /// The commit a revision names (`origin/main`, `HEAD~2`, a sha).
    pub fn commit_id(&self, rev: &str) -> Result<git2::Oid, Problem> {
        let obj = self.repo.revparse_single(rev).map_err(|e| {
            let help = if self.repo.is_shallow() {
                "this clone is shallow: fetch the branch and its history (`git fetch --unshallow \
                 origin`; in GitHub Actions, actions/checkout with `fetch-depth: 0`)"
            } else {
                "fetch it first (`git fetch origin main`) or pass a commit id"
            };
            git_problem(format!(
                "revision `{rev}` cannot be resolved: {}",
                one_line(&e)
            ))
            .with_help(help)
        })?;
        obj.peel_to_commit().map(|c| c.id()).map_err(|e| {
            git_problem(format!(
                "revision `{rev}` is not a commit: {}",
                one_line(&e)
            ))
        })
    }

    /// The merge base of two commits.
    pub fn merge_base(&self, a: git2::Oid, b: git2::Oid) -> Result<git2::Oid, Problem> {
        self.repo.merge_base(a, b).map_err(|e| {
            let short = |o: git2::Oid| o.to_string().chars().take(12).collect::<String>();
            let p = git_problem(format!(
                "no merge base found between {} and {}: {}",
                short(a),
                short(b),
                one_line(&e)
            ));
            if self.repo.is_shallow() {
                p.with_help(
                    "this clone is shallow, so the history joining the base and the head is \
                     missing: fetch it (`git fetch --unshallow`; in GitHub Actions, \
                     actions/checkout with `fetch-depth: 0`)",
                )
            } else {
                p.with_help(
                    "the base and the head share no history: pass the branch the change merges \
                     into (`--base origin/main`)",
                )
            }
        })
    }

    /// Provenance of a commit.
    pub fn commit_info(&self, id: git2::Oid) -> Result<CommitInfo, Problem> {
        let c = self
            .repo
            .find_commit(id)
            .map_err(|e| git_problem(format!("commit {id}: {}", one_line(&e))))?;
        let author = c.author();
        let time = c.time().seconds();
        Ok(CommitInfo {
            id: id.to_string(),
            short_id: id.to_string().chars().take(12).collect(),
            summary: c.summary().unwrap_or_default().to_owned(),
            author: author.name().unwrap_or_default().to_owned(),
            author_email: author.email().unwrap_or_default().to_owned(),
            time,
            time_utc: format_time(time),
        })
    }

    /// The current branch name, if HEAD is on a branch.
    pub fn branch(&self) -> Option<String> {
        let head = self.repo.head().ok()?;
        head.is_branch()
            .then(|| head.shorthand().map(str::to_owned))
            .flatten()
    }

    /// True when the work tree (under the scanned directory) has uncommitted changes.
    pub fn is_dirty(&self) -> Result<bool, Problem> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .include_ignored(false)
            .recurse_untracked_dirs(true);
        if !self.prefix.is_empty() {
            opts.pathspec(format!("{}/", self.prefix));
        }
        let statuses = self.repo.statuses(Some(&mut opts)).map_err(|e| {
            git_problem(format!(
                "cannot read the work tree status: {}",
                one_line(&e)
            ))
        })?;
        Ok(!statuses.is_empty())
    }

    /// The text of one file of a commit's tree (relative to the scanned directory), if present.
    pub fn read_file(&self, commit: git2::Oid, rel: &str) -> Result<Option<String>, Problem> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(|e| git_problem(format!("commit {commit}: {}", one_line(&e))))?;
        let tree = c
            .tree()
            .map_err(|e| git_problem(format!("tree of {commit}: {}", one_line(&e))))?;
        let full = if self.prefix.is_empty() {
            rel.to_owned()
        } else {
            format!("{}/{rel}", self.prefix)
        };
        let Ok(entry) = tree.get_path(Path::new(&full)) else {
            return Ok(None);
        };
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(|e| git_problem(format!("{full}: {}", one_line(&e))))?;
        Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()))
    }

    /// The blobs of a commit's tree that `select` maps (from their full path) to a relative
    /// path, sorted. Symlinks (mode 120000) and submodules are never followed; with
    /// `skip_dirs`, the directories a directory walk skips are not descended into either.
    fn blob_entries(
        &self,
        commit: git2::Oid,
        skip_dirs: bool,
        select: impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<(String, git2::Oid)>, Problem> {
        let tree = self.commit_tree(commit)?;
        walk_tree(&tree, skip_dirs, select)
            .map(|(blobs, _)| blobs)
            .map_err(|e| {
                git_problem(format!(
                    "cannot walk the tree of {commit}: {}",
                    one_line(&e)
                ))
            })
    }

    fn commit_tree(&self, commit: git2::Oid) -> Result<git2::Tree<'_>, Problem> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(|e| git_problem(format!("commit {commit}: {}", one_line(&e))))?;
        c.tree()
            .map_err(|e| git_problem(format!("tree of {commit}: {}", one_line(&e))))
    }

    /// Every candidate file of a commit's tree under the scanned directory, with its blob id,
    /// including the files of the submodules the tree records (at the commit it records).
    ///
    /// Symlinks (mode 120000) are never followed; files over the size limit and non-UTF-8
    /// files are problems, like the directory walk's. A submodule whose commit is
    /// not in this clone is a problem (never a silent pass), unless its path is excluded.
    pub fn tree_files(
        &self,
        commit: git2::Oid,
        excludes: &GlobSet,
        max_bytes: u64,
    ) -> Result<TreeFiles, Problem> {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let tree = self.commit_tree(commit)?;
        let mut out = TreeFiles::default();
        self.read_tree_into(
            &self.repo, &tree, &prefix, "", excludes, max_bytes, 0, &mut out,
        )
        .map_err(|e| {
            git_problem(format!(
                "cannot walk the tree of {commit}: {}",
                one_line(&e)
            ))
        })?;
        out.files.sort_by(|a, b| a.path.cmp(&b.path));
        out.skipped.sort();
        out.submodules.sort();
        Ok(out)
    }

    /// Reads the candidate files of `tree` (of `repo`, the superproject or a submodule) whose
    /// full path starts with `strip`, under the relative directory `under`, then recurses into
    /// the submodules it records.
    #[expect(
        clippy::too_many_arguments,
        reason = "one recursive walk over superproject and submodules"
    )]
    fn read_tree_into(
        &self,
        repo: &Repository,
        tree: &git2::Tree<'_>,
        strip: &str,
        under: &str,
        excludes: &GlobSet,
        max_bytes: u64,
        depth: usize,
        out: &mut TreeFiles,
    ) -> Result<(), git2::Error> {
        let (blobs, links) = walk_tree(tree, true, |full| {
            full.strip_prefix(strip)
                .map(|rel| format!("{under}{rel}"))
                .filter(|rel| source::is_candidate(rel) && !excludes.is_match(rel))
        })?;
        for (rel, id) in blobs {
            let blob = repo.find_blob(id)?;
            if blob.size() as u64 > max_bytes {
                out.problems
                    .push(source::too_big(&rel, blob.size() as u64, max_bytes));
                continue;
            }
            match source::decode(&rel, blob.content(), max_bytes) {
                Ok(text) => out.files.push(SourceFile {
                    path: rel,
                    text: Arc::from(text),
                    blob_id: id.to_string(),
                }),
                Err(p) => out.problems.push(p),
            }
        }
        for (full, id) in links {
            let Some(rel) = full.strip_prefix(strip).map(|r| format!("{under}{r}")) else {
                continue;
            };
            if submodule_excluded(&rel, excludes) {
                continue;
            }
            let opened = (depth < MAX_SUBMODULE_DEPTH)
                .then(|| self.open_submodule(repo, &full))
                .flatten();
            let sub_tree = opened
                .as_ref()
                .and_then(|sub| sub.find_commit(id).ok().and_then(|c| c.tree().ok()));
            match (&opened, sub_tree) {
                (Some(sub), Some(sub_tree)) => {
                    out.submodules.push(Submodule {
                        path: rel.clone(),
                        commit: id.to_string(),
                    });
                    self.read_tree_into(
                        sub,
                        &sub_tree,
                        "",
                        &format!("{rel}/"),
                        excludes,
                        max_bytes,
                        depth + 1,
                        out,
                    )?;
                }
                _ => out
                    .problems
                    .push(submodule_unreadable(&rel, &id.to_string(), depth)),
            }
        }
        Ok(())
    }

    /// The repository of the submodule at `full` (a path in `parent`'s tree): the one git
    /// keeps under `modules/`, else a checked-out one in the work tree. Never searches upwards.
    fn open_submodule(&self, parent: &Repository, full: &str) -> Option<Repository> {
        if let Ok(sub) = parent.find_submodule(full)
            && let Ok(repo) = sub.open()
        {
            return Some(repo);
        }
        if let Some(repo) = open_here(&parent.path().join("modules").join(full)) {
            return Some(repo);
        }
        let checked_out = parent.workdir()?.join(full);
        if checked_out.join(".git").exists() {
            return open_here(&checked_out);
        }
        None
    }

    /// The submodules recorded under the scanned directory of the work tree: each must be
    /// checked out (its files are then walked on disk like any other), else it is a problem.
    pub fn worktree_submodules(&self, excludes: &GlobSet) -> (Vec<Submodule>, Vec<Problem>) {
        let mut subs = Vec::new();
        let mut problems = Vec::new();
        let index = match self.repo.index() {
            Ok(i) => i,
            Err(e) => {
                problems.push(git_problem(format!(
                    "cannot read the git index: {}",
                    one_line(&e)
                )));
                return (subs, problems);
            }
        };
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        for entry in index.iter().filter(|e| e.mode == 0o160_000) {
            let full = String::from_utf8_lossy(&entry.path).into_owned();
            let Some(rel) = full.strip_prefix(&prefix) else {
                continue;
            };
            if submodule_excluded(rel, excludes) {
                continue;
            }
            let dir = self.workdir.join(&full);
            let head = dir
                .join(".git")
                .exists()
                .then(|| open_here(&dir).and_then(|r| r.head().ok().and_then(|h| h.target())))
                .flatten();
            match head {
                Some(id) => subs.push(Submodule {
                    path: rel.to_owned(),
                    commit: id.to_string(),
                }),
                None => problems.push(submodule_unreadable(rel, &entry.id.to_string(), 0)),
            }
        }
        subs.sort();
        (subs, problems)
    }

    /// Every file under `dir/controls` and `dir/policies` of a commit (a custom library), with
    /// paths relative to `dir`.
    pub fn library_files(
        &self,
        commit: git2::Oid,
        dir: &str,
    ) -> Result<Vec<(String, String)>, Problem> {
        let base = if self.prefix.is_empty() {
            format!("{dir}/")
        } else {
            format!("{}/{dir}/", self.prefix)
        };
        let entries = self.blob_entries(commit, false, |full| {
            full.strip_prefix(&base)
                .filter(|rel| rel.starts_with("controls/") || rel.starts_with("policies/"))
                .map(str::to_owned)
        })?;
        let mut out = Vec::new();
        for (rel, id) in entries {
            let blob = self
                .repo
                .find_blob(id)
                .map_err(|e| git_problem(format!("{rel}: {}", one_line(&e))))?;
            if let Ok(text) = std::str::from_utf8(blob.content()) {
                out.push((rel, text.to_owned()));
            }
        }
        Ok(out)
    }
}

/// The submodules recorded under `root` when it is inside a git work tree (none otherwise),
/// and a problem for each one that is not checked out.
pub fn submodules_under(root: &Path, excludes: &GlobSet) -> (Vec<Submodule>, Vec<Problem>) {
    if Repository::discover(root).is_err() {
        return (Vec::new(), Vec::new());
    }
    match Repo::discover(root) {
        Ok(repo) => repo.worktree_submodules(excludes),
        Err(_) => (Vec::new(), Vec::new()),
    }
}

// Evidence: the provenance of a work tree, and the evidence locker (a plain git repository in
// which each collection is one commit).

/// Where a scanned directory's content comes from, for an evidence bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkTree {
    /// The work tree root.
    pub repository: String,
    /// The scanned directory relative to the root (`""` for the root), `/`-separated.
    pub prefix: String,
    /// The checked-out commit (`None` on a branch without commits).
    pub commit: Option<CommitInfo>,
    pub branch: Option<String>,
    /// True when the scanned directory has uncommitted or untracked changes.
    pub dirty: bool,
}

/// The provenance of the work tree holding `path`; `Ok(None)` when it is not in a repository.
pub fn work_tree(path: &Path) -> Result<Option<WorkTree>, Problem> {
    if Repository::discover(path).is_err() {
        return Ok(None);
    }
    let repo = Repo::discover(path)?;
    let head = repo.repo.head().ok().and_then(|h| h.target());
    let commit = match head {
        Some(id) => Some(repo.commit_info(id)?),
        None => None,
    };
    Ok(Some(WorkTree {
        repository: repo.workdir.display().to_string(),
        prefix: repo.prefix.clone(),
        commit,
        branch: repo.branch(),
        dirty: repo.is_dirty()?,
    }))
}

/// An evidence locker: a git repository where each collection is one commit.
pub struct Locker {
    repo: Repository,
}

impl std::fmt::Debug for Locker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locker")
            .field("path", &self.repo.path())
            .finish()
    }
}

/// One collection found in a locker's history.
#[derive(Debug, Clone)]
pub struct LockerEntry {
    /// The locker commit that added the collection.
    pub commit: String,
    /// That commit's time, seconds since the epoch.
    pub commit_time: i64,
    /// The collection directory name (under the collections directory).
    pub dir: String,
    /// The requested files of the collection that exist, by name.
    pub files: std::collections::BTreeMap<String, Vec<u8>>,
}

fn locker_problem(path: &Path, e: &git2::Error) -> Problem {
    git_problem(format!(
        "evidence locker `{}`: {}",
        path.display(),
        one_line(e)
    ))
}

impl Locker {
    /// Opens the repository at `path` (not a parent of it).
    pub fn open(path: &Path) -> Result<Locker, Problem> {
        Repository::open(path)
            .map(|repo| Locker { repo })
            .map_err(|e| locker_problem(path, &e))
    }

    /// Opens the repository at `path`, or creates it (and the directory) when absent. An
    /// existing non-empty directory that is not a repository is refused.
    pub fn open_or_init(path: &Path) -> Result<Locker, Problem> {
        if let Ok(repo) = Repository::open(path) {
            return Ok(Locker { repo });
        }
        let non_empty = std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_some());
        if non_empty {
            return Err(git_problem(format!(
                "`{}` exists and is not a git repository; refusing to use it as an evidence locker",
                path.display()
            )));
        }
        std::fs::create_dir_all(path).map_err(|e| Problem::io(path.display().to_string(), &e))?;
        Repository::init(path)
            .map(|repo| Locker { repo })
            .map_err(|e| locker_problem(path, &e))
    }

    /// True when `path` (relative to the root) exists in the tree of HEAD.
    pub fn head_has(&self, path: &str) -> bool {
        self.repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_tree().ok())
            .is_some_and(|t| t.get_path(Path::new(path)).is_ok())
    }

    /// Adds `files` (paths relative to the repository root) to the tree of HEAD and commits it
    /// on HEAD at `time` (seconds since the epoch, UTC), then checks the work tree out (when
    /// there is one). Returns the new commit id.
    pub fn commit_files(
        &self,
        files: &[(String, Vec<u8>)],
        message: &str,
        time: i64,
    ) -> Result<String, Problem> {
        let path = self.repo.path().to_path_buf();
        let err = |e: git2::Error| locker_problem(&path, &e);
        let mut index = git2::Index::new().map_err(err)?;
        let parent = match self.repo.head() {
            Ok(h) => Some(h.peel_to_commit().map_err(err)?),
            Err(_) => None,
        };
        if let Some(p) = &parent {
            index.read_tree(&p.tree().map_err(err)?).map_err(err)?;
        }
        for (rel, data) in files {
            let id = self.repo.blob(data).map_err(err)?;
            let entry = git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: 0o100_644,
                uid: 0,
                gid: 0,
                file_size: u32::try_from(data.len()).unwrap_or(u32::MAX),
                id,
                flags: 0,
                flags_extended: 0,
                path: rel.as_bytes().to_vec(),
            };
            index.add(&entry).map_err(err)?;
        }
        let tree_id = index.write_tree_to(&self.repo).map_err(err)?;
        let tree = self.repo.find_tree(tree_id).map_err(err)?;
        let sig = git2::Signature::new(
            "vouch evidence",
            "evidence@vouch.invalid",
            &git2::Time::new(time, 0),
        )
        .map_err(err)?;
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let id = self
            .repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .map_err(err)?;
        if !self.repo.is_bare() {
            let mut co = git2::build::CheckoutBuilder::new();
            co.force();
            self.repo.checkout_head(Some(&mut co)).map_err(err)?;
        }
        Ok(id.to_string())
    }

    /// Every collection directory under `dir` in the history of HEAD, oldest first, each with
    /// the commit that added it and the contents of the requested files (`names`, relative to
    /// the collection directory).
    pub fn collections(&self, dir: &str, names: &[&str]) -> Result<Vec<LockerEntry>, Problem> {
        let path = self.repo.path().to_path_buf();
        let err = |e: git2::Error| locker_problem(&path, &e);
        if self.repo.head().is_err() {
            return Ok(Vec::new());
        }
        let mut walk = self.repo.revwalk().map_err(err)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .map_err(err)?;
        walk.push_head().map_err(err)?;
        let subdirs = |tree: &git2::Tree<'_>| -> Vec<String> {
            let Ok(entry) = tree.get_path(Path::new(dir)) else {
                return Vec::new();
            };
            let Ok(sub) = self.repo.find_tree(entry.id()) else {
                return Vec::new();
            };
            sub.iter()
                .filter(|e| e.kind() == Some(ObjectType::Tree))
                .filter_map(|e| e.name().map(str::to_owned))
                .collect()
        };
        let mut out = Vec::new();
        for id in walk {
            let id = id.map_err(err)?;
            let commit = self.repo.find_commit(id).map_err(err)?;
            let tree = commit.tree().map_err(err)?;
            let before: std::collections::BTreeSet<String> = match commit.parent(0) {
                Ok(p) => subdirs(&p.tree().map_err(err)?).into_iter().collect(),
                Err(_) => std::collections::BTreeSet::new(),
            };
            for name in subdirs(&tree) {
                if before.contains(&name) {
                    continue;
                }
                let mut files = std::collections::BTreeMap::new();
                for file in names {
                    let full = format!("{dir}/{name}/{file}");
                    if let Ok(entry) = tree.get_path(Path::new(&full))
                        && let Ok(blob) = self.repo.find_blob(entry.id())
                    {
                        files.insert((*file).to_owned(), blob.content().to_vec());
                    }
                }
                out.push(LockerEntry {
                    commit: id.to_string(),
                    commit_time: commit.time().seconds(),
                    dir: name,
                    files,
                });
            }
        }
        Ok(out)
    }
}
