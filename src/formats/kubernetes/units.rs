//! Deployment units: which objects are evaluated together, and how they are addressed.
//!
//! - A **Helm chart** (a directory with `Chart.yaml`) owns every file under it: its templates
//!   are never read as plain YAML; it is rendered with `helm template` ([`super::helm`]) or
//!   listed as not rendered.
//! - A **root kustomization** (a `kustomization.yaml` no other kustomization of the tree uses)
//!   is rendered with everything it uses ([`super::kustomize`]); files that only serve a
//!   kustomization (its resources, bases, components and patches) are not evaluated on their
//!   own.
//! - The remaining manifests of a **directory** are one unit (`kubectl apply -f dir/`).
//!
//! An object's identity is (unit, kind, namespace, name) and its address is
//! `unit: Kind/namespace/name` (`Kind/name` for cluster-scoped kinds; no prefix for the scanned
//! root), so the same Deployment in two overlays is two resources. Inside a kustomization a
//! repeated identity is a problem (Kustomize refuses it too). In a directory, two files
//! declaring one object are alternatives (`kubectl apply -f` applies each file on its own): each
//! is evaluated, addressed by its file (`manifests/install.yaml: Deployment/argocd/server`);
//! one file declaring an object twice is a problem.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;

use super::kustomize::{self, Rendered};
use super::network::{self, NamespaceDecl, NetworkPolicyDecl};
use super::read::Reader;
use super::summary::{KubernetesSummary, NotRendered};
use super::tree::{At, Node};
use super::{K8sFile, Read, Role, identity, read_manifests, read_object};
use crate::error::{Problem, ProblemKind};
use crate::model::Resource;

/// A chart found in the tree, waiting to be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The chart's directory relative to the scanned root.
    pub dir: String,
}

/// What the cross-file pass produced.
#[derive(Debug, Default)]
pub struct Assembled {
    pub resources: Vec<Resource>,
    pub problems: Vec<Problem>,
    /// `None` when the tree holds no Kubernetes input.
    pub summary: Option<KubernetesSummary>,
    /// Files read as Kubernetes input (manifests, kustomizations and what they use, charts).
    pub files: Vec<String>,
    /// YAML files that hold nothing Kubernetes and that no kustomization uses.
    pub unrecognised: Vec<String>,
    /// Charts to render (see [`super::helm::render_charts`]).
    pub charts: Vec<Chart>,
}

/// The chart directory holding `path`, if any (the outermost one: a subchart renders with
/// its parent).
fn chart_of<'c>(charts: &'c BTreeSet<String>, path: &str) -> Option<&'c str> {
    charts
        .iter()
        .find(|dir| {
            dir.is_empty()
                || path
                    .strip_prefix(dir.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        })
        .map(String::as_str)
}

