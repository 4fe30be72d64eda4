//! A built-in Kustomize renderer for the fields that decide what vouch evaluates.
//!
//! Supported, with Kustomize's semantics: `resources` (files and kustomization directories;
//! `bases` too), `components`, `patches` (strategic merge or JSON 6902, from a file or inline,
//! with `target` selectors), `patchesStrategicMerge`, `patchesJson6902`, `namespace`,
//! `namePrefix`/`nameSuffix` (with role and service-account references renamed), `labels`,
//! `commonLabels`, `commonAnnotations` and `images`. Transformers run in Kustomize's order:
//! patches, namespace, prefix and suffix, labels and annotations, images.
//!
//! Every value keeps the file and line that wrote it: a base's value points into the base, a
//! patched value into the patch, a namespace or image set by the kustomization into the
//! kustomization. Generators (`configMapGenerator`, `secretGenerator`) only produce ConfigMaps
//! and Secrets, which vouch does not evaluate. What vouch cannot render (remote bases,
//! `helmCharts`, `replacements`, `vars`, plugins) leaves the unit rendered without it and
//! listed as partial, never silently.

mod patch;

use std::collections::{BTreeMap, BTreeSet};

use super::load;
use super::summary::NotRendered;
use super::tree::{At, Node, Pos, Value};
use super::{K8sFile, Role, identity};
use crate::error::Problem;

/// Top-level fields of a kustomization (anything else is refused, as Kustomize refuses it).
const KNOWN_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "replicas",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "crds",
    "openapi",
    "configurations",
    "buildMetadata",
    "sortOptions",
    "replacements",
    "vars",
    "helmCharts",
    "helmGlobals",
    "helmChartInflationGenerator",
    "generators",
    "transformers",
    "validators",
    "inventory",
];

/// Fields that change values vouch does not compute: the unit is rendered without them.
const NOT_RENDERED: &[(&str, &str)] = &[
    ("replacements", "`replacements` are not applied"),
    ("vars", "`vars` are not substituted"),
    ("helmCharts", "`helmCharts` are not inflated"),
    (
        "helmChartInflationGenerator",
        "`helmChartInflationGenerator` is not run",
    ),
    ("generators", "generator plugins are not run"),
    ("transformers", "transformer plugins are not run"),
];

/// A rendered root kustomization.
#[derive(Debug, Default)]
pub struct Rendered {
    /// The unit's label: the kustomization's directory (`.` for the scanned root).
    pub label: String,
    /// The rendered objects, each carrying its origins.
    pub objects: Vec<Node>,
    pub problems: Vec<Problem>,
    /// What was left out.
    pub partial: Vec<NotRendered>,
}

/// A reference from a kustomization to something it uses.
#[derive(Debug, Clone)]
enum Ref {
    File(String),
    /// A directory holding a kustomization (or component).
    Dir(String),
    Remote(String),
}

/// One kustomization of the tree.
struct Kz<'a> {
    dir: String,
    file: &'a K8sFile,
    root: At<'a>,
    resources: Vec<(Ref, At<'a>)>,
    components: Vec<(Ref, At<'a>)>,
}

/// Every kustomization of the tree and how they use each other.
pub struct Graph<'a> {
    files: &'a BTreeMap<&'a str, &'a K8sFile>,
    kustomizations: BTreeMap<String, Kz<'a>>,
    problems: Vec<Problem>,
    served: BTreeSet<String>,
    roots: Vec<String>,
}

