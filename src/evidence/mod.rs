//! `vouch evidence`: bundles an auditor can trust (assessment, redacted inputs, library,
//! provenance, waivers, OSCAL, a manifest of digests, an ed25519 signature), their
//! verification, and a git locker that shows a control operating over an audit period.
//! See docs/evidence.md.

pub mod bundle;
pub mod locker;
pub mod manifest;
pub mod oscal;
pub mod read;
pub mod redact;
pub mod sign;
pub mod verify;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::app::exit;
use crate::assessment::Selection;
use crate::check::{self, CheckOptions};
use crate::error::Problem;
use crate::report::{self, Format};

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (UTC) into seconds since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once('T')?;
    let time = time.strip_suffix('Z')?;
    let days = crate::dates::parse_date(date)?;
    let mut parts = time.splitn(3, ':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let sec: i64 = parts.next()?.parse().ok()?;
    if time.len() != 8 || !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&sec)
    {
        return None;
    }
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

use crate::app::fail;

/// Options of `vouch evidence bundle`.
#[derive(Debug, Clone)]
pub struct BundleArgs {
    pub path: PathBuf,
    pub out: PathBuf,
    pub archive: Option<PathBuf>,
    pub sign_key: Option<PathBuf>,
    pub locker: Option<PathBuf>,
    pub as_of: Option<String>,
    pub force: bool,
    /// For tests and backfills: the collection time (`YYYY-MM-DDTHH:MM:SSZ`) instead of now.
    pub collected_at: Option<String>,
    /// A `vouch serve` decision log to carry in the bundle (its chain must hold).
    pub decision_log: Option<PathBuf>,
    /// Terraform values (`--var-file`, `--var`).
    pub terraform: crate::check::TerraformInputs,
    /// How long to wait for other collections to release the locker.
    pub locker_wait: std::time::Duration,
}

