//! Classification: every assessable requirement of each target framework is met, failing,
//! pending or unaddressed, from the run's results and the controls mapped to it.
//!
//! - **Assessable units** are the catalog's leaves (requirements no other requirement names as
//!   its parent): for HIPAA the 43 implementation specifications plus the 7 standards without
//!   any (50), for ISO 27001 the 30 clause leaves plus the 93 Annex A controls (123), for
//!   SOC 2 (and SOC 3, which resolves through SOC 2) the criteria of the categories in scope
//!   (security, the 33 CC criteria, by default).
//! - A unit's controls are the controls mapped to it directly, plus those mapped to its parent
//!   standard or clause (a standard is met when its specifications are): a failing control on
//!   the standard holds back every addressed specification under it. A unit no control maps to
//!   directly is **unaddressed**, whatever its parent has, and only a unit's own controls can
//!   evidence it: it is never counted as met on its parent's mappings alone.
//! - Control states: an automated control passes when every result passes (a current waiver is
//!   an approved exception and counts, listed as such); it fails on any `fail` or `error`; it is
//!   not applicable when the run had nothing of the kinds it checks (no evidence either way). A
//!   manual control is attested (a current attestation), missing or expired.
//! - A unit is **failing** when one of its automated controls fails, else **pending** when one of
//!   its manual controls lacks a current attestation, else **met** when at least one of its own
//!   controls evidences it, else **unaddressed** (nothing shows it is met).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::assessment::{CheckResult, Status};
use crate::basis::Basis;
use crate::library::{Control, Library};

use super::settings::Settings;

/// The state of one control in the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlState {
    /// Every result passes.
    Pass,
    /// Passes except for failures covered by a current waiver.
    Waived,
    /// A manual control with a current attestation.
    Attested,
    /// Nothing of the kinds it checks was found: no evidence either way.
    NotApplicable,
    /// At least one resource fails it.
    Fail,
    /// It could not be evaluated on some resource (never a pass).
    Error,
    /// A manual control without any attestation.
    Missing,
    /// A manual control whose newest attestation has expired.
    Expired,
}

impl ControlState {
    /// True when the control evidences its requirements.
    pub fn satisfied(self) -> bool {
        matches!(
            self,
            ControlState::Pass | ControlState::Waived | ControlState::Attested
        )
    }

    /// True when the control holds its requirements back (a step can change that).
    pub fn blocking(self) -> bool {
        matches!(
            self,
            ControlState::Fail
                | ControlState::Error
                | ControlState::Missing
                | ControlState::Expired
        )
    }

    /// True for a failing automated control (as opposed to a missing attestation).
    pub fn failing(self) -> bool {
        matches!(self, ControlState::Fail | ControlState::Error)
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlState::Pass => "pass",
            ControlState::Waived => "waived",
            ControlState::Attested => "attested",
            ControlState::NotApplicable => "not_applicable",
            ControlState::Fail => "fail",
            ControlState::Error => "error",
            ControlState::Missing => "missing",
            ControlState::Expired => "expired",
        }
    }
}

/// One control's aggregated outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlOutcome {
    pub id: String,
    pub state: ControlState,
    /// Addresses of the resources that fail it (or error), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// For an expired attestation: when it expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_on: Option<String>,
    /// How its evidence is known: the weakest basis of its passing (or waived) results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
}

/// A requirement's readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReqStatus {
    Met,
    Failing,
    Pending,
    Unaddressed,
}

impl ReqStatus {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReqStatus::Met => "met",
            ReqStatus::Failing => "failing",
            ReqStatus::Pending => "pending",
            ReqStatus::Unaddressed => "unaddressed",
        }
    }

    /// A phrase for people who do not read the JSON.
    pub fn label(self) -> &'static str {
        match self {
            ReqStatus::Met => "met",
            ReqStatus::Failing => "failing",
            ReqStatus::Pending => "awaiting attestation",
            ReqStatus::Unaddressed => "no control yet",
        }
    }
}

