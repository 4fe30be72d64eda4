//! What the server answers from: a loaded tree (decider, review, controls), swapped whole on
//! reload, and the watch that reloads it on SIGHUP, on a file change and at midnight UTC.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::access::{self, Decider};
use crate::assessment::{Provenance, Selection};
use crate::check::{self, CheckOptions};
use crate::error::Problem;

/// One loaded tree: everything the endpoints answer from.
pub struct State {
    pub decider: Arc<Decider>,
    /// `GET /v1/access/review`: the JSON of `vouch access review --format json`.
    pub review: Vec<u8>,
    /// `GET /v1/controls`: the JSON of `vouch controls list --format json`.
    pub controls: Vec<u8>,
    /// When it was loaded (seconds since the epoch).
    pub loaded_at: u64,
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Loads the tree at `path` for `as_of`: decisions, the review and the control list, from one
/// read of the files.
pub fn load(path: &Path, as_of: i64) -> Result<State, Vec<Problem>> {
    let l = access::decider::load(path, as_of)?;
    let digest = access::decider::digest_of(&l.files);
    let library_controls: Vec<String> = l
        .library
        .controls
        .values()
        .filter(|c| access::REVIEW_FAMILIES.contains(&c.family.as_str()) && c.automated)
        .map(|c| c.id.clone())
        .collect();
    let controls = crate::report::to_json(&serde_json::json!({
        "schema_version": 1,
        "controls": l.library.controls.values().collect::<Vec<_>>(),
    }))
    .into_bytes();
    let opts = CheckOptions {
        root: path.to_path_buf(),
        as_of_days: as_of,
        selection: Selection {
            frameworks: Vec::new(),
            controls: library_controls,
            findings_only: true,
        },
        terraform: check::TerraformInputs::default(),
        keep_attributes: true,
    };
    let provenance = Provenance {
        tool: "vouch".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        library_digest: l.library.digest.clone(),
        root: path.display().to_string(),
        revision: None,
        as_of: crate::dates::format_days(as_of),
    };
    let all: Vec<usize> = (0..l.loaded.resources.len()).collect();
    let evaluations = l.compiled.evaluate_unordered(&l.loaded.resources, &all);
    let run = check::assess(
        l.loaded,
        &l.files,
        l.config.clone(),
        l.library,
        Some(evaluations),
        Vec::new(),
        provenance,
        &opts,
        false,
    );
    let review = crate::report::to_json(&access::review_of(&run, as_of)).into_bytes();
    let check::CheckRun {
        library, resources, ..
    } = run;
    let decider = Decider::build(l.compiled, library, &resources, &l.config, as_of, digest)?;
    Ok(State {
        decider: Arc::new(decider),
        review,
        controls,
        loaded_at: now_secs(),
    })
}

/// The outcome of the last reload attempt.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// The problems of the last reload that failed (the previous state is still served).
    pub problems: Vec<String>,
    pub reloads_ok: u64,
    pub reloads_failed: u64,
}

/// The served state and its health, shared by every connection.
pub struct Shared {
    pub path: PathBuf,
    /// `--as-of`: decisions on a fixed date; `None` follows the calendar (UTC).
    pub fixed_as_of: Option<i64>,
    state: RwLock<Arc<State>>,
    pub health: Mutex<Health>,
    /// Deciders for other `as_of` dates asked for, newest last (at most four kept).
    others: Mutex<Vec<(i64, String, Arc<Decider>)>>,
}

impl Shared {
    pub fn new(path: PathBuf, fixed_as_of: Option<i64>, state: State) -> Shared {
        Shared {
            path,
            fixed_as_of,
            state: RwLock::new(Arc::new(state)),
            health: Mutex::new(Health::default()),
            others: Mutex::new(Vec::new()),
        }
    }

