//! `vouch roadmap`: how far the organisation is from each target certification, and what to do
//! next for the best return. Reads only a [`CheckRun`] (the assessment, the library's controls
//! and catalogs, the `[roadmap]` table of `vouch.toml`); see docs/roadmap.md.
//!
//! [`model`] classifies every assessable requirement (met, failing, pending, unaddressed),
//! [`rank`] orders the steps by return on investment and sums the effort left per target, and
//! the renderers draw the result for a terminal, as JSON, Markdown or a self-contained HTML page.

pub mod model;
pub mod rank;
pub mod render_html;
pub mod render_markdown;
pub mod render_remediation;
pub mod render_text;
pub mod settings;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use serde::Serialize;

use crate::assessment::{CheckResult, Selection};
use crate::check::{self, CheckOptions, CheckRun};
use crate::error::Problem;
use crate::library::Library;
use crate::report;

pub use model::{FrameworkStatus, Readiness, ReqStatus, RequirementStatus};
pub use rank::{Remaining, Step, StepKind};
pub use settings::Settings;

/// Version of the JSON shape of [`Roadmap`].
pub const SCHEMA_VERSION: u32 = 1;

/// Output formats of `vouch roadmap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
    Html,
}

/// Options of `vouch roadmap`.
#[derive(Debug, Clone)]
pub struct RoadmapArgs {
    pub path: PathBuf,
    /// Target frameworks (comma-separated lists allowed); empty: `[roadmap] targets` or the
    /// default (soc2, iso27001, hipaa).
    pub targets: Vec<String>,
    pub format: Format,
    /// Write the output here (atomically) instead of stdout.
    pub out: Option<PathBuf>,
    pub as_of: Option<String>,
    /// Terraform values (`--var-file`, `--var`).
    pub terraform: crate::check::TerraformInputs,
}

/// The whole roadmap (the JSON contract).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Roadmap {
    pub schema_version: u32,
    /// The date attestations and ages are counted up to.
    pub as_of: String,
    /// The scanned root as given.
    pub root: String,
    pub library_digest: String,
    pub targets: Vec<String>,
    /// The weight of every target.
    pub weights: BTreeMap<String, f64>,
    /// SOC 2 (and SOC 3) categories in scope.
    pub soc2_categories: Vec<String>,
    /// Readiness per target framework.
    pub readiness: BTreeMap<String, Readiness>,
    /// Which certification next: remaining effort per target, cheapest first.
    pub next_certification: Vec<Remaining>,
    /// The next steps, best return first.
    pub steps: Vec<Step>,
    /// Every assessable requirement of each target, in the order of `targets`.
    pub frameworks: Vec<FrameworkStatus>,
    /// The system exports the results read: file, digest, export date, age, staleness.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exports: Vec<crate::model::FactSource>,
}

impl Roadmap {
    /// The roadmap of a set of results (the provenance fields are left empty).
    pub fn build(lib: &Library, results: &[CheckResult], settings: &Settings) -> Roadmap {
        let outcomes = model::control_outcomes(lib, results);
        let frameworks = model::classify_all(lib, &outcomes, settings);
        let steps = rank::steps(lib, &outcomes, &frameworks, settings);
        let next_certification = rank::remaining(&frameworks, &steps);
        Roadmap {
            schema_version: SCHEMA_VERSION,
            as_of: String::new(),
            root: String::new(),
            library_digest: lib.digest.clone(),
            targets: frameworks.iter().map(|f| f.id.clone()).collect(),
            weights: frameworks
                .iter()
                .map(|f| (f.id.clone(), settings.weight(&f.id)))
                .collect(),
            soc2_categories: settings.soc2_categories.clone(),
            readiness: frameworks
                .iter()
                .map(|f| (f.id.clone(), f.readiness.clone()))
                .collect(),
            next_certification,
            steps,
            frameworks,
            exports: Vec::new(),
        }
    }

    /// The roadmap of a check run.
    pub fn of_run(run: &CheckRun, settings: &Settings) -> Roadmap {
        let mut r = Roadmap::build(&run.library, &run.assessment.results, settings);
        r.as_of = run.assessment.provenance.as_of.clone();
        r.root = run.assessment.provenance.root.clone();
        let mut exports: Vec<crate::model::FactSource> = run
            .assessment
            .results
            .iter()
            .flat_map(|x| x.sources.iter())
            .filter(|s| s.origin == crate::model::FactOrigin::Imported)
            .cloned()
            .collect();
        exports.sort();
        exports.dedup();
        r.exports = exports;
        r
    }

