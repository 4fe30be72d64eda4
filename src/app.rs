//! The commands, as library functions over plain option structs (the binary maps clap to these).
//! Each returns the process exit code; output goes through [`crate::report`].

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::assessment::Selection;
use crate::check::{self, CheckOptions};
use crate::config::Config;
use crate::error::{Problem, ProblemKind};
use crate::library::Severity;
use crate::report::{self, Format, human};

/// Exit codes shared by every command.
pub mod exit {
    /// Nothing at or above the threshold failed.
    pub const CLEAN: u8 = 0;
    /// Findings at or above the threshold (or a deny, a failed fixture).
    pub const FINDINGS: u8 = 1;
    /// The run itself failed: it never passes.
    pub const FAILED: u8 = 2;
}

/// Options of `vouch check`.
#[derive(Debug, Clone)]
pub struct CheckArgs {
    pub path: PathBuf,
    pub format: Format,
    pub frameworks: Vec<String>,
    pub controls: Vec<String>,
    pub fail_on: Option<Severity>,
    pub as_of: Option<String>,
    pub terraform: crate::check::TerraformInputs,
}

/// Parses `--as-of` (default: today, UTC).
pub fn as_of_days(as_of: Option<&str>) -> Result<i64, Problem> {
    match as_of {
        None => Ok(crate::dates::today()),
        Some(s) => crate::dates::parse_date(s).ok_or_else(|| {
            Problem::config(format!("`--as-of {s}` is not a date"), None)
                .with_help("write it as YYYY-MM-DD")
        }),
    }
}

/// `path` is not a directory: a problem (every tree command scans a directory).
pub fn not_a_directory(path: &std::path::Path) -> Option<Problem> {
    (!path.is_dir())
        .then(|| Problem::config(format!("`{}` is not a directory", path.display()), None))
}

/// The checks a tree command makes before it runs, after `pre` (its own argument problems):
/// `--as-of` parses and the path is a directory. The evaluation date, or every problem found.
pub fn preflight(
    mut pre: Vec<Problem>,
    as_of: Option<&str>,
    path: &std::path::Path,
) -> Result<i64, Vec<Problem>> {
    let as_of = as_of_days(as_of).map_err(|p| pre.push(p));
    pre.extend(not_a_directory(path));
    match as_of {
        Ok(d) if pre.is_empty() => Ok(d),
        _ => Err(pre),
    }
}

/// Reports problems on stderr and returns the exit code of a failed run.
pub fn fail(problems: &[Problem]) -> u8 {
    report::emit_err(&human::render_problems(problems, human::Style::stderr()));
    exit::FAILED
}

/// Checks unknown framework and control names before running.
fn validate_selection(args: &CheckArgs) -> Vec<Problem> {
    let known = ["soc2", "soc3", "iso27001", "hipaa", "ferpa"];
    args.frameworks
        .iter()
        .filter(|f| !known.contains(&f.as_str()))
        .map(|f| {
            Problem::config(format!("unknown framework `{f}`"), None)
                .with_help(format!("use one of: {}", known.join(", ")))
        })
        .collect()
}

/// `vouch check`.
pub fn check(args: &CheckArgs) -> u8 {
    let as_of = match preflight(validate_selection(args), args.as_of.as_deref(), &args.path) {
        Ok(d) => d,
        Err(pre) => return fail(&pre),
    };
    let opts = CheckOptions {
        root: check::root_of(&args.path),
        as_of_days: as_of,
        selection: Selection {
            frameworks: args.frameworks.clone(),
            controls: args.controls.clone(),
            findings_only: false,
        },
        terraform: args.terraform.clone(),
    };
    let run = check::run(&opts);
    let unknown_controls: Vec<Problem> = args
        .controls
        .iter()
        .filter(|c| !run.library.controls.contains_key(*c))
        .map(|c| {
            Problem::config(format!("unknown control `{c}`"), None)
                .with_help("`vouch controls list` shows every control")
        })
        .collect();
    if !unknown_controls.is_empty() {
        return fail(&unknown_controls);
    }
    let threshold = args.fail_on.or(run.config.fail_on).unwrap_or(Severity::Low);
    match args.format {
        Format::Json => report::emit_json(&run.assessment),
        Format::Human => {
            report::emit(&human::render(
                &run.assessment,
                &run.library,
                &run.sources,
                threshold,
                human::Style::stdout(),
            ));
        }
    }
    if !run.problems.is_empty() {
        report::emit_err(&human::render_problems(
            &run.problems,
            human::Style::stderr(),
        ));
    }
    if run.assessment.run_failed() {
        exit::FAILED
    } else if run.assessment.failures_at(threshold).next().is_some() {
        exit::FINDINGS
    } else {
        exit::CLEAN
    }
}

