//! The assessment: the run's provenance plus one result per (control, resource).
//!
//! This is the contract every consumer reads (report, gate, evidence, roadmap). Its JSON form is
//! versioned by [`SCHEMA_VERSION`]; fields are only ever added. Everything is sorted, so the same
//! input gives byte-identical JSON.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::{Evaluation, Outcome};
use crate::error::Problem;
use crate::formats::inventory::Attestation;
use crate::library::{Control, Library, Severity};
use crate::model::Resource;

/// Version of the JSON shape of [`Assessment`].
pub const SCHEMA_VERSION: u32 = 1;

/// A result's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// The control could not be evaluated on the resource: never a pass.
    Error,
    /// A failure covered by a current waiver.
    Waived,
    /// No resource of the kinds the control checks exists in the scanned tree.
    NotApplicable,
}

impl Status {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Waived => "waived",
            Status::NotApplicable => "not_applicable",
        }
    }
}

/// The resource a result is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ResourceRef {
    pub address: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    /// The Terraform module directory (or empty) that disambiguates equal addresses.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl ResourceRef {
    /// The reference of a failing resource: where the value of the first attribute a fired
    /// policy reads was written, when the resource records it (a Kustomize patch), else the
    /// resource itself.
    fn at(r: &Resource, fired: &[String], reads: &BTreeMap<String, Vec<String>>) -> Self {
        let mut out = ResourceRef::of(r);
        let span = fired
            .iter()
            .filter_map(|p| reads.get(p))
            .flatten()
            .find_map(|attr| r.attr_spans.get(attr));
        if let Some(span) = span {
            out.file.clone_from(&span.file);
            out.line = span.line;
            out.column = span.column;
        }
        out
    }

    /// The reference of a resource.
    pub fn of(r: &Resource) -> Self {
        ResourceRef {
            address: r.address.clone(),
            entity_type: r.entity_type.clone(),
            scope: r.scope.clone(),
            file: r.span.file.clone(),
            line: r.span.line,
            column: r.span.column,
        }
    }
}

/// A waiver that covered a result.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct WaiverRef {
    pub reason: String,
    pub approver: String,
    pub expires: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// One control on one resource (or on nothing, for manual and not-applicable results).
///
/// A large run holds 600,000 of these, most of them passes: what only a failure or an error
/// has (its policies, messages, unknown attributes) is one boxed [`Detail`], absent on a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// The control's id, shared by its results.
    pub control: std::sync::Arc<str>,
    /// The control's title, family and mappings (one allocation per control, not per result).
    pub about: std::sync::Arc<ControlAbout>,
    pub status: Status,
    pub severity: Severity,
    /// Shared by the results of one resource that point at the resource itself.
    pub resource: Option<std::sync::Arc<ResourceRef>>,
    /// The policies, messages and unknown attributes behind it (`None`: none of them).
    pub detail: Option<Box<Detail>>,
    /// False when a failure rests on something vouch could not know (an unknown attribute, or
    /// whether the resource exists): it still fails closed, and its message says what could
    /// not be determined and why instead of asserting a fact.
    pub determined: bool,
    /// Stable identity across runs: control, resource scope and address, fired policies.
    pub fingerprint: Fingerprint,
    /// Boxed, like the attestation: most results have neither.
    pub waiver: Option<Box<WaiverRef>>,
    /// For manual controls: the attestation that satisfied (or failed) it.
    pub attestation: Option<Box<Attestation>>,
    /// How the result is known: `configuration`, `system_export`, `declared`, `attestation`
    /// or `attestation_unverified` (see `basis`).
    pub basis: crate::basis::Basis,
    /// Where the facts it read come from: declared (inventory file and line) or imported
    /// (export file, digest, export date, age).
    /// Shared by the results of one resource that read the same facts.
    pub sources: std::sync::Arc<[crate::model::FactSource]>,
}