    /// The framework status of a target.
    pub fn framework(&self, id: &str) -> Option<&FrameworkStatus> {
        self.frameworks.iter().find(|f| f.id == id)
    }
}

use crate::app::fail;

/// `vouch roadmap`: 0 when the roadmap was produced, 2 when it could not be (unknown target,
/// bad `[roadmap]`, or a failed run: nothing is reported on an incomplete assessment).
pub fn cmd(args: &RoadmapArgs) -> u8 {
    let mut pre = Vec::new();
    // Unknown targets on the command line fail before anything runs.
    if let Err(mut ps) = Settings::from_config(None, &args.targets) {
        pre.append(&mut ps);
    }
    pre.extend(crate::app::missing_inputs(
        "var-file",
        args.terraform.var_files.iter().map(PathBuf::as_path),
    ));
    let as_of = match crate::app::preflight(pre, args.as_of.as_deref(), &args.path) {
        Ok(d) => d,
        Err(pre) => return fail(&pre),
    };
    let run = check::run(&CheckOptions {
        root: check::root_of(&args.path),
        as_of_days: as_of,
        selection: Selection::default(),
        terraform: args.terraform.clone(),
        keep_attributes: false,
    });
    if !run.problems.is_empty() || run.assessment.run_failed() {
        let mut problems = run.problems.clone();
        let mut errored: Vec<&str> = run
            .assessment
            .results
            .iter()
            .filter(|r| r.status == crate::assessment::Status::Error)
            .map(|r| r.control.as_ref())
            .collect();
        errored.dedup();
        if !errored.is_empty() {
            problems.push(
                Problem::config(
                    format!(
                        "controls could not be evaluated: {}; no roadmap is drawn from an incomplete assessment",
                        errored.join(", ")
                    ),
                    None,
                )
                .with_help("`vouch check` shows the resources and the evaluation errors"),
            );
        }
        return fail(&problems);
    }
    let settings = match Settings::from_config(run.config.roadmap.as_ref(), &args.targets) {
        Ok(s) => s,
        Err(ps) => return fail(&ps),
    };
    let missing = settings.check_catalogs(&run.library);
    if !missing.is_empty() {
        return fail(&missing);
    }
    let roadmap = Roadmap::of_run(&run, &settings);
    let color = args.out.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let text = match args.format {
        Format::Human => render_text::render(&roadmap, color),
        Format::Json => report::to_json(&roadmap),
        Format::Markdown => render_markdown::render(&roadmap),
        Format::Html => render_html::render(&roadmap),
    };
    match &args.out {
        None => report::emit(&text),
        Some(p) => {
            if let Err(e) = report::write_atomic(p, text.as_bytes()) {
                return fail(&[Problem::write(p.display().to_string(), &e)]);
            }
            report::emit_err(&format!("roadmap written to {}\n", p.display()));
        }
    }
    crate::app::exit::CLEAN
}

/// A short display name of a target (`ISO 27001`, `HIPAA`), for columns and sentences.
pub fn short_name(roadmap: &Roadmap, id: &str) -> String {
    match id {
        "soc2" => "SOC 2".to_owned(),
        "soc3" => "SOC 3".to_owned(),
        "iso27001" => "ISO 27001".to_owned(),
        "hipaa" => "HIPAA".to_owned(),
        "ferpa" => "FERPA".to_owned(),
        _ => roadmap
            .framework(id)
            .map_or_else(|| id.to_owned(), |f| f.name.clone()),
    }
}

/// An effort in words, for people who do not know the 1–13 scale.
pub fn effort_words(effort: u32) -> &'static str {
    match effort {
        0 => "nothing",
        1 => "about an hour",
        2 => "a few hours",
        3..=4 => "about a day",
        5..=7 => "a few days",
        8..=12 => "one to two weeks",
        _ => "a project of several weeks",
    }
}

/// "SOC 2 CC6.1, CC6.6 · HIPAA 164.312(a)(2)(iv)": what a step unlocks, in target order.
pub fn unlocks_line(roadmap: &Roadmap, step: &Step) -> String {
    roadmap
        .targets
        .iter()
        .filter_map(|t| {
            let ids = step.unlocks.get(t)?;
            Some(format!("{} {}", short_name(roadmap, t), ids.join(", ")))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}
