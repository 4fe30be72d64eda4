//! The commands, as library functions over plain option structs (the binary maps clap to these).
//! Each returns the process exit code; output goes through [`crate::report`].

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::assessment::Selection;
use crate::check::{self, CheckOptions};
use crate::config::Config;
use crate::error::Problem;
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
    /// `--helm-values` files, applied to every chart.
    pub helm_values: Vec<PathBuf>,
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

/// `path` is not a directory: a problem (every tree command scans a directory), saying whether
/// it is missing or a file, with the entries of its parent whose names are close.
pub fn not_a_directory(path: &std::path::Path) -> Option<Problem> {
    if path.is_dir() {
        return None;
    }
    let shown = path.display();
    if path.exists() {
        return Some(
            Problem::config(format!("`{shown}` is not a directory"), None)
                .with_help("pass the directory to scan (the repository or a folder of it)"),
        );
    }
    let help = close_siblings(path)
        .unwrap_or_else(|| "pass the directory to scan (the repository or a folder of it)".into());
    Some(Problem::config(format!("`{shown}` does not exist"), None).with_help(help))
}

/// "did you mean `examples/acme`?" for a path that does not exist: the entries of its parent
/// directory whose names are close to its last component, as paths the user can paste.
pub fn close_siblings(path: &std::path::Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let mut entries: Vec<String> = std::fs::read_dir(parent.unwrap_or(std::path::Path::new(".")))
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|e| !e.starts_with('.') || name.starts_with('.'))
        .collect();
    entries.sort();
    let known: Vec<&str> = entries.iter().map(String::as_str).collect();
    let close: Vec<String> = crate::error::closest(name, &known)
        .into_iter()
        .map(|e| match parent {
            Some(p) => format!("`{}`", p.join(e).display()),
            None => format!("`{e}`"),
        })
        .collect();
    (!close.is_empty()).then(|| format!("did you mean {}?", close.join(", ")))
}

/// The input files given as `--FLAG PATH` that do not exist, each a problem with the closest
/// entries of its directory (paths are taken as given: relative to the working directory).
pub fn missing_inputs<'a>(
    flag: &str,
    paths: impl IntoIterator<Item = &'a std::path::Path>,
) -> Vec<Problem> {
    paths
        .into_iter()
        .filter(|p| !p.exists())
        .map(|p| {
            Problem::config(format!("`--{flag} {}` does not exist", p.display()), None).with_help(
                close_siblings(p)
                    .unwrap_or_else(|| "the path is relative to the working directory".to_owned()),
            )
        })
        .collect()
}

/// Every `--control` id that names no control of the library, each with the closest ids.
pub fn unknown_controls<'a>(
    wanted: &[String],
    known: impl Iterator<Item = &'a str>,
) -> Vec<Problem> {
    let known: Vec<&str> = known.collect();
    wanted
        .iter()
        .filter(|c| !known.contains(&c.as_str()))
        .map(|c| {
            Problem::config(format!("unknown control `{c}`"), None).with_help(
                crate::error::did_you_mean(c, &known)
                    .map(|d| format!("{d} (`vouch controls list` shows every control)"))
                    .unwrap_or_else(|| "`vouch controls list` shows every control".to_owned()),
            )
        })
        .collect()
}

/// The `--control` ids that the library for `path` does not have. A library that does not load
/// is reported by the command itself, so it yields nothing here.
fn controls_not_in_library(path: &std::path::Path, wanted: &[String]) -> Vec<Problem> {
    if wanted.is_empty() || !path.is_dir() {
        return Vec::new();
    }
    match library_files_only(path) {
        Ok(lib) => unknown_controls(wanted, lib.controls.keys().map(String::as_str)),
        Err(_) => Vec::new(),
    }
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
            let close =
                crate::error::did_you_mean(f, &known).map_or_else(String::new, |d| format!("{d} "));
            Problem::config(format!("unknown framework `{f}`"), None)
                .with_help(format!("{close}use one of: {}", known.join(", ")))
        })
        .collect()
}