/// One assessable requirement and why it has its status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequirementStatus {
    pub id: String,
    pub title: String,
    pub group: String,
    pub status: ReqStatus,
    /// Controls that evidence it (pass, waived, attested).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Controls that hold it back (fail, error, missing or expired attestation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    /// Mapped controls that found nothing to check.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<String>,
    /// Of the evidence, controls passing only thanks to a current waiver.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waived: Vec<String>,
    /// For a met requirement: how it is shown, the weakest basis of its evidence (only
    /// `configuration`, `system_export` and `attestation` count in the headline percent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
}

/// Readiness counts of one framework.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// Assessable requirements.
    pub requirements: usize,
    pub met: usize,
    pub failing: usize,
    pub pending: usize,
    pub unaddressed: usize,
    /// Met requirements shown by configuration, system exports or attestations with an
    /// evidence file in the tree (the headline).
    pub verified: usize,
    /// `verified / requirements`, in whole percent rounded down (99.6 % is not ready):
    /// requirements met only on declared facts or unverifiable attestations do not count.
    pub percent: u32,
    /// Met requirements by how they are shown (`configuration`, `system_export`, `declared`,
    /// `attestation`, `attestation_unverified`; every basis is listed).
    pub by_basis: BTreeMap<Basis, usize>,
}

impl Readiness {
    /// Counts of a list of statuses, each with the basis of a met requirement.
    pub fn of<'a>(statuses: impl Iterator<Item = &'a RequirementStatus>) -> Readiness {
        let mut r = Readiness {
            by_basis: Basis::ALL.iter().map(|b| (*b, 0)).collect(),
            ..Readiness::default()
        };
        for rs in statuses {
            r.requirements += 1;
            match rs.status {
                ReqStatus::Met => {
                    r.met += 1;
                    let basis = rs.basis.unwrap_or(Basis::Declared);
                    *r.by_basis.entry(basis).or_default() += 1;
                    if basis.shown() {
                        r.verified += 1;
                    }
                }
                ReqStatus::Failing => r.failing += 1,
                ReqStatus::Pending => r.pending += 1,
                ReqStatus::Unaddressed => r.unaddressed += 1,
            }
        }
        r.percent = (r.verified * 100)
            .checked_div(r.requirements)
            .map_or(0, |p| u32::try_from(p).unwrap_or(100));
        r
    }

    /// Met requirements the headline does not count: met on declared facts only, or on
    /// attestations without an evidence file.
    pub fn unshown(&self) -> usize {
        self.met - self.verified
    }

    /// How the met requirements are shown, in words (`31 shown · 6 declared only · 3 on
    /// unverified attestations`).
    pub fn shown_words(&self) -> String {
        let get = |b: Basis| self.by_basis.get(&b).copied().unwrap_or(0);
        let mut parts = vec![format!("{} shown", self.verified)];
        if get(Basis::Declared) > 0 {
            parts.push(format!("{} declared only", get(Basis::Declared)));
        }
        if get(Basis::AttestationUnverified) > 0 {
            parts.push(format!(
                "{} on attestations without evidence files",
                get(Basis::AttestationUnverified)
            ));
        }
        parts.join(" · ")
    }

    /// Every requirement met, and shown.
    pub fn ready(&self) -> bool {
        self.requirements > 0 && self.verified == self.requirements
    }
}

/// One target framework classified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameworkStatus {
    pub id: String,
    pub name: String,
    pub version: String,
    /// What is counted (`CC criteria (security)`, `clause leaves and Annex A`, …).
    pub scope: String,
    pub readiness: Readiness,
    /// Every assessable requirement, in catalog order.
    pub requirements: Vec<RequirementStatus>,
}

/// Aggregates the results of every control of the library.
pub fn control_outcomes(
    lib: &Library,
    results: &[CheckResult],
) -> BTreeMap<String, ControlOutcome> {
    let mut by_control: BTreeMap<&str, Vec<&CheckResult>> = BTreeMap::new();
    for r in results {
        by_control.entry(r.control.as_ref()).or_default().push(r);
    }
    lib.controls
        .values()
        .map(|c| {
            let rs = by_control.get(c.id.as_str()).map_or(&[][..], Vec::as_slice);
            (c.id.clone(), outcome(c, rs))
        })
        .collect()
}

