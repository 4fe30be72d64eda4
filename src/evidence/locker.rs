//! The evidence locker: a plain git repository (through git2) in which each collection is one
//! commit under `collections/<YYYY-MM-DD>T<HHMMSS>Z/`, and the log an auditor samples: each
//! control's status at every collection, gaps between collections, periods of failure.
//!
//! Collections may run at the same time (several CI jobs, one locker): each takes an exclusive
//! lock on the locker directory (`flock`) before it reads HEAD, waiting a bounded time, and
//! two collections of the same second get distinct directories (`…Z`, `…Z-2`, …).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::bundle::{Files, ProvenanceFile, SourceInfo};
use crate::assessment::Assessment;
use crate::error::Problem;
use crate::git::Locker;

/// The directory of the locker that holds the collections.
pub const COLLECTIONS: &str = "collections";

/// The directory name of a collection: `2026-01-05T100000Z` for `2026-01-05T10:00:00Z`.
pub fn stamp(collected_at: &str) -> String {
    collected_at.replace(':', "")
}

/// The commit message: the collection, its source, and pass/fail per framework.
pub fn message(
    a: &Assessment,
    source: Option<&SourceInfo>,
    collected_at: &str,
    digest: &str,
) -> String {
    let mut s = format!("evidence {collected_at}");
    if let Some(src) = source {
        let _ = write!(
            s,
            ": {} at {}{}",
            src.path,
            src.commit
                .as_deref()
                .map_or("no commit", |c| c.get(..12).unwrap_or(c)),
            if src.dirty { " (dirty)" } else { "" }
        );
    }
    s.push_str("\n\n");
    for (id, fw) in &a.summary.frameworks {
        let _ = writeln!(
            s,
            "{} ({id}): {} of {} requirements pass, {} fail{}",
            fw.name,
            fw.requirements_checked - fw.requirements_failing,
            fw.requirements_checked,
            fw.requirements_failing,
            if fw.failing.is_empty() {
                String::new()
            } else {
                format!(" ({})", fw.failing.join(", "))
            }
        );
    }
    let r = &a.summary.results;
    let _ = writeln!(
        s,
        "results: {} pass, {} fail, {} error, {} waived, {} not applicable",
        r.pass, r.fail, r.error, r.waived, r.not_applicable
    );
    let _ = writeln!(s, "manifest: {digest}");
    s
}

/// How long a collection waits, by default, for others to release the locker.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(300);

/// The most collections one second can hold (`…Z` to `…Z-1000`).
const MAX_SAME_SECOND: u32 = 1000;

/// An exclusive hold on a locker (released when dropped, or when the process ends, however it
/// ends: the kernel drops the lock with the file descriptor).
#[derive(Debug)]
pub struct Held {
    path: PathBuf,
    _lock: std::fs::File,
}

impl Held {
    /// Takes the locker at `path` (creating its directory when absent), waiting at most
    /// `wait` for another collection to release it.
    pub fn acquire(path: &Path, wait: Duration) -> Result<Held, Problem> {
        let io = |e: &std::io::Error| Problem::io(path.display().to_string(), e);
        if !path.exists() {
            std::fs::create_dir_all(path).map_err(|e| io(&e))?;
        }
        // The directory itself is locked: no lock file to leave behind or to commit.
        let file = std::fs::File::open(path).map_err(|e| io(&e))?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(Held {
                        path: path.to_path_buf(),
                        _lock: file,
                    });
                }
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(io(&e)),
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Err(Problem::config(
                    format!(
                        "the evidence locker `{}` is busy: another collection held it for the {} s this run waited",
                        path.display(),
                        waited.as_secs()
                    ),
                    None,
                )
                .with_help(
                    "no bundle was written; run again once the other collection ends, or wait longer with --locker-timeout SECONDS",
                ));
            }
            std::thread::sleep(pause.min(wait.saturating_sub(waited)));
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    /// Commits a bundle as one commit dated at the collection time, in the first free
    /// directory of its second. Returns the commit id and the collection directory.
    pub fn commit(
        &self,
        files: &Files,
        collected_at: &str,
        time: i64,
        message: &str,
    ) -> Result<(String, String), Problem> {
        let locker = Locker::open_or_init(&self.path)?;
        let base = format!("{COLLECTIONS}/{}", stamp(collected_at));
        let dir = (1..=MAX_SAME_SECOND)
            .map(|n| match n {
                1 => base.clone(),
                n => format!("{base}-{n}"),
            })
            .find(|d| !locker.head_has(d))
            .ok_or_else(|| {
                Problem::config(
                    format!(
                        "the locker already holds {MAX_SAME_SECOND} collections at {collected_at}"
                    ),
                    None,
                )
            })?;
        let entries: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|(rel, data)| (format!("{dir}/{rel}"), data.clone()))
            .collect();
        let id = locker.commit_files(&entries, message, time)?;
        Ok((id, dir))
    }
}

