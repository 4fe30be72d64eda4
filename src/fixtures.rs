//! `vouch test`: every control's fixtures prove it both ways.
//!
//! A control `controls/<family>/<id>.toml` keeps its fixtures beside it, one directory per case:
//! `controls/<family>/<id>/compliant*/` and `controls/<family>/<id>/violating*/`, each a small
//! tree of input files. The whole library runs on every case, so a new control cannot quietly
//! fire on another control's compliant example:
//! - a compliant case must produce a pass for its control and no fail or error from any control;
//! - a violating case must produce a fail for its control; when the case has an `expect.toml`
//!   with `policies = [...]`, the fired policy ids of its control must be exactly those, and
//!   with `determined = true|false`, every failure of its control must be (or not be)
//!   determined (a violation proven, or one resting on a value a static file cannot know).
//!
//! Ages are counted up to [`FIXTURE_AS_OF`] (or `as_of` in `expect.toml`) so fixtures with dates
//! never rot.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::assessment::{Selection, Status};
use crate::check::{self, CheckOptions};
use crate::config::Config;
use crate::engine::Compiled;
use crate::library::{Control, Library};
use crate::source::SourceFile;

/// The date fixtures are evaluated at unless their `expect.toml` says otherwise.
pub const FIXTURE_AS_OF: &str = "2026-06-30";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    policies: Option<Vec<String>>,
    as_of: Option<toml::value::Datetime>,
    determined: Option<bool>,
}

/// Outcome of one fixture case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub control: String,
    pub case: String,
    pub passed: bool,
    /// What went wrong (empty when passed).
    pub failures: Vec<String>,
}

/// Outcome of a `vouch test` run.
#[derive(Debug, Clone, Serialize, Default)]
pub struct TestReport {
    pub cases: Vec<CaseResult>,
    /// Automated controls without both a compliant and a violating case.
    pub missing: Vec<String>,
}

impl TestReport {
    /// True when every case passed and no control lacks fixtures.
    pub fn ok(&self) -> bool {
        self.cases.iter().all(|c| c.passed) && self.missing.is_empty()
    }
}

/// Runs the fixtures of every selected control.
pub fn run(library: &Library, compiled: &Compiled, only: &[String]) -> TestReport {
    let mut report = TestReport::default();
    let default_as_of = crate::dates::parse_date(FIXTURE_AS_OF).unwrap_or(0);
    for control in library.controls.values() {
        if !only.is_empty() && !only.contains(&control.id) {
            continue;
        }
        let cases = cases_of(library, control);
        let kinds: BTreeSet<bool> = cases.keys().map(|c| c.starts_with("compliant")).collect();
        if control.automated && kinds.len() < 2 {
            report.missing.push(control.id.clone());
        }
        for (case, files) in cases {
            report.cases.push(run_case(
                library,
                compiled,
                control,
                &case,
                &files,
                default_as_of,
            ));
        }
    }
    report
}

/// Fixture files of a control grouped by case, with paths relative to the case directory.
fn cases_of(library: &Library, control: &Control) -> BTreeMap<String, Vec<SourceFile>> {
    let prefix = format!("controls/{}/{}/", control.family, control.id);
    let mut cases: BTreeMap<String, Vec<SourceFile>> = BTreeMap::new();
    for f in library.fixture_files(control) {
        let Some(rest) = f.path.strip_prefix(&prefix) else {
            continue;
        };
        let Some((case, rel)) = rest.split_once('/') else {
            continue;
        };
        if !(case.starts_with("compliant") || case.starts_with("violating")) {
            continue;
        }
        cases
            .entry(case.to_owned())
            .or_default()
            .push(SourceFile::new(rel, Arc::clone(&f.text)));
    }
    cases
}

fn run_case(
    library: &Library,
    compiled: &Compiled,
    control: &Control,
    case: &str,
    files: &[SourceFile],
    default_as_of: i64,
) -> CaseResult {
    let mut failures = Vec::new();
    let expect: Expect = match files.iter().find(|f| f.path == "expect.toml") {
        Some(f) => match toml::from_str(&f.text) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("expect.toml does not parse: {}", e.message()));
                Expect::default()
            }
        },
        None => Expect::default(),
    };
    let as_of = expect
        .as_of
        .as_ref()
        .and_then(crate::dates::toml_days)
        .unwrap_or(default_as_of);
    let inputs: Vec<SourceFile> = files
        .iter()
        .filter(|f| f.path != "expect.toml")
        .cloned()
        .collect();
    let opts = CheckOptions {
        root: std::path::PathBuf::from(case),
        as_of_days: as_of,
        selection: Selection::default(),
        terraform: crate::check::TerraformInputs::default(),
        keep_attributes: false,
    };
    let run = check::evaluate_files(
        &inputs,
        Config::default(),
        library.clone(),
        Some(compiled),
        Vec::new(),
        crate::assessment::Provenance {
            tool: "vouch".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            library_digest: library.digest.clone(),
            root: case.to_owned(),
            revision: None,
            as_of: crate::dates::format_days(as_of),
        },
        &opts,
    );
    for p in &run.problems {
        failures.push(format!("input problem: {p}"));
    }
    let a = &run.assessment;
    let mine: Vec<_> = a
        .results
        .iter()
        .filter(|r| *r.control == *control.id)
        .collect();
    if case.starts_with("compliant") {
        if !mine.iter().any(|r| r.status == Status::Pass) {
            failures.push(format!(
                "expected `{}` to pass on some resource, but it never passed",
                control.id
            ));
        }
        let manual = |id: &str| {
            library
                .controls
                .get(id)
                .is_some_and(|c| !c.automated && c.id != control.id)
        };
        for r in a
            .results
            .iter()
            .filter(|r| matches!(r.status, Status::Fail | Status::Error) && !manual(&r.control))
        {
            let at = r
                .resource
                .as_ref()
                .map_or_else(String::new, |x| format!(" on `{}`", x.address));
            failures.push(format!(
                "expected no failure, but `{}` {}{at}: {}",
                r.control,
                r.status.as_str(),
                r.messages().join("; ")
            ));
        }
    } else {
        let fired: BTreeSet<String> = mine
            .iter()
            .filter(|r| r.status == Status::Fail)
            .flat_map(|r| r.policies().iter().cloned())
            .collect();
        if fired.is_empty() {
            failures.push(format!("expected `{}` to fail, but it did not", control.id));
        }
        for r in mine.iter().filter(|r| r.status == Status::Error) {
            failures.push(format!(
                "`{}` errored: {}",
                control.id,
                r.messages().join("; ")
            ));
        }
        if let Some(want) = &expect.policies {
            let want: BTreeSet<String> = want.iter().cloned().collect();
            if want != fired {
                let missing: Vec<_> = want.difference(&fired).cloned().collect();
                let extra: Vec<_> = fired.difference(&want).cloned().collect();
                failures.push(format!(
                    "fired policies differ from expect.toml: missing [{}], unexpected [{}]",
                    missing.join(", "),
                    extra.join(", ")
                ));
            }
        }
        if let Some(want) = expect.determined {
            for r in mine
                .iter()
                .filter(|r| r.status == Status::Fail && r.determined != want)
            {
                failures.push(format!(
                    "expected every failure to be {}determined, but `{}` is {}: {}",
                    if want { "" } else { "un" },
                    control.id,
                    if r.determined {
                        "determined"
                    } else {
                        "undetermined"
                    },
                    r.messages().join("; ")
                ));
            }
        }
    }
    CaseResult {
        control: control.id.clone(),
        case: case.to_owned(),
        passed: failures.is_empty(),
        failures,
    }
}