/// Normalises `dir/entry` (`.` and `..` resolved); `None` when it leaves the scanned tree.
fn join(dir: &str, entry: &str) -> Option<String> {
    let mut parts: Vec<&str> = if dir.is_empty() {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for part in entry.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// True for a reference Kustomize would fetch over the network.
fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
        || entry.contains("?ref=")
}

impl<'a> Graph<'a> {
    /// Reads every kustomization's references.
    pub fn new(files: &'a BTreeMap<&'a str, &'a K8sFile>) -> Self {
        let mut g = Graph {
            files,
            kustomizations: BTreeMap::new(),
            problems: Vec::new(),
            served: BTreeSet::new(),
            roots: Vec::new(),
        };
        let dirs: BTreeSet<&str> = files
            .values()
            .filter(|f| matches!(f.role, Role::Kustomization(_)))
            .map(|f| f.dir())
            .collect();
        for f in files.values() {
            let Role::Kustomization(Some(root)) = &f.role else {
                continue;
            };
            let root = At::root(root, &f.origin);
            let dir = f.dir().to_owned();
            if !root.node.is_map() {
                g.problems.push(root.problem(
                    format!("`{}` must be a mapping of kustomization fields", f.path()),
                    "expected a mapping",
                ));
                continue;
            }
            for (key, at) in root.entries() {
                if !KNOWN_FIELDS.contains(&key) {
                    g.problems.push(
                        at.problem(
                            format!("`{}` has an unknown field `{key}`", f.path()),
                            "Kustomize refuses this field",
                        )
                        .with_help("check the field name against the Kustomization reference"),
                    );
                }
            }
            let refs = |field: &str, g: &mut Graph<'a>| -> Vec<(Ref, At<'a>)> {
                let mut out = Vec::new();
                let Some(list) = root.field(field) else {
                    return out;
                };
                for item in list.items() {
                    let Some(entry) = item.node.as_str() else {
                        g.problems.push(item.problem(
                            format!("`{field}` in `{}` must list paths", f.path()),
                            "expected a path",
                        ));
                        continue;
                    };
                    if is_remote(entry) {
                        out.push((Ref::Remote(entry.to_owned()), item));
                        continue;
                    }
                    let Some(path) = join(&dir, entry) else {
                        g.problems.push(
                            item.problem(
                                format!(
                                    "`{entry}` in `{}` points outside the scanned tree",
                                    f.path()
                                ),
                                "not read",
                            )
                            .with_help(
                                "scan the directory that holds every base of the kustomization",
                            ),
                        );
                        continue;
                    };
                    if dirs.contains(path.as_str()) {
                        out.push((Ref::Dir(path), item));
                    } else if files.contains_key(path.as_str()) {
                        out.push((Ref::File(path), item));
                    } else {
                        g.problems.push(
                            item.problem(
                                format!("`{entry}` in `{}` is not a manifest or a kustomization directory of the scanned tree", f.path()),
                                "not found",
                            )
                            .with_help("`kubectl kustomize` fails on this too: fix the path"),
                        );
                    }
                }
                out
            };
            let mut resources = refs("resources", &mut g);
            resources.extend(refs("bases", &mut g));
            let components = refs("components", &mut g);
            g.kustomizations.insert(
                dir.clone(),
                Kz {
                    dir,
                    file: f,
                    root,
                    resources,
                    components,
                },
            );
        }
        // Whatever a kustomization uses is served by it; the unused ones are the roots.
        let mut used_dirs = BTreeSet::new();
        for kz in g.kustomizations.values() {
            g.served.insert(kz.file.path().to_owned());
            for (r, _) in kz.resources.iter().chain(&kz.components) {
                match r {
                    Ref::File(p) => {
                        g.served.insert(p.clone());
                    }
                    Ref::Dir(d) => {
                        used_dirs.insert(d.clone());
                    }
                    Ref::Remote(_) => {}
                }
            }
            for p in patch_paths(kz) {
                g.served.insert(p);
            }
        }
        g.roots = g
            .kustomizations
            .keys()
            .filter(|d| !used_dirs.contains(*d))
            .cloned()
            .collect();
        // A cycle leaves no root for its members: render them anyway so the cycle is reported.
        let reachable = g.reachable();
        for d in g.kustomizations.keys() {
            if !reachable.contains(d) && !g.roots.contains(d) {
                g.roots.push(d.clone());
            }
        }
        g
    }

    fn reachable(&self) -> BTreeSet<String> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = self.roots.clone();
        while let Some(d) = todo.pop() {
            if !seen.insert(d.clone()) {
                continue;
            }
            if let Some(kz) = self.kustomizations.get(&d) {
                for (r, _) in kz.resources.iter().chain(&kz.components) {
                    if let Ref::Dir(sub) = r {
                        todo.push(sub.clone());
                    }
                }
            }
        }
        seen
    }

    /// The root kustomizations' directories.
    pub fn roots(&self) -> &[String] {
        &self.roots
    }

    /// Files used by some kustomization (not evaluated on their own).
    pub fn served(&self) -> &BTreeSet<String> {
        &self.served
    }

    /// Problems in the kustomizations' fields and references.
    pub fn problems(&self) -> Vec<Problem> {
        self.problems.clone()
    }

    /// Renders a root kustomization.
    pub fn render(&self, dir: &str) -> Rendered {
        let mut out = Rendered {
            label: if dir.is_empty() {
                ".".to_owned()
            } else {
                dir.to_owned()
            },
            ..Rendered::default()
        };
        let mut stack = Vec::new();
        let objects = self.build(dir, &mut stack, &mut out);
        out.objects = objects.into_iter().map(|o| o.node).collect();
        out
    }

    /// Builds one kustomization (recursively through its bases and components).
    fn build(&self, dir: &str, stack: &mut Vec<String>, out: &mut Rendered) -> Vec<Obj> {
        let Some(kz) = self.kustomizations.get(dir) else {
            return Vec::new();
        };
        if stack.iter().any(|d| d == dir) {
            out.problems.push(kz.root.problem(
                format!(
                    "`{}` uses itself through its bases (a cycle)",
                    kz.file.path()
                ),
                "Kustomize refuses cycles",
            ));
            return Vec::new();
        }
        stack.push(dir.to_owned());
        let mut acc = Vec::new();
        self.add_refs(&kz.resources, stack, out, &mut acc);
        for (r, at) in &kz.components {
            match r {
                Ref::Dir(d) => {
                    if let Some(comp) = self.kustomizations.get(d) {
                        // A component adds its resources to the overlay's and transforms them all.
                        if stack.iter().any(|s| s == d) {
                            continue;
                        }
                        stack.push(d.clone());
                        self.add_refs(&comp.resources, stack, out, &mut acc);
                        stack.pop();
                        self.transform(comp, &mut acc, out);
                    }
                }
                Ref::File(p) => out.problems.push(at.problem(
                    format!("component `{p}` must be a directory with a kustomization"),
                    "not a component",
                )),
                Ref::Remote(url) => out.partial.push(NotRendered {
                    path: kz.file.path().to_owned(),
                    reason: format!("remote component `{url}` is not fetched"),
                }),
            }
        }
        self.transform(kz, &mut acc, out);
        stack.pop();
        acc
    }

    fn add_refs(
        &self,
        refs: &[(Ref, At<'_>)],
        stack: &mut Vec<String>,
        out: &mut Rendered,
        acc: &mut Vec<Obj>,
    ) {
        for (r, _) in refs {
            match r {
                Ref::File(p) => {
                    if let Some(f) = self.files.get(p.as_str()) {
                        acc.extend(file_objects(f).into_iter().map(Obj::new));
                    }
                }
                Ref::Dir(d) => acc.extend(self.build(d, stack, out)),
                Ref::Remote(url) => out.partial.push(NotRendered {
                    path: stack.last().map_or_else(String::new, Clone::clone),
                    reason: format!("remote resource `{url}` is not fetched"),
                }),
            }
        }
    }

    /// Applies one kustomization's transformers to the accumulated objects.
    fn transform(&self, kz: &Kz<'_>, acc: &mut Vec<Obj>, out: &mut Rendered) {
        let root = kz.root;
        let path = kz.file.path();
        for (field, reason) in NOT_RENDERED {
            if root.field(field).is_some() {
                out.partial.push(NotRendered {
                    path: path.to_owned(),
                    reason: (*reason).to_owned(),
                });
            }
        }
        let partial = !out.partial.is_empty();
        let mut cx = patch::Cx {
            files: self.files,
            dir: &kz.dir,
            kustomization: path,
            partial,
            problems: &mut out.problems,
        };
        if let Some(list) = root.field("patchesStrategicMerge") {
            for item in list.items() {
                cx.strategic_merge_entry(item, acc);
            }
        }
        if let Some(list) = root.field("patches") {
            for item in list.items() {
                cx.patch_entry(item, acc);
            }
        }
        if let Some(list) = root.field("patchesJson6902") {
            for item in list.items() {
                cx.json6902_entry(item, acc);
            }
        }
        if let Some(ns) = root.field("namespace") {
            set_namespace(ns, acc);
        }
        let prefix = root.field("namePrefix");
        let suffix = root.field("nameSuffix");
        if prefix.is_some() || suffix.is_some() {
            rename(prefix, suffix, acc);
        }
        for field in ["commonLabels", "commonAnnotations"] {
            if let Some(map) = root.field(field) {
                let meta_key = if field == "commonLabels" {
                    "labels"
                } else {
                    "annotations"
                };
                add_metadata(map, meta_key, acc);
            }
        }
        if let Some(list) = root.field("labels") {
            for item in list.items() {
                if let Some(pairs) = item.field("pairs") {
                    add_metadata(pairs, "labels", acc);
                }
            }
        }
        if let Some(list) = root.field("images") {
            for item in list.items() {
                set_images(item, acc);
            }
        }
    }
}

/// The patch files a kustomization names.
fn patch_paths(kz: &Kz<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |entry: &str| {
        if let Some(p) = join(&kz.dir, entry) {
            out.push(p);
        }
    };
    if let Some(list) = kz.root.field("patchesStrategicMerge") {
        for item in list.items() {
            if let Some(s) = item.node.as_str().filter(|s| !s.contains('\n')) {
                push(s);
            }
        }
    }
    for field in ["patches", "patchesJson6902"] {
        if let Some(list) = kz.root.field(field) {
            for item in list.items() {
                if let Some(p) = item.field("path").and_then(|p| p.node.as_str()) {
                    push(p);
                }
            }
        }
    }
    out
}

/// The objects of a file used as a resource (a file with objects, or one loaded now).
fn file_objects(f: &K8sFile) -> Vec<Node> {
    match f.role {
        Role::Manifests => f.objects.clone(),
        _ => {
            let docs = load::documents(&f.origin);
            let mut objects = Vec::new();
            let mut problems = Vec::new();
            for root in docs.roots {
                super::objects_of(root, &f.origin, &mut objects, &mut problems);
            }
            objects
        }
    }
}

/// An object being rendered, with the names it had before (patch targets match either).
#[derive(Debug, Clone)]
pub(super) struct Obj {
    pub node: Node,
    /// (namespace, name) pairs it has had, oldest first.
    pub former: Vec<(String, String)>,
}

impl Obj {
    fn new(node: Node) -> Obj {
        Obj {
            node,
            former: Vec::new(),
        }
    }

    /// (kind, namespace, name) now.
    pub fn id(&self) -> Option<(String, String, String)> {
        identity(&self.node)
    }

    fn remember(&mut self) {
        if let Some((_, ns, name)) = self.id() {
            self.former.push((ns, name));
        }
    }
}

/// Kinds the namespace transformer leaves alone (cluster-scoped).
fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "PersistentVolume"
            | "StorageClass"
            | "PriorityClass"
            | "APIService"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "IngressClass"
            | "RuntimeClass"
            | "CSIDriver"
            | "VolumeSnapshotClass"
            | "ClusterIssuer"
            | "PodSecurityPolicy"
    )
}

