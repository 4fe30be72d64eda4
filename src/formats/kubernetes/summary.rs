//! The Kubernetes part of a run's summary: units, workloads and what could not be rendered.

use serde::Serialize;

/// What the Kubernetes reader did, for the JSON summary (`summary.kubernetes`) and the human
/// summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KubernetesSummary {
    /// Deployment units evaluated: root kustomizations, rendered charts and directories of
    /// plain manifests.
    pub units: usize,
    /// Workload resources evaluated (a workload rendered in two units counts twice).
    pub workloads: usize,
    /// Charts rendered with `helm template`, by directory.
    pub charts_rendered: Vec<String>,
    /// Charts that could not be rendered (nothing of them is evaluated), with the reason.
    pub charts_not_rendered: Vec<NotRendered>,
    /// Kustomizations rendered without some of their inputs (remote bases, generators and
    /// plugins vouch does not run), with what was left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kustomizations_partial: Vec<NotRendered>,
}

/// A unit, or a part of one, that vouch did not render, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotRendered {
    pub path: String,
    pub reason: String,
}
