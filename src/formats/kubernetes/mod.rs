//! Kubernetes: manifests, Kustomize and Helm, rendered per deployment unit into workloads,
//! namespaces and RBAC.
//!
//! Per file ([`parse`], cached per git blob by the gate): the YAML (or JSON) is loaded into
//! documents the way Kubernetes' reader loads them ([`load`]), `kind: List` items are expanded,
//! and a file is classified: manifests, a `kustomization.yaml`, a chart's `Chart.yaml`, a file
//! that may be a chart template (kept unparsed until the charts are known), or other YAML.
//!
//! Across files ([`assemble`], in [`units`]): every object belongs to one *deployment unit* —
//! a root kustomization, a Helm chart, or a directory of plain manifests — and its identity is
//! (unit, kind, namespace, name). Objects are read into resources only after their unit is
//! rendered, so a Kustomize patch's value is evaluated and a finding about it points at the
//! patch.
//!
//! Objects are matched by API group as well as kind, so a custom resource that reuses a
//! built-in kind name (a Volcano `Job`, say) is recognised but yields no resource.

mod helm;
mod kustomize;
mod load;
mod network;
mod rbac;
mod read;
mod summary;
mod tree;
mod units;
mod workload;

use std::sync::Arc;

use crate::error::Problem;
use crate::model::Resource;
use crate::source::SourceFile;

pub use helm::{ChartsRendered, HELM_ENV, HelmOptions, render_charts};
pub use summary::{KubernetesSummary, NotRendered};
pub use units::{Assembled, Chart, assemble};

use read::{Place, Reader};
use tree::{At, Node, Origin, Value};

/// What a file is to the Kubernetes reader.
#[derive(Debug, Clone)]
pub enum Role {
    /// Manifests: the objects are in [`K8sFile::objects`].
    Manifests,
    /// A `kustomization.yaml` (its document, when it loaded).
    Kustomization(Option<Node>),
    /// A chart's `Chart.yaml`: its directory is a Helm chart.
    Chart,
    /// Under a `templates/` directory: a chart template unless no chart holds it; parsed in the
    /// cross-file pass only if it is not one (a template is never read as plain YAML).
    Deferred,
    /// YAML with no Kubernetes object: a Kustomize patch may still use it.
    Other,
}

/// One YAML or JSON file, before the cross-file pass.
#[derive(Debug, Clone)]
pub struct K8sFile {
    pub origin: Arc<Origin>,
    pub role: Role,
    /// Kubernetes objects (documents, `List` items expanded), in file order.
    pub objects: Vec<Node>,
    /// Documents that did not load (the others are still read).
    pub problems: Vec<Problem>,
}

impl K8sFile {
    /// The file's path relative to the scanned root.
    pub fn path(&self) -> &str {
        &self.origin.path
    }

    /// The directory part of the path (`""` for the root).
    pub fn dir(&self) -> &str {
        dir_of(self.path())
    }
}

/// The directory part of a path (`""` for the root).
fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// File names Kustomize reads as a kustomization.
pub const KUSTOMIZATION_FILES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Reads one YAML or JSON file that may hold Kubernetes objects; `None` when it is not one
/// vouch reads (no object, not a kustomization or chart, and no broken manifest).
pub fn parse(file: &SourceFile) -> Option<K8sFile> {
    let origin = Origin::new(&file.path, Arc::clone(&file.text));
    let name = file.file_name();
    if KUSTOMIZATION_FILES.contains(&name) {
        let docs = load::documents(&origin);
        let root = docs.roots.into_iter().next();
        return Some(K8sFile {
            origin,
            role: Role::Kustomization(root),
            objects: Vec::new(),
            problems: docs.problems,
        });
    }
    if name == "Chart.yaml" {
        return Some(K8sFile {
            origin,
            role: Role::Chart,
            objects: Vec::new(),
            problems: Vec::new(),
        });
    }
    if file.path.split('/').any(|part| part == "templates") {
        return Some(K8sFile {
            origin,
            role: Role::Deferred,
            objects: Vec::new(),
            problems: Vec::new(),
        });
    }
    Some(read_manifests(origin))
}

/// Loads a file's documents and keeps its Kubernetes objects.
fn read_manifests(origin: Arc<Origin>) -> K8sFile {
    // Every object spells out both keys: other YAML is kept unparsed, for a patch to use.
    if !(origin.text.contains("apiVersion") && origin.text.contains("kind")) {
        return K8sFile {
            origin,
            role: Role::Other,
            objects: Vec::new(),
            problems: Vec::new(),
        };
    }
    let docs = load::documents(&origin);
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    for root in docs.roots {
        objects_of(root, &origin, &mut objects, &mut problems);
    }
    // A document that does not load is a problem when the file was meant to be a manifest.
    if looks_like_manifest(&origin.text) {
        problems.extend(docs.problems);
    }
    let role = if objects.is_empty() && problems.is_empty() {
        Role::Other
    } else {
        Role::Manifests
    };
    K8sFile {
        origin,
        role,
        objects,
        problems,
    }
}

/// True when the text looks like it was meant to be a Kubernetes manifest.
fn looks_like_manifest(text: &str) -> bool {
    text.contains("apiVersion:") || text.contains("kind:") || text.contains("\"apiVersion\"")
}

/// True for a mapping with non-null `apiVersion` and `kind`.
fn is_object(node: &Node) -> bool {
    node.is_map()
        && node.get("apiVersion").is_some_and(|n| !n.is_null())
        && node.get("kind").is_some_and(|n| !n.is_null())
}