/// What every result of a control repeats about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ControlAbout {
    pub title: String,
    pub family: String,
    /// Framework id → requirement ids.
    pub frameworks: BTreeMap<String, Vec<String>>,
}

impl ControlAbout {
    /// What results repeat about `control`.
    pub fn of(control: &Control) -> ControlAbout {
        ControlAbout {
            title: control.title.clone(),
            family: control.family.clone(),
            frameworks: control.frameworks.clone(),
        }
    }
}

/// What a result that is not a plain pass carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detail {
    /// Ids of the policies that fired (fail) or errored (error).
    pub policies: Vec<String>,
    pub messages: Vec<String>,
    /// Attributes that the fired policies read and a static file could not know (never
    /// assumed compliant).
    pub unknown: Vec<String>,
}

impl Detail {
    /// A detail, or `None` when all of it is empty.
    pub fn boxed(
        policies: Vec<String>,
        messages: Vec<String>,
        unknown: Vec<String>,
    ) -> Option<Box<Detail>> {
        (!policies.is_empty() || !messages.is_empty() || !unknown.is_empty()).then(|| {
            Box::new(Detail {
                policies,
                messages,
                unknown,
            })
        })
    }
}

impl CheckResult {
    /// Ids of the policies that fired (fail) or errored (error).
    pub fn policies(&self) -> &[String] {
        self.detail.as_deref().map_or(&[], |d| &d.policies)
    }

    /// What the policies say, and why a result is what it is.
    pub fn messages(&self) -> &[String] {
        self.detail.as_deref().map_or(&[], |d| &d.messages)
    }

    /// Attributes the fired policies read whose value is unknown.
    pub fn unknown(&self) -> &[String] {
        self.detail.as_deref().map_or(&[], |d| &d.unknown)
    }

    /// Adds a message.
    pub fn push_message(&mut self, message: String) {
        self.detail
            .get_or_insert_with(Box::default)
            .messages
            .push(message);
    }

    /// The result as its JSON shows it (field order and omissions are part of the contract).
    pub fn view(&self) -> ResultView<'_> {
        ResultView {
            control: &self.control,
            title: &self.about.title,
            family: &self.about.family,
            status: self.status,
            severity: self.severity,
            resource: self.resource.as_deref(),
            policies: self.policies(),
            messages: self.messages(),
            unknown: self.unknown(),
            determined: self.determined,
            frameworks: &self.about.frameworks,
            fingerprint: self.fingerprint.as_str(),
            waiver: self.waiver.as_deref(),
            attestation: self.attestation.as_deref(),
            basis: self.basis,
            sources: &self.sources,
        }
    }
}

/// A result's JSON fields, in order.
#[derive(Serialize)]
pub struct ResultView<'a> {
    control: &'a str,
    title: &'a str,
    family: &'a str,
    status: Status,
    severity: Severity,
    resource: Option<&'a ResourceRef>,
    policies: &'a [String],
    messages: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    unknown: &'a [String],
    determined: bool,
    frameworks: &'a BTreeMap<String, Vec<String>>,
    fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<&'a WaiverRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attestation: Option<&'a Attestation>,
    basis: crate::basis::Basis,
    #[serde(skip_serializing_if = "<[crate::model::FactSource]>::is_empty")]
    sources: &'a [crate::model::FactSource],
}

impl Serialize for CheckResult {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(serializer)
    }
}

/// Counts of results by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub waived: usize,
    pub not_applicable: usize,
}

impl Counts {
    fn add(&mut self, s: Status) {
        match s {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Error => self.error += 1,
            Status::Waived => self.waived += 1,
            Status::NotApplicable => self.not_applicable += 1,
        }
    }
}

/// Per framework: how many of its mapped requirements pass or fail in this run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FrameworkSummary {
    pub name: String,
    /// Requirements some control of this run maps to.
    pub requirements_checked: usize,
    /// Of those, requirements with a failing or erroring control.
    pub requirements_failing: usize,
    /// The failing requirement ids, sorted.
    pub failing: Vec<String>,
}