/// Loads the library for `path` (its `vouch.toml` may add custom directories).
fn library_for(
    path: &std::path::Path,
) -> Result<(crate::library::Library, crate::engine::Compiled), Vec<Problem>> {
    let config = Config::load(path)?;
    let (lib, compiled, problems) = check::load_library(&config);
    match compiled {
        Some(c) if problems.is_empty() => Ok((lib, c)),
        _ => Err(problems),
    }
}

/// `vouch validate`: load and strictly validate the built-in and custom library.
pub fn validate(path: &std::path::Path) -> u8 {
    match library_for(path) {
        Ok((lib, compiled)) => {
            let custom = lib
                .controls
                .values()
                .filter(|c| c.origin != crate::library::Origin::Builtin)
                .count();
            report::emit(&format!(
                "library valid: {} controls ({} custom), {} policies, digest {}\n",
                lib.controls.len(),
                custom,
                compiled.policies().len(),
                lib.digest
            ));
            exit::CLEAN
        }
        Err(problems) => fail(&problems),
    }
}

/// Loads the library definitions (no Cedar compilation); a bad `vouch.toml` is an error.
pub fn library_files_only(path: &std::path::Path) -> Result<crate::library::Library, Vec<Problem>> {
    let config = Config::load(path)?;
    let (lib, problems) = crate::library::Library::load(&config.library_paths);
    if problems.is_empty() {
        Ok(lib)
    } else {
        Err(problems)
    }
}

/// `vouch controls list`.
pub fn controls_list(path: &std::path::Path, format: Format) -> u8 {
    let lib = match library_files_only(path) {
        Ok(lib) => lib,
        Err(problems) => return fail(&problems),
    };
    match format {
        Format::Json => {
            let list: Vec<_> = lib.controls.values().collect();
            report::emit(&report::to_json(
                &serde_json::json!({ "schema_version": 1, "controls": list }),
            ));
        }
        Format::Human => {
            let mut out = String::new();
            let w = lib.controls.keys().map(String::len).max().unwrap_or(0);
            for c in lib.controls.values() {
                let kind = if c.automated { "" } else { " (manual)" };
                let _ = writeln!(
                    out,
                    "{:w$}  {:8}  {:12}  {}{kind}",
                    c.id,
                    c.severity.as_str(),
                    c.family,
                    c.title
                );
            }
            let _ = writeln!(out, "\n{} controls", lib.controls.len());
            report::emit(&out);
        }
    }
    exit::CLEAN
}

/// `vouch controls show ID`.
pub fn controls_show(path: &std::path::Path, id: &str, format: Format) -> u8 {
    let lib = match library_files_only(path) {
        Ok(lib) => lib,
        Err(problems) => return fail(&problems),
    };
    let Some(c) = lib.controls.get(id) else {
        let close: Vec<&str> = lib
            .controls
            .keys()
            .filter(|k| k.contains(id) || id.contains(k.as_str()))
            .map(String::as_str)
            .take(5)
            .collect();
        let mut p = Problem::new(ProblemKind::Config, format!("unknown control `{id}`"));
        p = p.with_help(if close.is_empty() {
            "`vouch controls list` shows every control".to_owned()
        } else {
            format!("did you mean {}?", close.join(", "))
        });
        return fail(&[p]);
    };
    match format {
        Format::Json => report::emit(&report::to_json(c)),
        Format::Human => {
            let mut out = String::new();
            let _ = writeln!(out, "{} — {}\n", c.id, c.title);
            let _ = writeln!(
                out,
                "family: {}   severity: {}   effort: {}   {}",
                c.family,
                c.severity.as_str(),
                c.effort,
                if c.automated {
                    "automated"
                } else {
                    "manual (attestation)"
                }
            );
            let _ = writeln!(out, "\n{}", c.description);
            if !c.rationale.is_empty() {
                let _ = writeln!(out, "\nwhy: {}", c.rationale);
            }
            let _ = writeln!(out, "\nhow to fix: {}", c.remediation);
            let _ = writeln!(out, "\nmappings:");
            for (fw, ids) in &c.frameworks {
                let _ = writeln!(out, "  {:14} {}", lib.catalogs.name(fw), ids.join(", "));
            }
            let _ = writeln!(out, "\ndefined in {}", c.file);
            report::emit(&out);
        }
    }
    exit::CLEAN
}