/// `vouch evidence bundle`: exit 0 when the bundle was written (whatever the findings), 2 when
/// the run or the writing failed (then no bundle is left behind).
pub fn cmd_bundle(args: &BundleArgs) -> u8 {
    let secs = match &args.collected_at {
        Some(t) => match parse_time(t) {
            Some(s) => s,
            None => {
                return fail(&[
                    Problem::config(format!("`{t}` is not a collection time"), None)
                        .with_help("write it as YYYY-MM-DDTHH:MM:SSZ (UTC)"),
                ]);
            }
        },
        None => now(),
    };
    let collected_at = crate::git::format_time(secs);
    let as_of = match &args.as_of {
        Some(_) => match crate::app::as_of_days(args.as_of.as_deref()) {
            Ok(d) => d,
            Err(p) => return fail(&[p]),
        },
        None => secs.div_euclid(86_400),
    };
    let mut pre: Vec<Problem> = crate::app::not_a_directory(&args.path)
        .into_iter()
        .collect();
    pre.extend(crate::app::missing_inputs(
        "sign-key",
        args.sign_key.as_deref(),
    ));
    pre.extend(crate::app::missing_inputs(
        "decision-log",
        args.decision_log.as_deref(),
    ));
    pre.extend(crate::app::missing_inputs(
        "var-file",
        args.terraform.var_files.iter().map(PathBuf::as_path),
    ));
    if !pre.is_empty() {
        return fail(&pre);
    }
    let key = match &args.sign_key {
        Some(p) => match sign::read_private(p) {
            Ok(k) => Some(k),
            Err(e) => return fail(&[e]),
        },
        None => None,
    };
    if args.out.exists() && !args.force {
        return fail(&[
            Problem::config(format!("`{}` already exists", args.out.display()), None)
                .with_help("choose a new directory, or pass --force to replace it"),
        ]);
    }
    let run = check::run(&CheckOptions {
        root: check::root_of(&args.path),
        as_of_days: as_of,
        selection: Selection::default(),
        terraform: args.terraform.clone(),
        keep_attributes: false,
    });
    if !run.problems.is_empty() || run.assessment.run_failed() {
        report::emit_err("the check failed; no evidence bundle was written\n");
        return fail(&run.problems);
    }
    let source = match crate::git::work_tree(&args.path) {
        Ok(s) => s,
        Err(p) => return fail(&[p]),
    };
    // A decision log is carried only when its chain holds.
    let decision_log = match args
        .decision_log
        .as_deref()
        .map(crate::serve::decision_log::read_verified)
    {
        Some(Ok(bytes)) => Some(bytes),
        Some(Err(p)) => return fail(&[p]),
        None => None,
    };
    let files = match bundle::assemble(&bundle::Collection {
        run: &run,
        source: source.as_ref(),
        collected_at: &collected_at,
        key: key.as_ref(),
        decision_log: decision_log.as_deref(),
    }) {
        Ok(f) => f,
        Err(p) => return fail(&[p]),
    };
    // Everything is staged first; only once the locker (if any) has the commit are the bundle
    // directory and the archive put in place, so a run that fails leaves no bundle behind.
    let staged = match bundle::stage_dir(&args.out, &files, args.force) {
        Ok(s) => s,
        Err(p) => return fail(&[p]),
    };
    let archive = match &args.archive {
        Some(path) => {
            let root = args
                .out
                .file_name()
                .map_or_else(|| "bundle".to_owned(), |n| n.to_string_lossy().into_owned());
            match bundle::archive(&files, &root) {
                Ok(bytes) => Some((path, bytes)),
                Err(p) => return fail(&[p]),
            }
        }
        None => None,
    };
    let digest = files
        .get(manifest::MANIFEST)
        .and_then(|b| serde_json::from_slice::<manifest::Manifest>(b).ok())
        .map(|m| m.manifest_digest)
        .unwrap_or_default();
    let mut locker_line = None;
    let _held = match &args.locker {
        Some(locker_path) => {
            let held = match locker::Held::acquire(locker_path, args.locker_wait) {
                Ok(h) => h,
                Err(p) => return fail(&[p]),
            };
            let src = source.as_ref().map(bundle::SourceInfo::of);
            let msg = locker::message(&run.assessment, src.as_ref(), &collected_at, &digest);
            match held.commit(&files, &collected_at, secs, &msg) {
                Ok((id, dir)) => {
                    locker_line = Some(format!(
                        "locker {}: commit {} adds {dir}\n",
                        locker_path.display(),
                        id.get(..12).unwrap_or(&id)
                    ));
                }
                Err(p) => return fail(&[p]),
            }
            Some(held)
        }
        None => None,
    };
    if let Some((path, bytes)) = &archive
        && let Err(e) = report::write_atomic(path, bytes)
    {
        return fail(&[Problem::write(path.display().to_string(), &e)]);
    }
    if let Err(p) = staged.publish() {
        if let Some((path, _)) = &archive {
            let _ = std::fs::remove_file(path);
        }
        return fail(&[p]);
    }
    let mut out = format!(
        "evidence bundle {}: {} files, manifest {digest}{}\n",
        args.out.display(),
        files.len(),
        if key.is_some() { ", signed" } else { "" }
    );
    if let Some((path, _)) = &archive {
        out.push_str(&format!("archive {}\n", path.display()));
    }
    if let Some(line) = locker_line {
        out.push_str(&line);
    }
    if source.as_ref().is_some_and(|w| w.dirty) {
        report::emit_err(
            "warning: the work tree has uncommitted changes; the bundle records dirty = true\n",
        );
    }
    let r = &run.assessment.summary.results;
    out.push_str(&format!(
        "results: {} pass, {} fail, {} error, {} waived, {} not applicable\n",
        r.pass, r.fail, r.error, r.waived, r.not_applicable
    ));
    report::emit(&out);
    exit::CLEAN
}

/// Options of `vouch evidence verify`.
#[derive(Debug, Clone)]
pub struct VerifyArgs {
    pub bundle: PathBuf,
    pub key: Option<PathBuf>,
    pub format: Format,
}

/// `vouch evidence verify`: exit 0 when everything holds, 1 when the bundle was tampered
/// with (or a required signature is missing or wrong), 2 when it cannot be read.
pub fn cmd_verify(args: &VerifyArgs) -> u8 {
    let mut missing = crate::app::missing_inputs("key", args.key.as_deref());
    if !args.bundle.exists() {
        let help = crate::app::close_siblings(&args.bundle).unwrap_or_else(|| {
            "pass the bundle directory, its .tar.gz, or a decision log (.jsonl)".to_owned()
        });
        missing.insert(
            0,
            Problem::config(format!("`{}` does not exist", args.bundle.display()), None)
                .with_help(help),
        );
    }
    if !missing.is_empty() {
        return fail(&missing);
    }
    // A `vouch serve` decision log on its own: its hash chain.
    if crate::serve::decision_log::is_log(&args.bundle) {
        return crate::serve::decision_log::cmd_verify(&args.bundle, args.format);
    }
    let key = match &args.key {
        Some(p) => match sign::read_public(p) {
            Ok(k) => Some(k),
            Err(e) => return fail(&[e]),
        },
        None => None,
    };
    let read = match read::read(&args.bundle) {
        Ok(f) => f,
        Err(p) => return fail(&[p]),
    };
    if read.files.is_empty() && read.rejected.is_empty() && read.directories.is_empty() {
        return fail(&[Problem::config(
            format!(
                "`{}` is empty: not an evidence bundle",
                args.bundle.display()
            ),
            None,
        )]);
    }
    let mut v = verify::verify(&read, key.as_ref());
    v.decision_log = crate::serve::decision_log::verify_in_bundle(&read.files);
    match args.format {
        Format::Json => report::emit(&report::to_json(&serde_json::json!({
            "schema_version": 1,
            "bundle": args.bundle.display().to_string(),
            "verified": v.holds(),
            "result": v,
        }))),
        Format::Human => report::emit(&verify::render(&args.bundle.display().to_string(), &v)),
    }
    if v.holds() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    }
}