/// The objects of one document: the document itself, or the items of a `List`.
fn objects_of(
    mut doc: Node,
    origin: &Arc<Origin>,
    out: &mut Vec<Node>,
    problems: &mut Vec<Problem>,
) {
    if !is_object(&doc) {
        return;
    }
    let kind = doc.get("kind").and_then(Node::as_str).unwrap_or_default();
    let is_list = kind.ends_with("List") && doc.get("items").is_some_and(|n| !n.is_null());
    if !is_list {
        out.push(doc.rooted(origin));
        return;
    }
    let place = Place::new(kind, "");
    let items = match doc
        .get_mut("items")
        .map(|n| std::mem::replace(&mut n.value, Value::Null))
    {
        Some(Value::Seq(items)) => items,
        Some(other) => {
            let node = Node::new(other, doc.pos);
            let at = At::root(&node, origin);
            problems.push(at.problem(
                format!("`items` {} must be a list", place.what),
                "expected a list of objects",
            ));
            return;
        }
        None => return,
    };
    for (i, item) in items.into_iter().enumerate() {
        if is_object(&item) {
            out.push(item.rooted(origin));
        } else {
            let at = At::root(&item, origin);
            problems.push(at.problem(
                format!("`items[{i}]` {} is not a Kubernetes object", place.what),
                "this item has no `apiVersion` and `kind`",
            ));
        }
    }
}

/// What vouch reads from an object, by API group and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Workload,
    Namespace,
    NetworkPolicy,
    Role,
    RoleBinding,
    /// Recognised as Kubernetes, yields nothing.
    Other,
}

fn category(group: &str, kind: &str) -> Category {
    match (group, kind) {
        ("", "Pod" | "ReplicationController" | "PodTemplate")
        | ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job" | "CronJob")
        // OpenShift's DeploymentConfig, in its API group or the legacy core group.
        | ("apps.openshift.io" | "", "DeploymentConfig") => Category::Workload,
        ("", "Namespace") => Category::Namespace,
        ("networking.k8s.io" | "extensions", "NetworkPolicy") => Category::NetworkPolicy,
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => Category::Role,
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            Category::RoleBinding
        }
        _ => Category::Other,
    }
}

/// Kinds without a namespace (among those vouch reads).
fn cluster_scoped(kind: &str) -> bool {
    matches!(kind, "Namespace" | "ClusterRole" | "ClusterRoleBinding")
}

/// One Kubernetes object being read into a resource.
struct Object<'a> {
    at: At<'a>,
    kind: &'a str,
    /// `metadata.name` (or `generateName`).
    name: String,
    /// `metadata.namespace`, `default` when absent.
    namespace: String,
    /// The unit's label, prefixed to the address (`overlays/prod`), or empty for the root.
    unit: &'a str,
}

impl Object<'_> {
    /// `overlays/prod: Deployment/default/app` (`Deployment/default/app` at the root).
    pub fn address(&self) -> String {
        let id = if cluster_scoped(self.kind) {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        };
        if self.unit.is_empty() {
            id
        } else {
            format!("{}: {id}", self.unit)
        }
    }
}

/// The identity of an object inside its unit: (kind, namespace, name).
fn identity(node: &Node) -> Option<(String, String, String)> {
    let kind = node.get("kind").and_then(Node::as_str)?;
    let meta = node.get("metadata")?;
    let name = meta
        .get("name")
        .and_then(Node::as_str)
        .or_else(|| meta.get("generateName").and_then(Node::as_str))?;
    let namespace = if cluster_scoped(kind) {
        ""
    } else {
        meta.get("namespace")
            .and_then(Node::as_str)
            .unwrap_or("default")
    };
    Some((kind.to_owned(), namespace.to_owned(), name.to_owned()))
}

/// What one object yields.
enum Read {
    Resource(Resource),
    Namespace(network::NamespaceDecl),
    NetworkPolicy(network::NetworkPolicyDecl),
    Nothing,
}

/// Reads one object of a unit into what vouch evaluates.
fn read_object(rd: &mut Reader, at: At<'_>, unit: &str) -> Read {
    let unnamed = Place::new("object", "");
    let api_version = rd.string(at, "apiVersion", "apiVersion", &unnamed);
    let kind = rd.string(at, "kind", "kind", &unnamed);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        return Read::Nothing;
    };
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let category = category(group, kind);
    if category == Category::Other {
        return Read::Nothing;
    }
    let place = Place::new(kind, "");
    let metadata = rd.map(at, "metadata", "metadata", &place);
    let mut name = None;
    let mut namespace = None;
    if let Some(meta) = metadata {
        name = rd
            .string(meta, "name", "metadata.name", &place)
            .or_else(|| rd.string(meta, "generateName", "metadata.generateName", &place));
        namespace = rd.string(meta, "namespace", "metadata.namespace", &place);
    }
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        if metadata.is_none_or(|m| m.field("name").is_none() && m.field("generateName").is_none()) {
            rd.problem(
                metadata.unwrap_or(at),
                format!("{kind} has no `metadata.name`"),
                "every object needs a name",
            );
        }
        return Read::Nothing;
    };
    let obj = Object {
        at,
        kind,
        name: name.to_owned(),
        namespace: namespace.unwrap_or("default").to_owned(),
        unit,
    };
    match category {
        Category::Workload => workload::workload(rd, &obj).map_or(Read::Nothing, Read::Resource),
        Category::Namespace => Read::Namespace(network::namespace(rd, &obj)),
        Category::NetworkPolicy => Read::NetworkPolicy(network::network_policy(rd, &obj)),
        Category::Role => Read::Resource(rbac::role(rd, &obj)),
        Category::RoleBinding => Read::Resource(rbac::binding(rd, &obj)),
        Category::Other => Read::Nothing,
    }
}