fn outcome(control: &Control, results: &[&CheckResult]) -> ControlOutcome {
    let mut resources: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Error))
        .filter_map(|r| r.resource.as_ref().map(|res| res.address.clone()))
        .collect();
    resources.sort();
    resources.dedup();
    let any = |s: Status| results.iter().any(|r| r.status == s);
    let state = if !control.automated {
        if any(Status::Pass) {
            ControlState::Attested
        } else if any(Status::Waived) {
            // Accepted risk, as for an automated control: counted, and listed as waived.
            ControlState::Waived
        } else if results.iter().any(|r| r.attestation.is_some()) {
            ControlState::Expired
        } else {
            // No result at all (or no attestation): nothing shows it operates.
            ControlState::Missing
        }
    } else if any(Status::Error) {
        ControlState::Error
    } else if any(Status::Fail) {
        ControlState::Fail
    } else if any(Status::Waived) {
        ControlState::Waived
    } else if any(Status::Pass) {
        ControlState::Pass
    } else {
        ControlState::NotApplicable
    };
    let expired_on = (state == ControlState::Expired)
        .then(|| {
            results
                .iter()
                .filter_map(|r| r.attestation.as_ref())
                .max_by_key(|a| a.expires_days)
                .map(|a| a.expires.clone())
        })
        .flatten();
    let basis = state.satisfied().then(|| {
        results
            .iter()
            .filter(|r| matches!(r.status, Status::Pass | Status::Waived))
            .map(|r| r.basis)
            .reduce(Basis::weakest)
    });
    ControlOutcome {
        id: control.id.clone(),
        state,
        resources,
        expired_on,
        basis: basis.flatten(),
    }
}

/// One assessable requirement with the controls that decide it.
#[derive(Debug, Clone)]
pub struct Unit {
    pub requirement: crate::library::catalog::Requirement,
    /// Controls mapped to it directly (sorted).
    pub direct: Vec<String>,
    /// Controls mapped to its parent standard or clause (sorted; empty when `direct` is).
    pub inherited: Vec<String>,
}

/// The assessable requirements of `framework` (leaves; for SOC 2 the categories in scope), in
/// catalog order, with their controls.
pub fn units(lib: &Library, framework: &str, settings: &Settings) -> Vec<Unit> {
    let base_id = lib.catalogs.base_of(framework);
    let Some(base) = lib.catalogs.frameworks.get(base_id) else {
        return Vec::new();
    };
    let parents: BTreeSet<&str> = base
        .requirements
        .iter()
        .filter_map(|r| r.parent.as_deref())
        .collect();
    let parent_of: BTreeMap<&str, &str> = base
        .requirements
        .iter()
        .filter_map(|r| r.parent.as_deref().map(|p| (r.id.as_str(), p)))
        .collect();
    let mut mapped: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in lib.controls.values() {
        for req in c.frameworks.get(base_id).into_iter().flatten() {
            mapped
                .entry(req.as_str())
                .or_default()
                .insert(c.id.as_str());
        }
    }
    let soc2 = base_id == "soc2";
    base.requirements
        .iter()
        .filter(|r| !parents.contains(r.id.as_str()))
        .filter(|r| {
            !soc2
                || r.category
                    .as_deref()
                    .is_none_or(|cat| settings.soc2_categories.iter().any(|s| s == cat))
        })
        .map(|r| {
            let direct: BTreeSet<&str> = mapped.get(r.id.as_str()).cloned().unwrap_or_default();
            let mut inherited: BTreeSet<&str> = BTreeSet::new();
            if !direct.is_empty() {
                let mut at = r.id.as_str();
                // The catalogs nest at most a few levels; the bound guards a cyclic catalog.
                for _ in 0..16 {
                    let Some(p) = parent_of.get(at) else { break };
                    inherited.extend(mapped.get(p).into_iter().flatten());
                    at = p;
                }
            }
            let inherited: Vec<String> = inherited
                .difference(&direct)
                .map(|s| (*s).to_owned())
                .collect();
            Unit {
                requirement: r.clone(),
                direct: direct.into_iter().map(str::to_owned).collect(),
                inherited,
            }
        })
        .collect()
}