/// Provenance of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub tool: String,
    pub version: String,
    /// Digest over every file of the control library.
    pub library_digest: String,
    /// The scanned root as given on the command line.
    pub root: String,
    /// A git revision, when the input was read from git.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The date ages are counted up to (`YYYY-MM-DD`).
    pub as_of: String,
}

/// Run-level summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub resources: usize,
    /// Candidate files no parser recognised (skipped and counted).
    pub unrecognised_files: usize,
    pub controls: usize,
    pub results: Counts,
    pub frameworks: BTreeMap<String, FrameworkSummary>,
    /// Kubernetes units, workloads and charts (present when the tree holds Kubernetes input).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<crate::formats::kubernetes::KubernetesSummary>,
    /// What the Terraform evaluation did: roots, modules expanded, and module calls not
    /// expanded (with why); absent when the tree holds no Terraform configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terraform: Option<crate::formats::terraform::TerraformSummary>,
    /// Results (not counting not-applicable ones) by how they are known.
    pub by_basis: BTreeMap<crate::basis::Basis, usize>,
}

/// A problem in JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProblemRecord {
    pub kind: crate::error::ProblemKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl From<&Problem> for ProblemRecord {
    fn from(p: &Problem) -> Self {
        ProblemRecord {
            kind: p.kind,
            file: p.file.clone(),
            line: p.line,
            message: p.message.clone(),
            help: p.help.clone(),
        }
    }
}

/// The whole outcome of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub schema_version: u32,
    pub provenance: Provenance,
    pub summary: Summary,
    pub results: Vec<CheckResult>,
    /// Failures of the run itself (unparseable files, library errors); any makes exit code 2.
    pub problems: Vec<ProblemRecord>,
    /// Files read, by format.
    pub files: BTreeMap<String, crate::formats::FileKind>,
    /// Candidate files no parser recognised, or that were not read (too big, not UTF-8, a
    /// symlink leaving the tree): skipped, but listed and counted.
    pub unrecognised: Vec<String>,
    /// The waivers of `vouch.toml` and what they matched (unmatched ones should be removed).
    pub waivers: Vec<WaiverStatus>,
    /// Git submodules under the scanned root whose files were scanned (at the commit checked
    /// out); one that is not checked out is a problem, never a silent pass.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub submodules: Vec<crate::git::Submodule>,
    /// Organisation controls (manual, and automated ones that read only the inventory) not
    /// evaluated because the tree declares no organisation: reported once, not as failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_evaluated: Option<NotEvaluated>,
}

/// Controls a run did not evaluate, and how to enable them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotEvaluated {
    pub reason: String,
    pub help: String,
    /// Control ids, sorted.
    pub controls: Vec<String>,
}

/// A waiver's state after a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverStatus {
    pub control: String,
    pub resource: String,
    /// The glob on the resource's file the waiver is scoped to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub reason: String,
    pub approver: String,
    pub expires: String,
    pub expired: bool,
    /// Results it matched.
    pub matched: usize,
    pub line: u32,
}

/// Which controls a run covers.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only controls mapped to one of these frameworks (empty: all).
    pub frameworks: Vec<String>,
    /// Only these control ids (empty: all).
    pub controls: Vec<String>,
    /// Keep only results that are not a pass (for reviews of large inventories).
    pub findings_only: bool,
}

impl Selection {
    /// True when `control` is selected (SOC 3 selects SOC 2 mappings).
    pub fn includes(&self, control: &Control) -> bool {
        let by_fw = self.frameworks.is_empty()
            || self.frameworks.iter().any(|f| {
                let f = if f == "soc3" { "soc2" } else { f.as_str() };
                control.frameworks.get(f).is_some_and(|ids| !ids.is_empty())
            });
        let by_id = self.controls.is_empty() || self.controls.iter().any(|c| c == &control.id);
        by_fw && by_id
    }
}

