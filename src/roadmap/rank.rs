//! Ranking: the next steps by return on investment, and the remaining effort per certification.
//!
//! A step is one control that holds requirements back: fix a failing automated control (on the
//! resources listed), implement and attest a manual control that has no attestation, or renew an
//! expired attestation. Steps are chosen greedily, best first, as if each were done in order:
//!
//! - a requirement still held back by `k` controls gives each of them `weight / k` (so the step
//!   that removes the last blocker gets the full weight: it **unlocks** the requirement);
//! - a step's value is the sum over every target framework, divided by the control's effort;
//! - after a step is taken its control no longer blocks anything, and the values are recomputed.
//!
//! So one control that unlocks a requirement in SOC 2, ISO 27001 and HIPAA is worth three times
//! one that unlocks a single framework's, and the weights of `[roadmap.weights]` shift the order.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::library::{Library, Severity};

use super::model::{ControlOutcome, ControlState, FrameworkStatus, ReqStatus};
use super::settings::Settings;

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Fix a failing automated control on the listed resources.
    Fix,
    /// Implement a manual control and record its attestation.
    Implement,
    /// Renew an expired attestation.
    Renew,
}

impl StepKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Fix => "fix",
            StepKind::Implement => "implement",
            StepKind::Renew => "renew",
        }
    }

    /// A verb for people.
    pub fn verb(self) -> &'static str {
        match self {
            StepKind::Fix => "Fix",
            StepKind::Implement => "Implement and attest",
            StepKind::Renew => "Renew",
        }
    }
}

/// One ranked step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// 1-based position.
    pub rank: usize,
    pub kind: StepKind,
    pub control: String,
    pub title: String,
    pub severity: Severity,
    /// The control's effort, 1 (an hour) to 13 (a project).
    pub effort: u32,
    /// Resources that fail the control (for `fix`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// For `renew`: the date the attestation expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_on: Option<String>,
    pub remediation: String,
    /// Requirements this step makes met (given the steps above it are done), per framework.
    pub unlocks: BTreeMap<String, Vec<String>>,
    /// Requirements it moves closer without completing them, per framework.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub advances: BTreeMap<String, usize>,
    /// Weighted requirements per unit of effort (see the module documentation).
    pub score: f64,
}

impl Step {
    /// Number of requirements unlocked across every target.
    pub fn unlocked(&self) -> usize {
        self.unlocks.values().map(Vec::len).sum()
    }
}

/// How far one target is from being ready.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remaining {
    pub framework: String,
    pub name: String,
    pub ready: bool,
    pub percent: u32,
    /// Steps whose control holds back a requirement of this framework.
    pub steps: usize,
    /// Sum of those steps' efforts.
    pub effort: u32,
    /// Requirements no control addresses: not in the estimate, they need new controls.
    pub unaddressed: usize,
}

/// The ranked steps over every target framework.
pub fn steps(
    lib: &Library,
    outcomes: &BTreeMap<String, ControlOutcome>,
    frameworks: &[FrameworkStatus],
    settings: &Settings,
) -> Vec<Step> {
    // Every held-back requirement: (framework, requirement id, blockers still open).
    let mut open: Vec<(&str, &str, BTreeSet<&str>)> = Vec::new();
    for fw in frameworks {
        for r in &fw.requirements {
            if matches!(r.status, ReqStatus::Failing | ReqStatus::Pending) {
                open.push((
                    fw.id.as_str(),
                    r.id.as_str(),
                    r.blocked_by.iter().map(String::as_str).collect(),
                ));
            }
        }
    }
    let mut candidates: BTreeSet<&str> = open
        .iter()
        .flat_map(|(_, _, b)| b.iter().copied())
        .collect();
    let mut out = Vec::new();
    while !candidates.is_empty() {
        let mut best: Option<(f64, usize, u32, Severity, &str)> = None;
        for c in &candidates {
            let effort = lib.controls.get(*c).map_or(1, |ctl| ctl.effort.max(1));
            let severity = lib
                .controls
                .get(*c)
                .map_or(Severity::Low, |ctl| ctl.severity);
            let mut value = 0.0;
            let mut unlocks = 0;
            for (fw, _, blockers) in &open {
                if blockers.contains(c) {
                    value += settings.weight(fw) / blockers.len() as f64;
                    unlocks += usize::from(blockers.len() == 1);
                }
            }
            let score = value / f64::from(effort);
            let better = match &best {
                None => true,
                Some((bs, bu, be, bsev, bid)) => score
                    .total_cmp(bs)
                    .then_with(|| unlocks.cmp(bu))
                    .then_with(|| be.cmp(&effort))
                    .then_with(|| severity.cmp(bsev))
                    .then_with(|| bid.cmp(c))
                    .is_gt(),
            };
            if better {
                best = Some((score, unlocks, effort, severity, c));
            }
        }
        let Some((score, _, effort, severity, id)) = best else {
            break;
        };
        candidates.remove(id);
        let mut unlocks: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut advances: BTreeMap<String, usize> = BTreeMap::new();
        for (fw, req, blockers) in &mut open {
            if blockers.remove(id) {
                if blockers.is_empty() {
                    unlocks
                        .entry((*fw).to_owned())
                        .or_default()
                        .push((*req).to_owned());
                } else {
                    *advances.entry((*fw).to_owned()).or_default() += 1;
                }
            }
        }
        open.retain(|(_, _, b)| !b.is_empty());
        let control = lib.controls.get(id);
        let outcome = outcomes.get(id);
        let kind = match outcome.map(|o| o.state) {
            Some(ControlState::Expired) => StepKind::Renew,
            Some(ControlState::Missing) => StepKind::Implement,
            _ => StepKind::Fix,
        };
        out.push(Step {
            rank: out.len() + 1,
            kind,
            control: id.to_owned(),
            title: control.map(|c| c.title.clone()).unwrap_or_default(),
            severity,
            effort,
            resources: outcome.map(|o| o.resources.clone()).unwrap_or_default(),
            expired_on: outcome.and_then(|o| o.expired_on.clone()),
            remediation: control.map(|c| c.remediation.clone()).unwrap_or_default(),
            unlocks,
            advances,
            score: (score * 1000.0).round() / 1000.0,
        });
    }
    out
}

/// For each target: the steps and effort left, cheapest first (ready ones lead).
pub fn remaining(frameworks: &[FrameworkStatus], steps: &[Step]) -> Vec<Remaining> {
    let effort_of: BTreeMap<&str, u32> = steps
        .iter()
        .map(|s| (s.control.as_str(), s.effort))
        .collect();
    let mut out: Vec<(usize, Remaining)> = frameworks
        .iter()
        .enumerate()
        .map(|(i, fw)| {
            let needed: BTreeSet<&str> = fw
                .requirements
                .iter()
                .flat_map(|r| r.blocked_by.iter().map(String::as_str))
                .collect();
            let effort = needed
                .iter()
                .map(|c| effort_of.get(c).copied().unwrap_or(0))
                .sum();
            (
                i,
                Remaining {
                    framework: fw.id.clone(),
                    name: fw.name.clone(),
                    ready: fw.readiness.ready(),
                    percent: fw.readiness.percent,
                    steps: needed.len(),
                    effort,
                    unaddressed: fw.readiness.unaddressed,
                },
            )
        })
        .collect();
    out.sort_by(|(ia, a), (ib, b)| {
        (a.effort, a.unaddressed, *ia).cmp(&(b.effort, b.unaddressed, *ib))
    });
    out.into_iter().map(|(_, r)| r).collect()
}