/// Classifies one requirement: its own controls can meet it; its parent's can only hold it back.
pub fn classify(unit: &Unit, outcomes: &BTreeMap<String, ControlOutcome>) -> RequirementStatus {
    let req = &unit.requirement;
    let mut rs = RequirementStatus {
        id: req.id.clone(),
        title: req.title.clone(),
        group: req.group.clone(),
        status: ReqStatus::Unaddressed,
        evidence: Vec::new(),
        blocked_by: Vec::new(),
        not_applicable: Vec::new(),
        waived: Vec::new(),
        basis: None,
    };
    let mut failing = false;
    let mut basis: Option<Basis> = None;
    let mut own_evidence = false;
    let direct = unit.direct.iter().map(|c| (c, true));
    let inherited = unit.inherited.iter().map(|c| (c, false));
    for (c, own) in direct.chain(inherited) {
        // A control the run knows nothing about is not evidence.
        let state = outcomes
            .get(c)
            .map_or(ControlState::NotApplicable, |o| o.state);
        if state.satisfied() {
            own_evidence |= own;
            let b = outcomes
                .get(c)
                .and_then(|o| o.basis)
                .unwrap_or(Basis::Declared);
            basis = Some(basis.map_or(b, |x| x.weakest(b)));
            rs.evidence.push(c.clone());
            if state == ControlState::Waived {
                rs.waived.push(c.clone());
            }
        } else if state.blocking() {
            failing |= state.failing();
            rs.blocked_by.push(c.clone());
        } else {
            rs.not_applicable.push(c.clone());
        }
    }
    for v in [
        &mut rs.evidence,
        &mut rs.blocked_by,
        &mut rs.not_applicable,
        &mut rs.waived,
    ] {
        v.sort();
    }
    rs.status = if failing {
        ReqStatus::Failing
    } else if !rs.blocked_by.is_empty() {
        ReqStatus::Pending
    } else if own_evidence {
        ReqStatus::Met
    } else {
        ReqStatus::Unaddressed
    };
    if rs.status == ReqStatus::Met {
        rs.basis = basis;
    }
    rs
}

/// What is counted for a framework, in words.
pub fn scope_of(framework: &str, lib: &Library, settings: &Settings) -> String {
    match lib.catalogs.base_of(framework) {
        "soc2" => {
            let cats: Vec<&str> = settings
                .soc2_categories
                .iter()
                .map(String::as_str)
                .collect();
            format!("trust services criteria in scope: {}", cats.join(", "))
        }
        "iso27001" => "clauses 4–10 (leaf subclauses) and the Annex A controls".to_owned(),
        "hipaa" => "implementation specifications, and the standards that have none".to_owned(),
        "ferpa" => "the provisions listed in the (partial) FERPA catalog".to_owned(),
        _ => "every requirement of the catalog without sub-requirements".to_owned(),
    }
}

/// Classifies every target framework.
pub fn classify_all(
    lib: &Library,
    outcomes: &BTreeMap<String, ControlOutcome>,
    settings: &Settings,
) -> Vec<FrameworkStatus> {
    settings
        .targets
        .iter()
        .filter_map(|t| {
            let fw = lib.catalogs.frameworks.get(t)?;
            let requirements: Vec<RequirementStatus> = units(lib, t, settings)
                .iter()
                .map(|u| classify(u, outcomes))
                .collect();
            Some(FrameworkStatus {
                id: fw.id.clone(),
                name: fw.name.clone(),
                version: fw.version.clone(),
                scope: scope_of(t, lib, settings),
                readiness: Readiness::of(requirements.iter()),
                requirements,
            })
        })
        .collect()
}
