//! Git: the only module that talks to `git2`. Reads a revision's tree straight from git objects
//! (no checkout), and the provenance of a working tree (commit, author, time, dirty or not).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{ObjectType, Repository, StatusOptions, TreeWalkMode, TreeWalkResult};
use globset::GlobSet;
use serde::Serialize;

use crate::error::{Problem, ProblemKind};
use crate::source::{self, MAX_FILE_BYTES, SKIPPED_DIRS, SourceFile};

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
            git_problem(format!(
                "revision `{rev}` cannot be resolved: {}",
                one_line(&e)
            ))
            .with_help("fetch it first (`git fetch origin main`) or pass a commit id")
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
            git_problem(format!(
                "no merge base between {a} and {b}: {}",
                one_line(&e)
            ))
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
        let c = self
            .repo
            .find_commit(commit)
            .map_err(|e| git_problem(format!("commit {commit}: {}", one_line(&e))))?;
        let tree = c
            .tree()
            .map_err(|e| git_problem(format!("tree of {commit}: {}", one_line(&e))))?;
        let mut entries = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |root, entry| {
            let Some(name) = entry.name() else {
                return TreeWalkResult::Skip;
            };
            if entry.kind() == Some(ObjectType::Tree) {
                return if skip_dirs && SKIPPED_DIRS.contains(&name) {
                    TreeWalkResult::Skip
                } else {
                    TreeWalkResult::Ok
                };
            }
            if entry.kind() == Some(ObjectType::Blob)
                && entry.filemode() != 0o120_000
                && let Some(rel) = select(&format!("{root}{name}"))
            {
                entries.push((rel, entry.id()));
            }
            TreeWalkResult::Ok
        })
        .map_err(|e| {
            git_problem(format!(
                "cannot walk the tree of {commit}: {}",
                one_line(&e)
            ))
        })?;
        entries.sort();
        Ok(entries)
    }

    /// Every candidate file of a commit's tree under the scanned directory, with its blob id.
    ///
    /// Symlinks (mode 120000) and submodules are never followed; a file over the size limit or
    /// that cannot be decoded is a problem in `problems`, like the directory walk's.
    pub fn tree_files(
        &self,
        commit: git2::Oid,
        excludes: &GlobSet,
        problems: &mut Vec<Problem>,
    ) -> Result<Vec<SourceFile>, Problem> {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let entries = self.blob_entries(commit, true, |full| {
            full.strip_prefix(&prefix)
                .filter(|rel| source::is_candidate(rel) && !excludes.is_match(rel))
                .map(str::to_owned)
        })?;
        let mut files = Vec::with_capacity(entries.len());
        for (rel, id) in entries {
            let blob = self
                .repo
                .find_blob(id)
                .map_err(|e| git_problem(format!("{rel}: {}", one_line(&e))))?;
            if blob.size() as u64 > MAX_FILE_BYTES {
                problems.push(source::too_big(&rel, blob.size() as u64, MAX_FILE_BYTES));
                continue;
            }
            match source::decode(&rel, blob.content(), MAX_FILE_BYTES) {
                Ok(text) => files.push(SourceFile {
                    path: rel,
                    text: Arc::from(text),
                    blob_id: id.to_string(),
                }),
                Err(p) => problems.push(p),
            }
        }
        Ok(files)
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