/// The resource attributes each policy reads (`resource.x`, `resource has x`), by policy id,
/// in the order the policy text names them.
fn policy_reads(lib: &Library) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for file in &lib.policies {
        for chunk in file.text.split("@id(\"").skip(1) {
            let Some((id, body)) = chunk.split_once("\")") else {
                continue;
            };
            let mut attrs: Vec<String> = Vec::new();
            for marker in ["resource.", "resource has "] {
                for (i, _) in body.match_indices(marker) {
                    let word: String = body[i + marker.len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !word.is_empty() && !attrs.contains(&word) {
                        attrs.push(word);
                    }
                }
            }
            out.insert(id.to_owned(), attrs);
        }
    }
    out
}

/// The fingerprint of a finding: stable across line moves and reformatting.
pub fn fingerprint(control: &str, resource: Option<&Resource>, policies: &[String]) -> Fingerprint {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(control.as_bytes());
    h.update([0]);
    if let Some(r) = resource {
        h.update(r.entity_type.as_bytes());
        h.update([0]);
        h.update(r.scope.as_bytes());
        h.update([0]);
        h.update(r.address.as_bytes());
    }
    for p in policies {
        h.update([0]);
        h.update(p.as_bytes());
    }
    let mut hex = [0u8; 32];
    // 16 bytes are 32 hex digits: the buffer has exactly their room.
    let _ = hex::encode_to_slice(&h.finalize()[..16], &mut hex);
    Fingerprint(hex)
}

/// A result's stable identity: 32 lowercase hex digits (the first 128 bits of a SHA-256), held
/// inline — a large run has 600,000 of them.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// Its 32 hex digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Everything the assessment is built from.
pub struct Inputs<'a> {
    pub library: &'a Library,
    pub resources: &'a [Resource],
    /// In parts, in no particular order (the results are sorted here).
    pub evaluations: Vec<Vec<Evaluation>>,
    pub attestations: &'a [Attestation],
    pub problems: &'a [Problem],
    pub files: BTreeMap<String, crate::formats::FileKind>,
    pub unrecognised: Vec<String>,
    pub provenance: Provenance,
    pub selection: &'a Selection,
    /// The evaluation date as days since the epoch (for attestation expiry).
    pub as_of_days: i64,
    /// Keep passing results (false: only what is not a pass, for a side the gate only diffs).
    pub keep_passing: bool,
}