/// Groups every Kubernetes file into units and reads the units into resources.
pub fn assemble(files: &[Arc<K8sFile>]) -> Assembled {
    // A chart is a directory with `Chart.yaml` and templates (or dependencies to render).
    let charts: BTreeSet<String> = files
        .iter()
        .filter(|f| matches!(f.role, Role::Chart))
        .filter(|f| {
            let templates = if f.dir().is_empty() {
                "templates/".to_owned()
            } else {
                format!("{}/templates/", f.dir())
            };
            f.origin.text.contains("dependencies:")
                || files.iter().any(|o| o.path().starts_with(&templates))
        })
        .map(|f| f.dir().to_owned())
        .collect();
    // Files under `templates/` that no chart holds are read now, as any other YAML.
    let files: Vec<Arc<K8sFile>> = files
        .par_iter()
        .map(|f| match f.role {
            Role::Deferred if chart_of(&charts, f.path()).is_none() => {
                Arc::new(read_manifests(Arc::clone(&f.origin)))
            }
            _ => Arc::clone(f),
        })
        .collect();
    let mut out = Assembled::default();
    let mut summary = KubernetesSummary::default();
    let by_path: BTreeMap<&str, &K8sFile> = files.iter().map(|f| (f.path(), f.as_ref())).collect();

    // Kustomize: root kustomizations are rendered; whatever they use is served by them.
    let graph = kustomize::Graph::new(&by_path);
    let rendered: Vec<Rendered> = graph
        .roots()
        .par_iter()
        .map(|root| graph.render(root))
        .collect();
    let served = graph.served();
    out.problems.extend(graph.problems());

    let mut units: Vec<(String, Unit<'_>)> = Vec::new();
    for r in &rendered {
        summary
            .kustomizations_partial
            .extend(r.partial.iter().cloned());
    }
    let mut plain: BTreeMap<&str, Vec<&K8sFile>> = BTreeMap::new();
    for f in &files {
        let path = f.path();
        if let Some(chart) = chart_of(&charts, path) {
            out.files.push(path.to_owned());
            if matches!(f.role, Role::Chart) && f.dir() == chart {
                out.charts.push(Chart {
                    dir: chart.to_owned(),
                });
            }
            continue;
        }
        match &f.role {
            Role::Kustomization(_) => out.files.push(path.to_owned()),
            Role::Other | Role::Deferred if served.contains(path) => {
                out.files.push(path.to_owned())
            }
            Role::Other | Role::Deferred => out.unrecognised.push(path.to_owned()),
            // A `Chart.yaml` without templates or dependencies renders nothing.
            Role::Chart => out.unrecognised.push(path.to_owned()),
            Role::Manifests => {
                out.files.push(path.to_owned());
                out.problems.extend(f.problems.iter().cloned());
                if !served.contains(path) {
                    plain.entry(f.dir()).or_default().push(f);
                }
            }
        }
        if matches!(f.role, Role::Kustomization(_)) {
            out.problems.extend(f.problems.iter().cloned());
        }
    }
    for r in &rendered {
        units.push((r.label.clone(), Unit::Rendered(&r.objects)));
        out.problems.extend(r.problems.iter().cloned());
    }
    for (dir, files) in plain {
        units.push((dir.to_owned(), Unit::Plain(files)));
    }
    let read: Vec<(Vec<Resource>, Vec<Problem>)> = units
        .par_iter()
        .map(|(label, unit)| read_unit(label, unit))
        .collect();
    summary.units = units.len();
    for (resources, problems) in read {
        out.resources.extend(resources);
        out.problems.extend(problems);
    }
    summary.workloads = out
        .resources
        .iter()
        .filter(|r| r.entity_type == "K8s::Workload")
        .count();
    // A base read in several overlays reports its mistakes once.
    out.problems
        .sort_by(|a, b| (a.sort_key(), &a.span).cmp(&(b.sort_key(), &b.span)));
    out.problems.dedup_by(|a, b| {
        a.file == b.file
            && a.message == b.message
            && a.span.as_ref().map(|s| s.0) == b.span.as_ref().map(|s| s.0)
    });
    summary.charts_not_rendered = out
        .charts
        .iter()
        .map(|c| NotRendered {
            path: c.dir.clone(),
            reason: "this command does not render Helm charts".to_owned(),
        })
        .collect();
    summary.kustomizations_partial.sort();
    summary.kustomizations_partial.dedup();
    if !files.is_empty() && (!out.files.is_empty() || !out.charts.is_empty()) {
        out.summary = Some(summary);
    }
    out.files.sort();
    out.unrecognised.sort();
    out
}

/// The objects of one unit.
enum Unit<'a> {
    /// A directory of plain manifests.
    Plain(Vec<&'a K8sFile>),
    /// A rendered kustomization or chart.
    Rendered(&'a [Node]),
}

/// Reads one unit's objects into resources (namespaces joined with the unit's network
/// policies).
fn read_unit(label: &str, unit: &Unit<'_>) -> (Vec<Resource>, Vec<Problem>) {
    let mut rd = Reader::default();
    let mut out = Vec::new();
    let mut namespaces: Vec<NamespaceDecl> = Vec::new();
    let mut policies: Vec<NetworkPolicyDecl> = Vec::new();
    let mut take =
        |rd: &mut Reader, at: At<'_>, unit_label: &str| match read_object(rd, at, unit_label) {
            Read::Resource(r) => out.push(r),
            Read::Namespace(n) => namespaces.push(n),
            Read::NetworkPolicy(p) => policies.push(p),
            Read::Nothing => {}
        };
    match unit {
        Unit::Plain(files) => {
            // Identities declared by more than one file of the directory are addressed by file.
            let mut declared_in: BTreeMap<(String, String, String), BTreeSet<&str>> =
                BTreeMap::new();
            for f in files {
                for o in &f.objects {
                    if let Some(id) = identity(o) {
                        declared_in.entry(id).or_default().insert(f.path());
                    }
                }
            }
            for f in files {
                let mut seen: BTreeSet<(String, String, String)> = BTreeSet::new();
                for o in &f.objects {
                    let at = At::root(o, &f.origin);
                    let mut own_label = label;
                    if let Some(id) = identity(o) {
                        if !seen.insert(id.clone()) {
                            rd.problems.push(duplicate(at, &id, "this file"));
                            continue;
                        }
                        if declared_in.get(&id).is_some_and(|s| s.len() > 1) {
                            own_label = f.path();
                        }
                    }
                    take(&mut rd, at, own_label);
                }
            }
        }
        Unit::Rendered(objects) => {
            let mut seen: BTreeSet<(String, String, String)> = BTreeSet::new();
            for o in objects.iter() {
                let Some(origin) = o.origin.as_ref() else {
                    continue;
                };
                let at = At::root(o, origin);
                if let Some(id) = identity(o)
                    && !seen.insert(id.clone())
                {
                    rd.problems
                        .push(duplicate(at, &id, &format!("unit `{label}`")));
                    continue;
                }
                take(&mut rd, at, label);
            }
        }
    }
    out.extend(network::join(namespaces, &policies));
    (out, rd.problems)
}

/// Reads the objects of a rendered unit (a kustomization or a chart).
pub(super) fn read_rendered(label: &str, objects: &[Node]) -> (Vec<Resource>, Vec<Problem>) {
    read_unit(label, &Unit::Rendered(objects))
}

/// The problem of an object declared twice where only one can be.
fn duplicate(at: At<'_>, id: &(String, String, String), within: &str) -> Problem {
    let (kind, namespace, name) = id;
    let what = if namespace.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}/{namespace}/{name}")
    };
    let mut p = at.problem(
        format!(
            "`{what}` is declared more than once in {within}; the first declaration is evaluated"
        ),
        "declared again here",
    );
    p.kind = ProblemKind::Parse;
    p.with_help(
        "remove or rename one of the two; Kubernetes keeps only one object of this identity",
    )
}