/// What `vouch evidence log` reports on.
#[derive(Debug, Clone)]
pub struct LogQuery {
    pub controls: Vec<String>,
    /// Days since the epoch, inclusive.
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub max_gap_days: i64,
}

/// One collection of the period.
#[derive(Debug, Clone, Serialize)]
pub struct CollectionRow {
    pub dir: String,
    pub collected_at: String,
    /// The locker commit that added it.
    pub locker_commit: String,
    pub source_commit: Option<String>,
    pub dirty: Option<bool>,
}

/// Days without a collection longer than the allowed interval.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    /// `start` (period start to the first collection), `between`, or `end`.
    pub kind: &'static str,
    pub from: String,
    pub to: String,
    pub days: i64,
}

/// A control's status at one collection.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub collected_at: String,
    /// `pass`, `fail`, `error`, `waived`, `not_applicable`, or `absent` (not evaluated).
    pub status: String,
}

/// A run of consecutive collections at which a control failed (or errored).
#[derive(Debug, Clone, Serialize)]
pub struct FailingPeriod {
    /// The first failing collection.
    pub from: String,
    /// The first collection at which it no longer failed (`None`: still failing at the last
    /// collection of the period).
    pub to: Option<String>,
    pub collections: usize,
}

/// One control over the period.
#[derive(Debug, Clone, Serialize)]
pub struct ControlTimeline {
    pub control: String,
    pub title: String,
    pub statuses: Vec<Point>,
    pub failing_periods: Vec<FailingPeriod>,
}

/// The whole log.
#[derive(Debug, Clone, Serialize)]
pub struct Log {
    pub schema_version: u32,
    pub locker: String,
    pub since: Option<String>,
    pub until: Option<String>,
    pub max_gap_days: i64,
    pub collections: Vec<CollectionRow>,
    /// Collections whose time or assessment cannot be read: listed, never silently dropped
    /// (the log is then not clean).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
    pub gaps: Vec<Gap>,
    pub controls: Vec<ControlTimeline>,
}

/// A collection of the locker the log could not read, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unreadable {
    pub dir: String,
    pub reason: String,
}

impl Log {
    /// True when there is no gap, no unreadable collection and no control failed in the period.
    pub fn clean(&self) -> bool {
        self.gaps.is_empty()
            && self.unreadable.is_empty()
            && self.controls.iter().all(|c| c.failing_periods.is_empty())
    }
}

/// `--control` ids that no collection of the locker holds (a typo would print an empty
/// timeline): one problem naming them, with the closest ids. Nothing to check in an empty locker.
fn unknown_controls(collected: &[Collected], wanted: &[String]) -> Option<Problem> {
    let known: BTreeSet<&str> = collected
        .iter()
        .flat_map(|c| c.controls.keys().map(String::as_str))
        .collect();
    if known.is_empty() {
        return None;
    }
    let known: Vec<&str> = known.into_iter().collect();
    let unknown: Vec<&String> = wanted
        .iter()
        .filter(|w| !known.contains(&w.as_str()))
        .collect();
    if unknown.is_empty() {
        return None;
    }
    let names: Vec<String> = unknown.iter().map(|u| format!("`{u}`")).collect();
    let hints: Vec<String> = unknown
        .iter()
        .filter_map(|u| crate::error::did_you_mean(u, &known).map(|d| format!("for `{u}`, {d}")))
        .collect();
    let help = if hints.is_empty() {
        "`vouch evidence log --locker … --format json` lists the controls each collection holds"
            .to_owned()
    } else {
        hints.join("; ")
    };
    Some(
        Problem::config(
            format!(
                "no collection of the locker holds control {}",
                names.join(", ")
            ),
            None,
        )
        .with_help(help),
    )
}

fn aggregate(statuses: &[&str]) -> &'static str {
    let has = |s: &str| statuses.contains(&s);
    if has("error") {
        "error"
    } else if has("fail") {
        "fail"
    } else if has("waived") {
        "waived"
    } else if has("pass") {
        "pass"
    } else {
        "not_applicable"
    }
}

