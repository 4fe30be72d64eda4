//! Kubernetes manifests (multi-document YAML): workloads, namespaces, network policies, RBAC.
//!
//! A YAML document with `apiVersion` and `kind` is a Kubernetes object (`kind: List` and the
//! typed `*List` kinds are expanded); a file with none is not ours. Workloads, roles and
//! bindings become resources file by file; namespaces wait for the cross-file pass
//! ([`assemble`]), which counts the network policies of every file that isolate them.
//!
//! Objects are matched by API group as well as kind, so a custom resource that reuses a
//! built-in kind name (a Volcano `Job`, say) is recognised but yields no resource.

mod depth;
mod network;
mod rbac;
mod workload;
mod yaml;

use std::sync::Arc;

use saphyr::{LoadableYamlNode, MarkedYaml, ScanError, YamlData};

use crate::error::{Problem, lowercase_first};
use crate::model::Resource;
use crate::source::SourceFile;

pub use network::{NamespaceDecl, NetworkPolicyDecl};
use yaml::{Node, Place, Source, as_str, field, untag};

/// Files nesting no deeper than this are loaded on the calling thread (saphyr recurses per
/// level; a 2 MiB stack holds several hundred levels even in a debug build).
const INLINE_DEPTH: usize = 96;

/// Files nesting deeper than this are refused rather than loaded.
const MAX_DEPTH: usize = 10_000;

/// Stack for loading a deeply nested file (reserved, not committed, until used).
const DEEP_STACK_BYTES: usize = 256 * 1024 * 1024;

/// The Kubernetes objects of one file, before the cross-file pass.
#[derive(Debug, Clone, Default)]
pub struct K8sFile {
    pub path: String,
    /// Workloads, roles and bindings: complete after this file.
    pub resources: Vec<Resource>,
    /// Namespace objects, completed by [`assemble`].
    pub namespaces: Vec<NamespaceDecl>,
    /// Network policies, which only feed their namespace.
    pub network_policies: Vec<NetworkPolicyDecl>,
}

/// One Kubernetes object of a document (or of a `List`'s items).
pub(crate) struct Object<'n, 'i> {
    node: &'n Node<'i>,
    kind: &'n str,
    /// `metadata.name` (or `generateName`).
    name: String,
    /// `metadata.namespace`, `default` when absent.
    namespace: String,
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
        ("", "Pod")
        | ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job" | "CronJob") => Category::Workload,
        ("", "Namespace") => Category::Namespace,
        ("networking.k8s.io" | "extensions", "NetworkPolicy") => Category::NetworkPolicy,
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => Category::Role,
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            Category::RoleBinding
        }
        _ => Category::Other,
    }
}

/// Parses one YAML file; `Ok(None)` when it holds no Kubernetes object.
pub fn parse(file: &SourceFile) -> Result<Option<K8sFile>, Vec<Problem>> {
    // Every object spells out both keys: skip other YAML without loading it.
    if !(file.text.contains("apiVersion") && file.text.contains("kind")) {
        return Ok(None);
    }
    let depth = depth::nesting_bound(&file.text);
    if depth <= INLINE_DEPTH {
        return parse_loaded(file);
    }
    if depth > MAX_DEPTH {
        if !looks_like_manifest(&file.text) || file.text.contains("{{") {
            return Ok(None);
        }
        let problem = Problem::parse(
            &file.path,
            &file.text,
            0,
            0,
            format!(
                "`{}` nests YAML collections more than {MAX_DEPTH} levels deep",
                file.path
            ),
            "in this file",
        )
        .with_help(
            "a Kubernetes manifest never nests this deeply; check how the file was generated",
        );
        return Err(vec![problem]);
    }
    // Deep but bounded: load on a thread whose stack fits the recursion.
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("vouch-yaml".to_owned())
            .stack_size(DEEP_STACK_BYTES)
            .spawn_scoped(scope, || parse_loaded(file));
        let failed = |why: String| {
            Err(vec![
                Problem::new(crate::error::ProblemKind::Parse, why).in_file(&file.path),
            ])
        };
        match spawned {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                failed(format!(
                    "`{}` could not be parsed: the YAML loader failed",
                    file.path
                ))
            }),
            Err(e) => failed(format!(
                "`{}` could not be parsed: cannot start a thread for its deep nesting: {e}",
                file.path
            )),
        }
    })
}

/// True when the text looks like it was meant to be a Kubernetes manifest.
fn looks_like_manifest(text: &str) -> bool {
    text.contains("apiVersion:") || text.contains("kind:")
}