impl Assessment {
    /// Builds the assessment: results, summaries, sorted.
    pub fn build(inputs: Inputs<'_>) -> Assessment {
        let lib = inputs.library;
        type Shared = (std::sync::Arc<str>, std::sync::Arc<ControlAbout>);
        // A control's id, title, family and mappings, built once and shared by its results.
        let parts_of = |c: &crate::library::Control| -> Shared {
            (
                std::sync::Arc::from(c.id.as_str()),
                std::sync::Arc::new(ControlAbout::of(c)),
            )
        };
        let shared: BTreeMap<&str, Shared> = lib
            .controls
            .values()
            .map(|c| (c.id.as_str(), parts_of(c)))
            .collect();
        let parts = |c: &crate::library::Control| {
            shared
                .get(c.id.as_str())
                .cloned()
                .unwrap_or_else(|| parts_of(c))
        };
        let attr_reads = std::sync::OnceLock::new();
        let resource_refs: Vec<std::sync::OnceLock<std::sync::Arc<ResourceRef>>> =
            (0..inputs.resources.len())
                .map(|_| std::sync::OnceLock::new())
                .collect();
        let declared_sources: Vec<std::sync::OnceLock<std::sync::Arc<[crate::model::FactSource]>>> =
            (0..inputs.resources.len())
                .map(|_| std::sync::OnceLock::new())
                .collect();
        let reads = crate::basis::Reads::of(lib);
        let no_reads = std::collections::BTreeSet::new();
        // Every control by its rank among the library's ids (the order of `lib.controls`), with
        // what a result of it needs: looked up once per control, not once per result.
        let by_rank: Vec<&crate::library::Control> = lib.controls.values().collect();
        let shared_by_rank: Vec<Shared> = by_rank.iter().map(|c| parts(c)).collect();
        let reads_by_rank: Vec<&std::collections::BTreeSet<String>> = by_rank
            .iter()
            .map(|c| reads.attrs.get(c.id.as_str()).unwrap_or(&no_reads))
            .collect();
        let selected_by_rank: Vec<bool> = by_rank
            .iter()
            .map(|c| inputs.selection.includes(c))
            .collect();
        // An evaluation's control is one of a few shared ids: each is found once by its text,
        // then by its address (600,000 evaluations name about 130 controls).
        let rank_by_address = control_ranks(&inputs.evaluations, lib);
        let rank_of = |e: &Evaluation| -> Option<usize> {
            rank_by_address
                .get(&(std::sync::Arc::as_ptr(&e.control).cast::<u8>() as usize))
                .copied()
                .flatten()
        };
        // The selected controls that were evaluated (on some resource): the others are listed
        // below as not applicable, manual or not evaluated.
        let mut seen_controls: BTreeMap<&str, bool> = BTreeMap::new();
        for rank in rank_by_address.values().copied().flatten() {
            if selected_by_rank[rank] {
                seen_controls.insert(by_rank[rank].id.as_str(), true);
            }
        }
        let keep_passing = inputs.keep_passing && !inputs.selection.findings_only;
        // One result per evaluation, built in parallel (a large inventory has 600,000 of them).
        // Sort keys: a control's rank among the library's ids, a resource's rank by (scope,
        // address, type) — computed once, so 600,000 results are ordered by integers.
        let resource_rank = resource_ranks(inputs.resources);
        let one = |e: &Evaluation, rank: usize| -> CheckResult {
            let control = by_rank[rank];
            let index = e.resource;
            let resource = &inputs.resources[index];
            let mut status = match e.outcome {
                Outcome::Pass => Status::Pass,
                Outcome::Fail => Status::Fail,
                Outcome::Error => Status::Error,
            };
            let note =
                crate::basis::annotate(reads_by_rank[rank], resource, &declared_sources[index]);
            if !note.stale.is_empty() && status == Status::Pass {
                // A fact read from a stale export shows nothing about today.
                status = Status::Fail;
            }
            let (id, about) = shared_by_rank[rank].clone();
            let detail = e.detail.as_deref().cloned().unwrap_or_default();
            let (policies, mut messages, unknown) =
                (detail.policies, detail.messages, detail.unknown);
            let determined = !detail.undetermined;
            let itself = || {
                std::sync::Arc::clone(
                    resource_refs[index]
                        .get_or_init(|| std::sync::Arc::new(ResourceRef::of(resource))),
                )
            };
            let at = if resource.attr_spans.is_empty() || status == Status::Pass {
                itself()
            } else {
                let at = ResourceRef::at(
                    resource,
                    &policies,
                    attr_reads.get_or_init(|| policy_reads(lib)),
                );
                if at == *itself() {
                    itself()
                } else {
                    std::sync::Arc::new(at)
                }
            };
            if status == Status::Fail
                && let Some(notes) = resource.notes.get(control.id.as_str())
            {
                messages.extend(notes.iter().cloned());
            }
            if status != Status::Pass {
                messages.extend(note.stale);
                messages.extend(note.details);
            }
            CheckResult {
                control: id,
                about,
                status,
                severity: control.severity,
                resource: Some(at),
                fingerprint: fingerprint(&control.id, Some(resource), &policies),
                detail: Detail::boxed(policies, messages, unknown),
                determined,
                waiver: None,
                attestation: None,
                basis: note.basis.unwrap_or(crate::basis::Basis::Declared),
                sources: note.sources,
            }
        };
        // Results on no resource (controls evaluated on none): few, built here.
        let mut extras: Vec<(u64, CheckResult)> = Vec::new();
        let has_organisation = inputs
            .files
            .values()
            .any(|k| *k == crate::formats::FileKind::Inventory);
        let mut not_evaluated = Vec::new();
        for (rank, control) in by_rank.iter().copied().enumerate() {
            if !inputs.selection.includes(control)
                || seen_controls.contains_key(control.id.as_str())
            {
                continue;
            }
            if !has_organisation && (!control.automated || reads.inventory_only(&control.id)) {
                not_evaluated.push(control.id.clone());
                continue;
            }
            let basis = match (control.automated, reads.inventory_only(&control.id)) {
                (true, true) => crate::basis::Basis::Declared,
                (true, false) => crate::basis::Basis::Configuration,
                (false, _) => crate::basis::Basis::AttestationUnverified,
            };
            let (status, messages, attestation) = if control.automated {
                (
                    Status::NotApplicable,
                    vec!["no resource of the kinds this control checks was found".to_owned()],
                    None,
                )
            } else {
                manual_status(control, inputs.attestations, inputs.as_of_days)
            };
            let (id, about) = parts(control);
            extras.push((
                // Its control's rank, and no resource (rank 0).
                (rank as u64) << 32,
                CheckResult {
                    control: id,
                    about,
                    status,
                    severity: control.severity,
                    resource: None,
                    detail: Detail::boxed(Vec::new(), messages, Vec::new()),
                    determined: true,
                    fingerprint: fingerprint(&control.id, None, &[]),
                    waiver: None,
                    basis: match &attestation {
                        Some(a) if a.evidence_digest.is_some() => crate::basis::Basis::Attestation,
                        _ => basis,
                    },
                    attestation: attestation.map(Box::new),
                    sources: std::sync::Arc::default(),
                },
            ));
        }
        // Every result's sort key — a control's rank, then its resource's — with its place
        // among the evaluations (or after them, for the few results built above): these small
        // pairs are put in order, then the results are built in parallel straight into a vector
        // of its exact size, so 600,000 results are never compared by their strings, copied or
        // moved. The place breaks ties, so equal keys keep the engine's order.
        let results: Vec<CheckResult> = {
            use rayon::prelude::*;
            // The evaluations stay in their parts: the i-th is found by its part's start.
            let starts: Vec<usize> = inputs
                .evaluations
                .iter()
                .scan(0, |at, part| {
                    let start = *at;
                    *at += part.len();
                    Some(start)
                })
                .collect();
            let evaluated: usize = inputs.evaluations.iter().map(Vec::len).sum();
            let evaluation = |i: usize| -> Option<&Evaluation> {
                let part = starts.partition_point(|&s| s <= i).checked_sub(1)?;
                inputs.evaluations.get(part)?.get(i - starts[part])
            };
            let reported = |e: &Evaluation| {
                rank_of(e).filter(|&rank| {
                    selected_by_rank[rank] && (keep_passing || e.outcome != Outcome::Pass)
                })
            };
            // A key's high half is its control's rank among the library's ids: the control is
            // found again from it, so a pair is 16 bytes (600,000 of them are held at the run's
            // tightest moment). Every evaluation gets a pair (one not reported, a pair that sorts
            // last), so the pairs are collected once into their exact room and cut after sorting.
            const LEFT_OUT: (u64, usize) = (u64::MAX, usize::MAX);
            let mut order: Vec<(u64, usize)> = (0..evaluated + extras.len())
                .into_par_iter()
                .map(|i| match evaluation(i) {
                    Some(e) => reported(e).map_or(LEFT_OUT, |rank| {
                        (((rank as u64) << 32) | resource_rank[e.resource], i)
                    }),
                    None => (extras[i - evaluated].0, i),
                })
                .collect();
            // (key, place) pairs are unique: an unstable sort gives the stable order.
            order.par_sort_unstable();
            order.truncate(order.partition_point(|pair| *pair != LEFT_OUT));
            order
                .into_par_iter()
                .map(|(key, i)| match evaluation(i) {
                    Some(e) => one(e, (key >> 32) as usize),
                    None => extras[i - evaluated].1.clone(),
                })
                .collect()
        };
        let mut problems: Vec<ProblemRecord> =
            inputs.problems.iter().map(ProblemRecord::from).collect();
        problems.sort_by(|a, b| (&a.file, a.line, &a.message).cmp(&(&b.file, b.line, &b.message)));
        problems.dedup();
        let selected = lib
            .controls
            .values()
            .filter(|c| inputs.selection.includes(c))
            .count();
        let mut a = Assessment {
            schema_version: SCHEMA_VERSION,
            provenance: inputs.provenance,
            summary: Summary {
                files: inputs.files.len(),
                resources: inputs.resources.len(),
                unrecognised_files: inputs.unrecognised.len(),
                controls: selected,
                ..Summary::default()
            },
            results,
            problems,
            files: inputs.files,
            unrecognised: inputs.unrecognised,
            waivers: Vec::new(),
            submodules: Vec::new(),
            not_evaluated: (!not_evaluated.is_empty()).then(|| NotEvaluated {
                reason: format!(
                    "{} organisation controls were not evaluated: the tree declares no organisation (no inventory)",
                    not_evaluated.len()
                ),
                help: "declare the organisation in an inventory file (`[organization]`, docs/inventory.md) to evaluate its governance, identity and operations controls".to_owned(),
                controls: not_evaluated,
            }),
        };
        a.summarise(lib);
        a
    }