/// `vouch test`: run every control's fixtures.
pub fn test(path: &std::path::Path, only: &[String], format: Format) -> u8 {
    let (lib, compiled) = match library_for(path) {
        Ok(x) => x,
        Err(problems) => return fail(&problems),
    };
    let rep = crate::fixtures::run(&lib, &compiled, only);
    match format {
        Format::Json => report::emit(&report::to_json(&rep)),
        Format::Human => {
            let mut out = String::new();
            for c in &rep.cases {
                let _ = writeln!(
                    out,
                    "{} {}/{}",
                    if c.passed { "ok    " } else { "FAILED" },
                    c.control,
                    c.case
                );
                for f in &c.failures {
                    let _ = writeln!(out, "         {f}");
                }
            }
            for m in &rep.missing {
                let _ = writeln!(
                    out,
                    "MISSING {m}: needs a compliant* and a violating* fixture"
                );
            }
            let passed = rep.cases.iter().filter(|c| c.passed).count();
            let _ = writeln!(
                out,
                "\n{passed} passed, {} failed",
                rep.cases.len() - passed + rep.missing.len()
            );
            report::emit(&out);
        }
    }
    if rep.ok() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    }
}

/// Options of `vouch gate`.
#[derive(Debug, Clone)]
pub struct GateArgs {
    pub path: PathBuf,
    pub base: String,
    pub head: Option<String>,
    pub format: Format,
    pub frameworks: Vec<String>,
    pub controls: Vec<String>,
    pub fail_on: Option<Severity>,
    pub all: bool,
    pub as_of: Option<String>,
    pub sarif: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub summary: Option<PathBuf>,
    pub terraform: crate::check::TerraformInputs,
}

/// `vouch gate`: only what the change breaks. Exit 0 pass, 1 fail, 2 the gate could not run.
pub fn gate(args: &GateArgs) -> u8 {
    let selection_args = CheckArgs {
        path: args.path.clone(),
        format: args.format,
        frameworks: args.frameworks.clone(),
        controls: args.controls.clone(),
        fail_on: args.fail_on,
        as_of: args.as_of.clone(),
        terraform: args.terraform.clone(),
    };
    let mut pre = validate_selection(&selection_args);
    let as_of = match as_of_days(args.as_of.as_deref()) {
        Ok(d) => d,
        Err(p) => {
            pre.push(p);
            0
        }
    };
    if !pre.is_empty() {
        return fail(&pre);
    }
    let opts = crate::gate::GateOptions {
        path: check::root_of(&args.path),
        base: args.base.clone(),
        head: args.head.clone(),
        fail_on: args.fail_on,
        all: args.all,
        as_of_days: as_of,
        selection: Selection {
            frameworks: args.frameworks.clone(),
            controls: args.controls.clone(),
            findings_only: false,
        },
        terraform: args.terraform.clone(),
    };
    let run = match crate::gate::run(&opts) {
        Ok(r) => r,
        Err(problems) => return fail(&problems),
    };
    let mut write_problems = Vec::new();
    // Each output is rendered only when asked for.
    let mut write = |path: &Option<PathBuf>, render: &dyn Fn() -> String| {
        if let Some(p) = path
            && let Err(e) = report::write_atomic(p, render().as_bytes())
        {
            write_problems.push(Problem::io(p.display().to_string(), &e));
        }
    };
    let head_results: Vec<&crate::assessment::CheckResult> = run
        .head
        .assessment
        .results
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                crate::assessment::Status::Fail
                    | crate::assessment::Status::Error
                    | crate::assessment::Status::Waived
            )
        })
        .collect();
    let mut baseline = std::collections::BTreeMap::new();
    for r in &run.report.new {
        baseline.insert(r.fingerprint.clone(), "new");
    }
    for r in &run.report.existing {
        baseline.insert(r.fingerprint.clone(), "unchanged");
    }
    write(&args.sarif, &|| {
        report::sarif::render(&head_results, &run.head.library, &baseline)
    });
    write(&args.junit, &|| {
        report::junit::render(&run.head.assessment.results)
    });
    write(&args.summary, &|| report::gate::markdown(&run));
    match args.format {
        Format::Json => report::emit_json(&run.report),
        Format::Human => report::emit(&report::gate::human(&run, human::Style::stdout())),
    }
    if !run.problems.is_empty() {
        report::emit_err(&human::render_problems(
            &run.problems,
            human::Style::stderr(),
        ));
    }
    if !write_problems.is_empty() {
        return fail(&write_problems);
    }
    match run.report.verdict {
        crate::gate::Verdict::Pass => exit::CLEAN,
        crate::gate::Verdict::Fail => exit::FINDINGS,
        crate::gate::Verdict::Error => exit::FAILED,
    }
}