/// A value node written by the kustomization at `at`.
fn written(value: &str, at: At<'_>) -> Node {
    Node::text(value, at.node.pos, at.origin)
}

/// Sets `metadata` map key `key` (creating `metadata` when missing).
fn metadata_mut(node: &mut Node) -> Option<&mut Node> {
    if node.get("metadata").is_none_or(|m| !m.is_map()) {
        node.set(
            "metadata",
            Pos::default(),
            Node::new(Value::Map(Vec::new()), node.pos),
        );
    }
    node.get_mut("metadata")
}

/// The `namespace` transformer: every namespaced object (and service-account subjects of the
/// unit's bindings) moves to the namespace.
fn set_namespace(ns_at: At<'_>, acc: &mut [Obj]) {
    let Some(ns) = ns_at.node.as_str() else {
        return;
    };
    let accounts: BTreeSet<String> = acc
        .iter()
        .filter_map(Obj::id)
        .filter(|(k, _, _)| k == "ServiceAccount")
        .map(|(_, _, n)| n)
        .collect();
    for o in acc.iter_mut() {
        let Some((kind, _, _)) = o.id() else {
            continue;
        };
        o.remember();
        if !is_cluster_scoped(&kind)
            && let Some(meta) = metadata_mut(&mut o.node)
        {
            meta.set("namespace", ns_at.node.pos, written(ns, ns_at));
        }
        if (kind == "RoleBinding" || kind == "ClusterRoleBinding")
            && let Some(Value::Seq(subjects)) = o.node.get_mut("subjects").map(|s| &mut s.value)
        {
            {
                for s in subjects.iter_mut() {
                    let is_unit_account = s.get("kind").and_then(Node::as_str)
                        == Some("ServiceAccount")
                        && s.get("name")
                            .and_then(Node::as_str)
                            .is_some_and(|n| accounts.contains(n));
                    if is_unit_account {
                        s.set("namespace", ns_at.node.pos, written(ns, ns_at));
                    }
                }
            }
        }
    }
}