/// `vouch check`.
pub fn check(args: &CheckArgs) -> u8 {
    let mut pre = validate_selection(args);
    // Unknown `--control` ids fail before the tree is read (each with the closest ids).
    pre.extend(controls_not_in_library(&args.path, &args.controls));
    pre.extend(missing_inputs(
        "var-file",
        args.terraform.var_files.iter().map(PathBuf::as_path),
    ));
    pre.extend(missing_inputs(
        "helm-values",
        args.helm_values.iter().map(PathBuf::as_path),
    ));
    let as_of = match preflight(pre, args.as_of.as_deref(), &args.path) {
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
        keep_attributes: false,
    };
    let helm = crate::formats::kubernetes::HelmOptions {
        values: args.helm_values.clone(),
    };
    let mut run = check::run_with(&opts, &helm);
    // The run's library (a custom library that failed to load before is reported by the run).
    let unknown = unknown_controls(
        &args.controls,
        run.library.controls.keys().map(String::as_str),
    );
    if !unknown.is_empty() {
        // With the problems that kept a custom control from loading, if any.
        return fail(&[run.problems.clone(), unknown].concat());
    }
    let threshold = args.fail_on.or(run.config.fail_on).unwrap_or(Severity::Low);
    match args.format {
        Format::Json => report::emit_assessment_json(&mut run.assessment),
        Format::Human => report::emit_with(|out| {
            human::write(
                &run.assessment,
                &run.library,
                &run.sources,
                threshold,
                human::Style::stdout(),
                out,
            )
        }),
    }
    if !run.problems.is_empty() {
        report::emit_err(&human::render_problems(
            &run.problems,
            human::Style::stderr(),
        ));
    }
    let code = if run.assessment.run_failed() {
        exit::FAILED
    } else if run.assessment.failures_at(threshold).next().is_some() {
        exit::FINDINGS
    } else {
        exit::CLEAN
    };
    // The process ends with this command: freeing a large run (600,000 results, every parsed
    // file) one allocation at a time only delays the exit; the operating system takes it back.
    std::mem::forget(run);
    code
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
    if let Some(p) = not_a_directory(path) {
        return fail(&[p]);
    }
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
        let unknown = unknown_controls(&[id.to_owned()], lib.controls.keys().map(String::as_str));
        return fail(&unknown);
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
    if let Some(p) = not_a_directory(path) {
        return fail(&[p]);
    }
    let (lib, compiled) = match library_for(path) {
        Ok(x) => x,
        Err(problems) => return fail(&problems),
    };
    // `--control nope` would run no fixture and pass: an unknown id is an error.
    let unknown = unknown_controls(only, lib.controls.keys().map(String::as_str));
    if !unknown.is_empty() {
        return fail(&unknown);
    }
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
    pub trust_head_config: bool,
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
        helm_values: Vec::new(),
        terraform: args.terraform.clone(),
    };
    let mut pre = validate_selection(&selection_args);
    pre.extend(controls_not_in_library(&args.path, &args.controls));
    pre.extend(missing_inputs(
        "var-file",
        args.terraform.var_files.iter().map(PathBuf::as_path),
    ));
    let as_of = match as_of_days(args.as_of.as_deref()) {
        Ok(d) => d,
        Err(p) => {
            pre.push(p);
            0
        }
    };
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
        trust_head_config: args.trust_head_config,
        terraform: args.terraform.clone(),
    };
    // A gate that cannot run still writes every output it was asked for, saying why.
    let run = if pre.is_empty() {
        crate::gate::run(&opts)
    } else {
        crate::gate::could_not_start(&opts, pre)
    };
    let mut write_problems = Vec::new();
    // Each output is rendered only when asked for.
    let mut write = |path: &Option<PathBuf>, render: &dyn Fn() -> String| {
        if let Some(p) = path
            && let Err(e) = report::write_atomic(p, render().as_bytes())
        {
            write_problems.push(
                Problem::new(
                    crate::error::ProblemKind::Io,
                    format!(
                        "cannot write `{}`: {}",
                        p.display(),
                        crate::error::lowercase_first(&e.to_string())
                    ),
                )
                .in_file(&p.display().to_string()),
            );
        }
    };
    write(&args.sarif, &|| report::sarif::gate(&run));
    write(&args.junit, &|| report::junit::gate(&run));
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