    /// Recomputes the counts and framework summaries (after waivers change statuses).
    pub fn summarise(&mut self, lib: &Library) {
        let mut counts = Counts::default();
        let mut by_basis: BTreeMap<crate::basis::Basis, usize> = BTreeMap::new();
        // Aggregate per control first (few), then fan out to requirements once per control.
        type Frameworks = BTreeMap<String, Vec<String>>;
        let mut control_failing: BTreeMap<&str, (bool, &Frameworks)> = BTreeMap::new();
        // Results are ordered by control: a run of one control is folded before it is looked up
        // (one map lookup per control, not per result).
        let mut run: Option<(&CheckResult, bool)> = None;
        for r in &self.results {
            counts.add(r.status);
            if r.status != Status::NotApplicable {
                *by_basis.entry(r.basis).or_default() += 1;
            }
            let failing = matches!(r.status, Status::Fail | Status::Error);
            match &mut run {
                Some((first, any)) if first.control == r.control => *any |= failing,
                _ => {
                    if let Some((first, any)) = run.replace((r, failing)) {
                        control_failing
                            .entry(first.control.as_ref())
                            .or_insert((false, &first.about.frameworks))
                            .0 |= any;
                    }
                }
            }
        }
        if let Some((first, any)) = run {
            control_failing
                .entry(first.control.as_ref())
                .or_insert((false, &first.about.frameworks))
                .0 |= any;
        }
        self.summary.by_basis = by_basis;
        let mut checked: BTreeMap<&str, BTreeMap<&str, bool>> = BTreeMap::new();
        for (failing, fws) in control_failing.values() {
            for (fw, ids) in *fws {
                let entry = checked.entry(fw.as_str()).or_default();
                for id in ids {
                    *entry.entry(id.as_str()).or_insert(false) |= *failing;
                }
            }
        }
        let mut frameworks = BTreeMap::new();
        for (fw, reqs) in checked {
            let failing: Vec<String> = reqs
                .iter()
                .filter(|(_, f)| **f)
                .map(|(id, _)| (*id).to_owned())
                .collect();
            let mut failing = failing;
            failing.sort_by(|a, b| crate::library::catalog::natural_cmp(a, b));
            frameworks.insert(
                fw.to_owned(),
                FrameworkSummary {
                    name: lib.catalogs.name(fw).to_owned(),
                    requirements_checked: reqs.len(),
                    requirements_failing: failing.len(),
                    failing,
                },
            );
        }
        self.summary.results = counts;
        self.summary.frameworks = frameworks;
    }