/// Loads the YAML and reads every object in it (the tree is built and dropped here).
fn parse_loaded(file: &SourceFile) -> Result<Option<K8sFile>, Vec<Problem>> {
    let docs = match MarkedYaml::load_from_str(&file.text) {
        Ok(docs) => docs,
        Err(e) => return yaml_error(file, &e),
    };
    let mut src = Source::new(&file.path, &file.text);
    let mut out = K8sFile {
        path: file.path.clone(),
        ..K8sFile::default()
    };
    let mut recognised = false;
    for doc in &docs {
        for node in objects(&mut src, doc) {
            recognised = true;
            read_object(&mut src, node, &mut out);
        }
    }
    if !src.problems.is_empty() {
        return Err(src.problems);
    }
    Ok(recognised.then_some(out))
}

/// A YAML syntax error: a problem when the file was meant to be a manifest, else not ours.
fn yaml_error(file: &SourceFile, e: &ScanError) -> Result<Option<K8sFile>, Vec<Problem>> {
    // Helm chart templates hold Go-template actions (`{{ .Values.x }}`) and are not YAML until
    // rendered; vouch reads rendered manifests (`helm template`), so an unparseable file with
    // template actions is unrecognised, not malformed.
    if file.text.contains("{{") || !looks_like_manifest(&file.text) {
        return Ok(None);
    }
    let src = Source::new(&file.path, &file.text);
    let offset = src.offset(e.marker());
    Err(vec![
        Problem::parse(
            &file.path,
            &file.text,
            offset,
            0,
            format!(
                "`{}` is not valid YAML: {}",
                file.path,
                lowercase_first(e.info())
            ),
            "here",
        )
        .with_help("fix the YAML syntax; `kubectl apply --dry-run=client -f` shows the same error"),
    ])
}

/// True for a mapping with non-null `apiVersion` and `kind`.
fn is_object(node: &Node<'_>) -> bool {
    matches!(untag(node).data, YamlData::Mapping(_))
        && field(node, "apiVersion").is_some()
        && field(node, "kind").is_some()
}

/// The objects of one document: the document itself, or the items of a `List`.
fn objects<'n, 'i>(src: &mut Source<'_>, doc: &'n Node<'i>) -> Vec<&'n Node<'i>> {
    if !is_object(doc) {
        return Vec::new();
    }
    let kind = field(doc, "kind").and_then(as_str).unwrap_or_default();
    if !(kind.ends_with("List") && field(doc, "items").is_some()) {
        return vec![untag(doc)];
    }
    let place = Place::new(kind, "");
    let mut out = vec![untag(doc)];
    for (i, item) in src.list(doc, "items", "items", &place).iter().enumerate() {
        if is_object(item) {
            out.push(untag(item));
        } else {
            src.problem(
                item,
                format!("`items[{i}]` {} is not a Kubernetes object", place.what),
                "this item has no `apiVersion` and `kind`",
            );
        }
    }
    out
}

/// Reads one object into `out`.
fn read_object(src: &mut Source<'_>, node: &Node<'_>, out: &mut K8sFile) {
    let unnamed = Place::new("object", "");
    let api_version = src.string(node, "apiVersion", "apiVersion", &unnamed);
    let kind = src.string(node, "kind", "kind", &unnamed);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        return;
    };
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let category = category(group, kind);
    if category == Category::Other {
        return;
    }
    let place = Place::new(kind, "");
    let metadata = src.map(node, "metadata", "metadata", &place);
    let mut name = None;
    let mut namespace = None;
    if let Some(meta) = metadata {
        name = src
            .string(meta, "name", "metadata.name", &place)
            .or_else(|| src.string(meta, "generateName", "metadata.generateName", &place));
        namespace = src.string(meta, "namespace", "metadata.namespace", &place);
    }
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        if metadata.is_none_or(|m| field(m, "name").is_none() && field(m, "generateName").is_none())
        {
            src.problem(
                metadata.unwrap_or(node),
                format!("{kind} has no `metadata.name`"),
                "every object needs a name",
            );
        }
        return;
    };
    let obj = Object {
        node,
        kind,
        name: name.to_owned(),
        namespace: namespace.unwrap_or("default").to_owned(),
    };
    match category {
        Category::Workload => {
            if let Some(r) = workload::workload(src, &obj) {
                out.resources.push(r);
            }
        }
        Category::Namespace => out.namespaces.push(network::namespace(src, &obj)),
        Category::NetworkPolicy => out
            .network_policies
            .push(network::network_policy(src, &obj)),
        Category::Role => out.resources.push(rbac::role(src, &obj)),
        Category::RoleBinding => out.resources.push(rbac::binding(src, &obj)),
        Category::Other => {}
    }
}

/// Joins objects across files (network policies onto namespaces) into resources, sorted by
/// entity type and address.
pub fn assemble(files: &[Arc<K8sFile>]) -> Vec<Resource> {
    let mut out: Vec<Resource> = files
        .iter()
        .flat_map(|f| f.resources.iter().cloned())
        .collect();
    out.extend(network::assemble(files));
    out.sort_by(|a, b| {
        (&a.entity_type, &a.address, &a.span).cmp(&(&b.entity_type, &b.address, &b.span))
    });
    out
}