struct Collected {
    row: CollectionRow,
    secs: i64,
    /// control → (title, status)
    controls: BTreeMap<String, (String, &'static str)>,
}

/// Reads the locker's history and builds the log.
pub fn log(path: &Path, q: &LogQuery) -> Result<Log, Problem> {
    let locker = Locker::open(path)?;
    let entries = locker.collections(COLLECTIONS, &["assessment.json", "provenance.json"])?;
    let mut collected = Vec::new();
    let mut unreadable = Vec::new();
    for e in entries {
        let prov: Option<ProvenanceFile> = e
            .files
            .get("provenance.json")
            .and_then(|b| serde_json::from_slice(b).ok());
        let collected_at = prov
            .as_ref()
            .map_or_else(|| e.dir.clone(), |p| p.collected_at.clone());
        let Some(secs) = super::parse_time(&collected_at) else {
            unreadable.push(Unreadable {
                dir: format!("{COLLECTIONS}/{}", e.dir),
                reason: format!("its collection time `{collected_at}` cannot be read"),
            });
            continue;
        };
        let mut per: BTreeMap<String, (String, Vec<&'static str>)> = BTreeMap::new();
        let assessment: serde_json::Value = match e
            .files
            .get("assessment.json")
            .map(|b| serde_json::from_slice::<serde_json::Value>(b))
        {
            Some(Ok(a)) => a,
            Some(Err(err)) => {
                unreadable.push(Unreadable {
                    dir: format!("{COLLECTIONS}/{}", e.dir),
                    reason: format!("its assessment.json is not valid JSON: {err}"),
                });
                continue;
            }
            None => {
                unreadable.push(Unreadable {
                    dir: format!("{COLLECTIONS}/{}", e.dir),
                    reason: "it holds no assessment.json".to_owned(),
                });
                continue;
            }
        };
        for r in assessment["results"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let (Some(c), Some(s)) = (r["control"].as_str(), r["status"].as_str()) else {
                continue;
            };
            let s: &'static str = match s {
                "pass" => "pass",
                "fail" => "fail",
                "error" => "error",
                "waived" => "waived",
                _ => "not_applicable",
            };
            let entry = per.entry(c.to_owned()).or_insert_with(|| {
                (
                    r["title"].as_str().unwrap_or_default().to_owned(),
                    Vec::new(),
                )
            });
            entry.1.push(s);
        }
        let controls = per
            .into_iter()
            .map(|(c, (t, ss))| (c, (t, aggregate(&ss))))
            .collect();
        collected.push(Collected {
            row: CollectionRow {
                dir: format!("{COLLECTIONS}/{}", e.dir),
                collected_at,
                locker_commit: e.commit,
                source_commit: prov
                    .as_ref()
                    .and_then(|p| p.source.as_ref())
                    .and_then(|s| s.commit.clone()),
                dirty: prov
                    .as_ref()
                    .and_then(|p| p.source.as_ref())
                    .map(|s| s.dirty),
            },
            secs,
            controls,
        });
    }
    collected.sort_by(|a, b| (a.secs, &a.row.dir).cmp(&(b.secs, &b.row.dir)));
    if let Some(p) = unknown_controls(&collected, &q.controls) {
        return Err(p);
    }
    let day = |secs: i64| secs.div_euclid(86_400);
    collected.retain(|c| {
        q.since.is_none_or(|s| day(c.secs) >= s) && q.until.is_none_or(|u| day(c.secs) <= u)
    });
    // Gaps.
    let mut gaps = Vec::new();
    let fmt_day = crate::dates::format_days;
    let n = q.max_gap_days;
    match (collected.first(), collected.last()) {
        (Some(first), Some(last)) => {
            if let Some(s) = q.since
                && day(first.secs) - s > n
            {
                gaps.push(Gap {
                    kind: "start",
                    from: fmt_day(s),
                    to: first.row.collected_at.clone(),
                    days: day(first.secs) - s,
                });
            }
            for w in collected.windows(2) {
                let days = day(w[1].secs) - day(w[0].secs);
                if days > n {
                    gaps.push(Gap {
                        kind: "between",
                        from: w[0].row.collected_at.clone(),
                        to: w[1].row.collected_at.clone(),
                        days,
                    });
                }
            }
            if let Some(u) = q.until
                && u - day(last.secs) > n
            {
                gaps.push(Gap {
                    kind: "end",
                    from: last.row.collected_at.clone(),
                    to: fmt_day(u),
                    days: u - day(last.secs),
                });
            }
        }
        _ => {
            if let (Some(s), Some(u)) = (q.since, q.until)
                && u - s > n
            {
                gaps.push(Gap {
                    kind: "between",
                    from: fmt_day(s),
                    to: fmt_day(u),
                    days: u - s,
                });
            }
        }
    }
    // Controls.
    let mut titles: BTreeMap<&str, &str> = BTreeMap::new();
    for c in &collected {
        for (id, (title, _)) in &c.controls {
            titles.entry(id.as_str()).or_insert(title.as_str());
        }
    }
    let mut controls = Vec::new();
    for (id, title) in titles {
        if !q.controls.is_empty() && !q.controls.iter().any(|c| c == id) {
            continue;
        }
        let mut statuses = Vec::new();
        let mut periods: Vec<FailingPeriod> = Vec::new();
        let mut open: Option<FailingPeriod> = None;
        for c in &collected {
            let status = c.controls.get(id).map_or("absent", |(_, s)| *s);
            statuses.push(Point {
                collected_at: c.row.collected_at.clone(),
                status: status.to_owned(),
            });
            let failing = status == "fail" || status == "error";
            match (&mut open, failing) {
                (Some(p), true) => p.collections += 1,
                (None, true) => {
                    open = Some(FailingPeriod {
                        from: c.row.collected_at.clone(),
                        to: None,
                        collections: 1,
                    });
                }
                (Some(_), false) => {
                    if let Some(mut p) = open.take() {
                        p.to = Some(c.row.collected_at.clone());
                        periods.push(p);
                    }
                }
                (None, false) => {}
            }
        }
        periods.extend(open);
        controls.push(ControlTimeline {
            control: id.to_owned(),
            title: title.to_owned(),
            statuses,
            failing_periods: periods,
        });
    }
    Ok(Log {
        schema_version: 1,
        locker: path.display().to_string(),
        since: q.since.map(fmt_day),
        until: q.until.map(fmt_day),
        max_gap_days: n,
        collections: collected.into_iter().map(|c| c.row).collect(),
        unreadable,
        gaps,
        controls,
    })
}

/// The log for people.
pub fn render(log: &Log) -> String {
    let mut s = String::new();
    let period = match (&log.since, &log.until) {
        (None, None) => "all time".to_owned(),
        (a, b) => format!(
            "{} to {}",
            a.as_deref().unwrap_or("the first collection"),
            b.as_deref().unwrap_or("the last collection")
        ),
    };
    let _ = writeln!(
        s,
        "evidence locker {}: {} collections, {period}",
        log.locker,
        log.collections.len()
    );
    for c in &log.collections {
        let _ = writeln!(
            s,
            "  {}  source {}{}  (locker commit {})",
            c.collected_at,
            c.source_commit
                .as_deref()
                .map_or("-", |x| x.get(..12).unwrap_or(x)),
            if c.dirty == Some(true) { " dirty" } else { "" },
            c.locker_commit.get(..12).unwrap_or(&c.locker_commit)
        );
    }
    if !log.unreadable.is_empty() {
        let _ = writeln!(s, "\ncollections that cannot be read (not counted):");
        for u in &log.unreadable {
            let _ = writeln!(s, "  UNREADABLE {}: {}", u.dir, u.reason);
        }
    }
    if log.gaps.is_empty() {
        let _ = writeln!(
            s,
            "\nno gap longer than {} days between collections",
            log.max_gap_days
        );
    } else {
        let _ = writeln!(s, "\ngaps longer than {} days:", log.max_gap_days);
        for g in &log.gaps {
            let _ = writeln!(
                s,
                "  GAP {} → {}: {} days without a collection",
                g.from, g.to, g.days
            );
        }
    }
    let _ = writeln!(s, "\ncontrols (status at each collection):");
    let width = log
        .controls
        .iter()
        .map(|c| c.control.len())
        .max()
        .unwrap_or(0);
    for c in &log.controls {
        let line: Vec<&str> = c
            .statuses
            .iter()
            .map(|p| match p.status.as_str() {
                "pass" => "pass",
                "fail" => "FAIL",
                "error" => "ERROR",
                "waived" => "waived",
                "absent" => "-",
                _ => "n/a",
            })
            .collect();
        let _ = writeln!(s, "  {:width$}  {}", c.control, line.join(" "));
        for p in &c.failing_periods {
            let _ = writeln!(
                s,
                "  {:width$}    failed from {} {} ({} collections)",
                "",
                p.from,
                p.to.as_deref().map_or(
                    "and still failing at the last collection".to_owned(),
                    |t| format!("until {t}")
                ),
                p.collections
            );
        }
    }
    let failing = log
        .controls
        .iter()
        .filter(|c| !c.failing_periods.is_empty())
        .count();
    let _ = writeln!(
        s,
        "\n{} gaps, {failing} controls failed during the period{}",
        log.gaps.len(),
        if log.unreadable.is_empty() {
            String::new()
        } else {
            format!(", {} collections unreadable", log.unreadable.len())
        }
    );
    s
}