    /// True when the run itself failed (problems or evaluation errors).
    pub fn run_failed(&self) -> bool {
        !self.problems.is_empty() || self.results.iter().any(|r| r.status == Status::Error)
    }

    /// Failing results at or above `threshold`.
    pub fn failures_at(&self, threshold: Severity) -> impl Iterator<Item = &CheckResult> {
        self.results
            .iter()
            .filter(move |r| r.status == Status::Fail && r.severity >= threshold)
    }
}

/// The rank among the library's ids of each control the evaluations name, by the address of
/// the shared id they hold (`None`: a control the library does not have).
fn control_ranks(
    evaluations: &[Vec<Evaluation>],
    lib: &Library,
) -> std::collections::HashMap<usize, Option<usize>, foldhash::fast::FixedState> {
    let mut ranks = std::collections::HashMap::default();
    let mut last = None;
    for e in evaluations.iter().flatten() {
        let address = std::sync::Arc::as_ptr(&e.control).cast::<u8>() as usize;
        if last == Some(address) {
            continue;
        }
        last = Some(address);
        ranks
            .entry(address)
            .or_insert_with(|| lib.controls.keys().position(|id| **id == *e.control));
    }
    ranks
}

/// Each resource's rank by (scope, address, type), from 1 (0 is "no resource"); equal triples
/// share a rank.
fn resource_ranks(resources: &[Resource]) -> Vec<u64> {
    let key = |i: usize| {
        let r = &resources[i];
        (r.scope.as_str(), r.address.as_str(), r.entity_type.as_str())
    };
    // The resources come sorted by (type, scope, address): one sorted run per type. A stable
    // sort finds those runs and merges them (a few comparisons per resource); a quicksort
    // compared 60,000 addresses with long common prefixes about 16 times each.
    let mut order: Vec<usize> = (0..resources.len()).collect();
    order.sort_by(|a, b| key(*a).cmp(&key(*b)));
    let mut ranks = vec![0; resources.len()];
    let mut rank = 0;
    for (n, &i) in order.iter().enumerate() {
        if n == 0 || key(order[n - 1]) != key(i) {
            rank += 1;
        }
        ranks[i] = rank;
    }
    ranks
}