    /// The state being served.
    pub fn current(&self) -> Arc<State> {
        Arc::clone(&self.state.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The date decisions are made on when a request names none.
    pub fn as_of(&self) -> i64 {
        self.fixed_as_of.unwrap_or_else(crate::dates::today)
    }

    /// Loads the tree again and swaps it in; on failure the previous state stays and the
    /// problems are kept for `/readyz`. Returns the problems, if any.
    pub fn reload(&self) -> Result<(), Vec<String>> {
        match load(&self.path, self.as_of()) {
            Ok(state) => {
                *self.state.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(state);
                self.others
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clear();
                let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
                h.problems.clear();
                h.reloads_ok += 1;
                Ok(())
            }
            Err(problems) => {
                let texts: Vec<String> = problems.iter().map(problem_line).collect();
                let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
                h.problems.clone_from(&texts);
                h.reloads_failed += 1;
                Err(texts)
            }
        }
    }

    /// A decider for another date: the same tree read again for `as_of` (kept for reuse
    /// while the inventory does not change).
    pub fn decider_on(&self, as_of: i64) -> Result<Arc<Decider>, Vec<Problem>> {
        let current = self.current();
        if current.decider.as_of() == as_of {
            return Ok(Arc::clone(&current.decider));
        }
        let digest = current.decider.digest().to_owned();
        {
            let others = self.others.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((_, _, d)) = others.iter().find(|(d, g, _)| *d == as_of && *g == digest) {
                return Ok(Arc::clone(d));
            }
        }
        let decider = Arc::new(Decider::load(&self.path, as_of)?);
        let mut others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        others.push((as_of, digest, Arc::clone(&decider)));
        if others.len() > 4 {
            others.remove(0);
        }
        Ok(decider)
    }
}

/// A problem on one line, with its file and line when it has them (for logs and `/readyz`).
pub fn problem_line(p: &Problem) -> String {
    let at = match (&p.file, p.line) {
        (Some(f), Some(l)) => format!("{f}:{l}: "),
        (Some(f), None) => format!("{f}: "),
        _ => String::new(),
    };
    let help = p
        .help
        .as_deref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    format!("{at}{}{help}", p.message)
}

/// Size and modification time of every file under `root` (skipped directories as the walk
/// skips them): a change to any file, an added or a removed one changes it.
/// Files in `ignore` (the decision log, when it lies in the tree) are left out.
pub fn fingerprint(root: &Path, ignore: &[PathBuf]) -> Fingerprint {
    walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !e
                    .file_name()
                    .to_str()
                    .is_some_and(|n| crate::source::SKIPPED_DIRS.contains(&n))
        })
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .filter(|e| {
            ignore.is_empty() || !e.path().canonicalize().is_ok_and(|p| ignore.contains(&p))
        })
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path().to_path_buf(), (m.len(), m.modified().ok())))
        })
        .collect()
}

/// Why a reload happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Signal,
    FileChange,
    NewDay,
}

/// The files' sizes and modification times (see [`fingerprint`]).
pub type Fingerprint = BTreeMap<PathBuf, (u64, Option<SystemTime>)>;

/// How the tree is watched: every `interval`, leaving out `ignore`, from `seen`: the
/// fingerprint taken *before* the served state was read, so that an edit made while it was
/// loading, or before the watch started, still reloads.
pub struct Watch {
    pub interval: Duration,
    pub ignore: Vec<PathBuf>,
    pub seen: Fingerprint,
}

impl Watch {
    /// Takes the fingerprint of `root` now: call it before the first load.
    pub fn before_load(root: &Path, interval: Duration, ignore: Vec<PathBuf>) -> Watch {
        let seen = fingerprint(root, &ignore);
        Watch {
            interval,
            ignore,
            seen,
        }
    }
}

/// Watches the tree every `watch.interval`: reloads when a file changed or the date (UTC)
/// moved on, and whenever a trigger arrives (SIGHUP). Runs until the channel closes.
pub fn watch(
    shared: &Arc<Shared>,
    watch: Watch,
    triggers: &std::sync::mpsc::Receiver<Trigger>,
    on_reload: impl Fn(Trigger, &Result<(), Vec<String>>),
) {
    let Watch {
        interval,
        ignore,
        mut seen,
    } = watch;
    let ignore = ignore.as_slice();
    let mut day = shared.as_of();
    loop {
        let trigger = match triggers.recv_timeout(interval) {
            Ok(t) => Some(t),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let now = fingerprint(&shared.path, ignore);
        let trigger = trigger.or_else(|| {
            if now != seen {
                Some(Trigger::FileChange)
            } else if shared.as_of() != day {
                Some(Trigger::NewDay)
            } else {
                None
            }
        });
        seen = now;
        if let Some(t) = trigger {
            day = shared.as_of();
            let outcome = shared.reload();
            on_reload(t, &outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const INVENTORY: &str = "[[user]]\nid = \"ana\"\nstatus = \"active\"\nmfa = true\n";

    /// An edit made after the state was read but before the watch took its first look (a
    /// slow thread start on a loaded machine) still reloads: the watch starts from the
    /// fingerprint taken before the load.
    #[test]
    fn an_edit_between_the_load_and_the_watch_start_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("inventory.toml");
        std::fs::write(&file, INVENTORY).unwrap();
        let watching = Watch::before_load(dir.path(), Duration::from_millis(20), Vec::new());
        let state = load(dir.path(), 20_600).unwrap();
        let shared = Arc::new(Shared::new(dir.path().to_path_buf(), Some(20_600), state));
        std::fs::write(&file, format!("{INVENTORY}\n[[user]\nid = ")).unwrap();

        let (trigger_tx, trigger_rx) = std::sync::mpsc::channel();
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let watched = Arc::clone(&shared);
        let watcher = std::thread::spawn(move || {
            watch(&watched, watching, &trigger_rx, |t, outcome| {
                let _ = seen_tx.send((t, outcome.is_ok()));
            });
        });
        let reload = seen_rx.recv_timeout(Duration::from_secs(30));
        drop(trigger_tx);
        watcher.join().unwrap();
        assert_eq!(reload, Ok((Trigger::FileChange, false)));
        let health = shared.health.lock().unwrap();
        assert!(
            health.problems.iter().any(|p| p.contains("inventory.toml")),
            "{:?}",
            health.problems
        );
    }
}