/// `namePrefix` and `nameSuffix`, with references to renamed roles and service accounts
/// renamed too.
fn rename(prefix: Option<At<'_>>, suffix: Option<At<'_>>, acc: &mut [Obj]) {
    let p = prefix.and_then(|a| a.node.as_str()).unwrap_or("");
    let s = suffix.and_then(|a| a.node.as_str()).unwrap_or("");
    let at = prefix.or(suffix);
    let Some(at) = at else {
        return;
    };
    let mut renamed: BTreeMap<(String, String), String> = BTreeMap::new();
    for o in acc.iter_mut() {
        let Some((kind, _, name)) = o.id() else {
            continue;
        };
        if matches!(
            kind.as_str(),
            "Namespace" | "CustomResourceDefinition" | "APIService"
        ) {
            continue;
        }
        o.remember();
        let new = format!("{p}{name}{s}");
        if let Some(meta) = metadata_mut(&mut o.node) {
            meta.set("name", at.node.pos, written(&new, at));
        }
        renamed.insert((kind, name), new);
    }
    for o in acc.iter_mut() {
        let Some((kind, _, _)) = o.id() else {
            continue;
        };
        if kind != "RoleBinding" && kind != "ClusterRoleBinding" {
            continue;
        }
        if let Some(role_ref) = o.node.get_mut("roleRef") {
            let key = (
                role_ref
                    .get("kind")
                    .and_then(Node::as_str)
                    .unwrap_or("")
                    .to_owned(),
                role_ref
                    .get("name")
                    .and_then(Node::as_str)
                    .unwrap_or("")
                    .to_owned(),
            );
            if let Some(new) = renamed.get(&key) {
                role_ref.set("name", at.node.pos, written(new, at));
            }
        }
        if let Some(Value::Seq(subjects)) = o.node.get_mut("subjects").map(|s| &mut s.value) {
            for subj in subjects.iter_mut() {
                let key = (
                    subj.get("kind")
                        .and_then(Node::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    subj.get("name")
                        .and_then(Node::as_str)
                        .unwrap_or("")
                        .to_owned(),
                );
                if key.0 == "ServiceAccount"
                    && let Some(new) = renamed.get(&key)
                {
                    subj.set("name", at.node.pos, written(new, at));
                }
            }
        }
    }
}

/// Adds `labels`/`annotations` pairs to every object's metadata.
fn add_metadata(pairs: At<'_>, key: &str, acc: &mut [Obj]) {
    for o in acc.iter_mut() {
        let Some(meta) = metadata_mut(&mut o.node) else {
            continue;
        };
        if meta.get(key).is_none_or(|m| !m.is_map()) {
            meta.set(
                key,
                Pos::default(),
                Node::new(Value::Map(Vec::new()), pairs.node.pos).rooted(pairs.origin),
            );
        }
        if let Some(target) = meta.get_mut(key) {
            for (k, v) in pairs.entries() {
                if let Some(text) = v.node.scalar_text() {
                    target.set(k, v.node.pos, written(text, v));
                }
            }
        }
    }
}

/// One `images` entry: rewrites matching container images of every pod spec.
fn set_images(entry: At<'_>, acc: &mut [Obj]) {
    let Some(name) = entry.field("name").and_then(|n| n.node.as_str()) else {
        return;
    };
    let new_name = entry.field("newName");
    let new_tag = entry.field("newTag");
    let digest = entry.field("digest");
    // The value that decides the tag is where a finding about it should point.
    let decider = digest.or(new_tag).or(new_name).unwrap_or(entry);
    for o in acc.iter_mut() {
        let Some(kind) = o.node.get("kind").and_then(Node::as_str).map(str::to_owned) else {
            continue;
        };
        let Some(path) = super::workload::pod_spec_path(&kind) else {
            continue;
        };
        let mut spec = Some(&mut o.node);
        for key in path {
            spec = spec.and_then(|n| n.get_mut(key));
        }
        let Some(spec) = spec else {
            continue;
        };
        for list in ["containers", "initContainers"] {
            let Some(Value::Seq(containers)) = spec.get_mut(list).map(|c| &mut c.value) else {
                continue;
            };
            for c in containers.iter_mut() {
                let Some(image) = c.get("image").and_then(Node::as_str) else {
                    continue;
                };
                let Some(rewritten) = rewrite_image(
                    image,
                    name,
                    new_name.and_then(|n| n.node.scalar_text()),
                    new_tag.and_then(|n| n.node.scalar_text()),
                    digest.and_then(|n| n.node.scalar_text()),
                ) else {
                    continue;
                };
                c.set("image", decider.node.pos, written(&rewritten, decider));
            }
        }
    }
}

/// Splits `registry/app:tag@digest` into (name, tag-or-digest suffix).
fn split_image(image: &str) -> (&str, &str) {
    if let Some(at) = image.find('@') {
        let name = &image[..at];
        // A tag before the digest belongs to the suffix too.
        let last = name.rfind('/').map_or(0, |i| i + 1);
        return match name[last..].rfind(':') {
            Some(c) => (&image[..last + c], &image[last + c..]),
            None => (name, &image[at..]),
        };
    }
    let last = image.rfind('/').map_or(0, |i| i + 1);
    match image[last..].rfind(':') {
        Some(c) => (&image[..last + c], &image[last + c..]),
        None => (image, ""),
    }
}

/// The image after an `images` entry, or `None` when the entry does not match it.
fn rewrite_image(
    image: &str,
    name: &str,
    new_name: Option<&str>,
    new_tag: Option<&str>,
    digest: Option<&str>,
) -> Option<String> {
    let (current, suffix) = split_image(image);
    if current != name {
        return None;
    }
    let base = new_name.unwrap_or(current);
    let suffix = match (digest, new_tag) {
        (Some(d), _) => format!("@{d}"),
        (None, Some(t)) => format!(":{t}"),
        (None, None) => suffix.to_owned(),
    };
    Some(format!("{base}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::{join, rewrite_image};

    #[test]
    fn paths_join_and_stay_inside() {
        assert_eq!(join("overlays/prod", "../../base").as_deref(), Some("base"));
        assert_eq!(join("", "./app.yaml").as_deref(), Some("app.yaml"));
        assert_eq!(join("a", "../../x"), None);
    }

    #[test]
    fn images_are_rewritten_as_kustomize_does() {
        assert_eq!(
            rewrite_image("nginx:1.2", "nginx", None, Some("1.3"), None).as_deref(),
            Some("nginx:1.3")
        );
        assert_eq!(
            rewrite_image("nginx", "nginx", Some("r/nginx"), None, None).as_deref(),
            Some("r/nginx")
        );
        assert_eq!(
            rewrite_image(
                "host:5000/app:1",
                "host:5000/app",
                None,
                None,
                Some("sha256:ab")
            )
            .as_deref(),
            Some("host:5000/app@sha256:ab")
        );
        assert_eq!(
            rewrite_image("other:1", "nginx", None, Some("2"), None),
            None
        );
    }
}