/// A manual control's status from its attestations: the newest one decides.
fn manual_status(
    control: &Control,
    attestations: &[Attestation],
    as_of_days: i64,
) -> (Status, Vec<String>, Option<Attestation>) {
    let newest = attestations
        .iter()
        .filter(|a| a.control == control.id)
        .max_by_key(|a| a.expires_days);
    match newest {
        None => (
            Status::Fail,
            vec![format!(
                "no attestation for manual control `{}`; add an [[attestation]] to the inventory",
                control.id
            )],
            None,
        ),
        Some(a) if a.expires_days < as_of_days => (
            Status::Fail,
            vec![format!(
                "the attestation by {} expired on {}",
                a.owner, a.expires
            )],
            Some(a.clone()),
        ),
        Some(a) => (
            Status::Pass,
            vec![format!(
                "attested by {} on {} ({}), valid until {}",
                a.owner, a.date, a.evidence, a.expires
            )],
            Some(a.clone()),
        ),
    }
}

/// Values for tests of the assessment's consumers.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// An assessment of nothing.
    pub fn empty() -> Assessment {
        Assessment {
            schema_version: SCHEMA_VERSION,
            provenance: Provenance {
                tool: "vouch".to_owned(),
                version: "0".to_owned(),
                library_digest: "sha256:0".to_owned(),
                root: ".".to_owned(),
                revision: None,
                as_of: "2026-01-01".to_owned(),
            },
            summary: Summary::default(),
            results: Vec::new(),
            problems: Vec::new(),
            files: BTreeMap::new(),
            unrecognised: Vec::new(),
            waivers: Vec::new(),
            submodules: Vec::new(),
            not_evaluated: None,
        }
    }
}