/// Options of `vouch evidence keygen`.
#[derive(Debug, Clone)]
pub struct KeygenArgs {
    /// Writes `<out>.key` (private, mode 0600) and `<out>.pub`.
    pub out: PathBuf,
    pub force: bool,
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn write_private(path: &Path, text: &str, force: bool) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Creates the missing directories above a key file, the last ones readable by the owner only.
fn create_key_dir(key: &Path) -> std::io::Result<()> {
    let Some(dir) = key.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// `vouch evidence keygen`.
pub fn cmd_keygen(args: &KeygenArgs) -> u8 {
    let private = with_suffix(&args.out, ".key");
    let public = with_suffix(&args.out, ".pub");
    if !args.force {
        for p in [&private, &public] {
            if p.exists() {
                return fail(&[
                    Problem::config(format!("`{}` already exists", p.display()), None)
                        .with_help("pass --force to replace the key pair"),
                ]);
            }
        }
    }
    // `--out ../keys/evidence`: the keys directory is created (owner-only: it holds a secret).
    if let Err(e) = create_key_dir(&private) {
        return fail(&[Problem::write(private.display().to_string(), &e)]);
    }
    let key = sign::generate();
    let pems = sign::private_pem(&key)
        .and_then(|k| sign::public_pem(&key.verifying_key()).map(|p| (k, p)));
    let (private_text, public_text) = match pems {
        Ok(t) => t,
        Err(p) => return fail(&[p]),
    };
    if let Err(e) = write_private(&private, &private_text, args.force) {
        return fail(&[Problem::write(private.display().to_string(), &e)]);
    }
    if let Err(e) = report::write_atomic(&public, public_text.as_bytes()) {
        return fail(&[Problem::write(public.display().to_string(), &e)]);
    }
    report::emit(&format!(
        "private key {} (keep it secret)\npublic key  {} (give it to your auditor)\nkey id      {}\n",
        private.display(),
        public.display(),
        sign::key_id(&key.verifying_key())
    ));
    exit::CLEAN
}

/// Options of `vouch evidence log`.
#[derive(Debug, Clone)]
pub struct LogArgs {
    pub locker: PathBuf,
    pub controls: Vec<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub max_gap_days: u32,
    pub format: Format,
}

/// `vouch evidence log`: exit 0 when the period has no gap and no failing control, 1 when it
/// has, 2 when the locker cannot be read.
pub fn cmd_log(args: &LogArgs) -> u8 {
    let date = |flag: &str, v: &Option<String>| -> Result<Option<i64>, Problem> {
        match v {
            None => Ok(None),
            Some(s) => crate::dates::parse_date(s).map(Some).ok_or_else(|| {
                Problem::config(format!("`--{flag} {s}` is not a date"), None)
                    .with_help("write it as YYYY-MM-DD")
            }),
        }
    };
    let (since, until) = match (date("since", &args.since), date("until", &args.until)) {
        (Ok(s), Ok(u)) => (s, u),
        (Err(p), _) | (_, Err(p)) => return fail(&[p]),
    };
    let q = locker::LogQuery {
        controls: args.controls.clone(),
        since,
        until,
        max_gap_days: i64::from(args.max_gap_days),
    };
    let log = match locker::log(&args.locker, &q) {
        Ok(l) => l,
        Err(p) => return fail(&[p]),
    };
    match args.format {
        Format::Json => report::emit(&report::to_json(&log)),
        Format::Human => report::emit(&locker::render(&log)),
    }
    if log.clean() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn collection_times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            crate::git::format_time(parse_time("2026-01-05T10:00:00Z").unwrap()),
            "2026-01-05T10:00:00Z"
        );
        assert_eq!(parse_time("2026-01-05T10:00:00"), None);
        assert_eq!(parse_time("2026-01-05T25:00:00Z"), None);
    }
}
