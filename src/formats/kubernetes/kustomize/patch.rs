//! Kustomize patches: strategic merge (containers merged by name, `$patch: delete|replace`,
//! `null` deletes) and JSON 6902, each value grafted with the file and line that wrote it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::super::load;
use super::super::tree::{At, Node, Origin, Pos, Value};
use super::super::{Category, K8sFile, category};
use super::{Obj, join};
use crate::error::Problem;

/// The list fields Kubernetes merges by a key (strategic merge patch), by field name.
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ports" => "containerPort",
        "hostAliases" => "ip",
        _ => return None,
    })
}

/// What one kustomization's patches need.
pub(super) struct Cx<'a, 'p> {
    pub files: &'a BTreeMap<&'a str, &'a K8sFile>,
    pub dir: &'a str,
    pub kustomization: &'a str,
    /// Part of the unit was not rendered: a patch that matches nothing may target that part.
    pub partial: bool,
    pub problems: &'p mut Vec<Problem>,
}

/// A patch document and where it was written.
struct Doc {
    node: Node,
    origin: Arc<Origin>,
}

impl Cx<'_, '_> {
    /// One `patchesStrategicMerge` entry: a path or an inline patch.
    pub fn strategic_merge_entry(&mut self, item: At<'_>, acc: &mut Vec<Obj>) {
        let Some(s) = item.node.as_str() else {
            self.problems.push(item.problem(
                format!(
                    "`patchesStrategicMerge` in `{}` must list paths or patches",
                    self.kustomization
                ),
                "expected a string",
            ));
            return;
        };
        let file = (!s.contains('\n'))
            .then(|| join(self.dir, s))
            .flatten()
            .and_then(|p| self.files.get(p.as_str()).copied());
        let docs = match file {
            Some(f) => self.file_docs(f),
            None if s.contains(':') => self.inline_docs(item),
            None => {
                self.problems.push(item.problem(
                    format!(
                        "patch `{s}` in `{}` is not a file of the scanned tree",
                        self.kustomization
                    ),
                    "not found",
                ));
                return;
            }
        };
        for d in docs {
            self.strategic(&d, None, acc);
        }
    }

    /// One `patches` entry (`path` or `patch`, optional `target`).
    pub fn patch_entry(&mut self, item: At<'_>, acc: &mut Vec<Obj>) {
        let Some(docs) = self.entry_docs(item, "patches") else {
            return;
        };
        let target = item.field("target");
        for d in docs {
            if matches!(d.node.value, Value::Seq(_)) {
                match target {
                    Some(t) => self.json6902(&d, t, acc),
                    None => self.problems.push(item.problem(
                        format!(
                            "a JSON 6902 patch in `{}` needs a `target`",
                            self.kustomization
                        ),
                        "no target",
                    )),
                }
            } else {
                self.strategic(&d, target, acc);
            }
        }
    }

    /// One `patchesJson6902` entry.
    pub fn json6902_entry(&mut self, item: At<'_>, acc: &mut [Obj]) {
        let Some(docs) = self.entry_docs(item, "patchesJson6902") else {
            return;
        };
        let Some(target) = item.field("target") else {
            self.problems.push(item.problem(
                format!(
                    "a `patchesJson6902` entry in `{}` needs a `target`",
                    self.kustomization
                ),
                "no target",
            ));
            return;
        };
        for d in docs {
            self.json6902(&d, target, acc);
        }
    }

    /// The documents of an entry's `path` or inline `patch`.
    fn entry_docs(&mut self, item: At<'_>, field: &str) -> Option<Vec<Doc>> {
        if let Some(path) = item.field("path").and_then(|p| p.node.as_str()) {
            let file = join(self.dir, path).and_then(|p| self.files.get(p.as_str()).copied());
            return match file {
                Some(f) => Some(self.file_docs(f)),
                None => {
                    self.problems.push(
                        item.problem(
                            format!(
                                "patch `{path}` in `{}` is not a file of the scanned tree",
                                self.kustomization
                            ),
                            "not found",
                        )
                        .with_help("`kubectl kustomize` fails on this too: fix the path"),
                    );
                    None
                }
            };
        }
        if let Some(inline) = item.field("patch") {
            return Some(self.inline_docs(inline));
        }
        self.problems.push(item.problem(
            format!(
                "a `{field}` entry in `{}` needs a `path` or a `patch`",
                self.kustomization
            ),
            "nothing to apply",
        ));
        None
    }

    fn file_docs(&mut self, f: &K8sFile) -> Vec<Doc> {
        let docs = load::documents(&f.origin);
        self.problems.extend(docs.problems);
        docs.roots
            .into_iter()
            .map(|node| Doc {
                node,
                origin: Arc::clone(&f.origin),
            })
            .collect()
    }

    /// The documents of an inline patch. A literal block (`patch: |`) is parsed in place, so
    /// its values point at their own lines of the kustomization; any other scalar's values
    /// point at the scalar.
    fn inline_docs(&mut self, at: At<'_>) -> Vec<Doc> {
        let origin = at.origin;
        let text: &str = &origin.text;
        let start = at.node.pos.offset as usize;
        let end = start + at.node.pos.len as usize;
        // saphyr's span of a block scalar starts at its content; its header is the last token
        // before it (`patch: |-`).
        let before = text.get(..start).unwrap_or("").trim_end();
        let header = before.rsplit(char::is_whitespace).next().unwrap_or("");
        let docs = if header.starts_with('|') {
            let content = before.len()
                + text
                    .get(before.len()..)
                    .and_then(|t| t.find('\n'))
                    .map_or(0, |i| i + 1);
            let rebuilt = blank_outside(text, content.min(end), end);
            load::documents_in(&rebuilt, origin)
        } else {
            let value = at.node.scalar_text().unwrap_or("");
            let temp = Origin::new(&origin.path, Arc::from(value));
            let mut docs = load::documents(&temp);
            for r in &mut docs.roots {
                flatten(r, at.node.pos, origin);
            }
            for p in &mut docs.problems {
                p.span = None;
                p.source = None;
            }
            docs
        };
        self.problems.extend(docs.problems);
        docs.roots
            .into_iter()
            .map(|node| Doc {
                node,
                origin: Arc::clone(origin),
            })
            .collect()
    }

    /// Applies a strategic-merge patch to its targets.
    fn strategic(&mut self, d: &Doc, target: Option<At<'_>>, acc: &mut Vec<Obj>) {
        let patch = At::root(&d.node, &d.origin);
        if !patch.node.is_map() {
            self.problems.push(patch.problem(
                "a strategic-merge patch must be a mapping (an object with the fields to change)".into(),
                "expected a mapping",
            ));
            return;
        }
        let indices = match target {
            Some(t) => self.select(t, acc),
            None => by_own_identity(patch.node, acc),
        };
        if indices.is_empty() {
            let kind = patch.node.get("kind").and_then(Node::as_str).unwrap_or("");
            let group = patch
                .node
                .get("apiVersion")
                .and_then(Node::as_str)
                .and_then(|v| v.rsplit_once('/').map(|(g, _)| g))
                .unwrap_or("");
            if target.is_none() && !self.partial && category(group, kind) != Category::Other {
                self.problems.push(
                    patch
                        .problem(
                            format!("this patch of `{}` matches no object of the kustomization", self.kustomization),
                            "no object with this kind and name",
                        )
                        .with_help("`kubectl kustomize` fails on this too: fix the patch's kind, name or namespace"),
                );
            }
            return;
        }
        let delete = patch
            .node
            .get("$patch")
            .and_then(Node::as_str)
            .is_some_and(|p| p == "delete");
        if delete {
            let mut i = 0;
            acc.retain(|_| {
                let keep = !indices.contains(&i);
                i += 1;
                keep
            });
            return;
        }
        // With a target, the patch's own kind and name do not rename what it patches.
        let mut targeted;
        let patch_node = if target.is_some() {
            targeted = patch.node.clone();
            targeted.remove("kind");
            targeted.remove("apiVersion");
            if let Some(meta) = targeted.get_mut("metadata") {
                meta.remove("name");
                meta.remove("namespace");
            }
            &targeted
        } else {
            patch.node
        };
        for i in indices {
            if let Some(o) = acc.get_mut(i) {
                merge(&mut o.node, patch_node, patch.origin, "");
            }
        }
    }

    /// The objects a `target` selector picks (by kind, group, version, name, namespace, label
    /// and annotation selectors; names and namespaces are anchored regular expressions).
    fn select(&mut self, t: At<'_>, acc: &[Obj]) -> Vec<usize> {
        let text = |k: &str| {
            t.field(k)
                .and_then(|n| n.node.scalar_text().map(str::to_owned))
        };
        let regex = |s: Option<String>,
                     problems: &mut Vec<Problem>|
         -> Result<Option<regex::Regex>, ()> {
            match s {
                None => Ok(None),
                Some(p) => regex::Regex::new(&format!("^(?:{p})$"))
                    .map(Some)
                    .map_err(|e| {
                        problems.push(t.problem(
                            format!("the target's pattern `{p}` is not a regular expression: {e}"),
                            "here",
                        ));
                    }),
            }
        };
        let Ok(name) = regex(text("name"), self.problems) else {
            return Vec::new();
        };
        let Ok(namespace) = regex(text("namespace"), self.problems) else {
            return Vec::new();
        };
        let kind = text("kind");
        let group = text("group");
        let version = text("version");
        let labels = text("labelSelector");
        let annotations = text("annotationSelector");
        acc.iter()
            .enumerate()
            .filter(|(_, o)| {
                let n = &o.node;
                let Some((k, ns, nm)) = o.id() else {
                    return false;
                };
                let api = n.get("apiVersion").and_then(Node::as_str).unwrap_or("");
                let (g, v) = api.rsplit_once('/').unwrap_or(("", api));
                let names = std::iter::once((ns.as_str(), nm.as_str()))
                    .chain(o.former.iter().map(|(a, b)| (a.as_str(), b.as_str())));
                kind.as_deref().is_none_or(|x| x == k)
                    && group.as_deref().is_none_or(|x| x == g)
                    && version.as_deref().is_none_or(|x| x == v)
                    && names
                        .clone()
                        .any(|(_, nm)| name.as_ref().is_none_or(|r| r.is_match(nm)))
                    && names
                        .clone()
                        .any(|(ns, _)| namespace.as_ref().is_none_or(|r| r.is_match(ns)))
                    && labels.as_deref().is_none_or(|s| selects(n, "labels", s))
                    && annotations
                        .as_deref()
                        .is_none_or(|s| selects(n, "annotations", s))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Applies a JSON 6902 patch to its targets.
    fn json6902(&mut self, d: &Doc, target: At<'_>, acc: &mut [Obj]) {
        let ops = At::root(&d.node, &d.origin);
        let indices = self.select(target, acc);
        for i in indices {
            let Some(o) = acc.get_mut(i) else {
                continue;
            };
            for op in ops.items() {
                if let Err(why) = apply_op(&mut o.node, op) {
                    self.problems.push(
                        op.problem(
                            format!(
                                "this patch operation of `{}` fails: {why}",
                                self.kustomization
                            ),
                            "here",
                        )
                        .with_help("`kubectl kustomize` fails on this too"),
                    );
                }
            }
        }
    }
}

/// `text` with everything outside `start..end` blanked (newlines kept), byte for byte, so
/// that offsets into it are offsets into `text`.
fn blank_outside(text: &str, start: usize, end: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if (start..end).contains(&i) || c == '\n' {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    }
    out
}

/// Points every node of a tree at `pos` of `origin` (values of a quoted inline patch).
fn flatten(root: &mut Node, pos: Pos, origin: &Arc<Origin>) {
    root.origin = Some(Arc::clone(origin));
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        n.pos = pos;
        match &mut n.value {
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(entries) => {
                for e in entries.iter_mut() {
                    e.key_pos = pos;
                    stack.push(&mut e.value);
                }
            }
            _ => {}
        }
    }
}

/// True when `selector` (`a=b,c!=d,e`) selects the object's labels or annotations.
fn selects(node: &Node, field: &str, selector: &str) -> bool {
    let map = node.get("metadata").and_then(|m| m.get(field));
    let value = |k: &str| map.and_then(|m| m.get(k)).and_then(Node::scalar_text);
    selector
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                value(k.trim()) != Some(v.trim())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                value(k.trim()) == Some(v.trim())
            } else if let Some(k) = term.strip_prefix('!') {
                value(k.trim()).is_none()
            } else {
                value(term).is_some()
            }
        })
}

/// The objects a targetless strategic-merge patch names (kind, name, namespace if given),
/// by current or former name.
fn by_own_identity(patch: &Node, acc: &[Obj]) -> Vec<usize> {
    let Some(kind) = patch.get("kind").and_then(Node::as_str) else {
        return Vec::new();
    };
    let meta = patch.get("metadata");
    let Some(name) = meta.and_then(|m| m.get("name")).and_then(Node::as_str) else {
        return Vec::new();
    };
    let namespace = meta.and_then(|m| m.get("namespace")).and_then(Node::as_str);
    acc.iter()
        .enumerate()
        .filter(|(_, o)| {
            let Some((k, ns, nm)) = o.id() else {
                return false;
            };
            k == kind
                && std::iter::once((ns.as_str(), nm.as_str()))
                    .chain(o.former.iter().map(|(a, b)| (a.as_str(), b.as_str())))
                    .any(|(ns, nm)| nm == name && namespace.is_none_or(|want| want == ns))
        })
        .map(|(i, _)| i)
        .collect()
}

/// A copy of a patch value that remembers the file it comes from.
fn graft(node: &Node, origin: &Arc<Origin>) -> Node {
    let mut copy = node.clone();
    if copy.origin.is_none() {
        copy.origin = Some(Arc::clone(origin));
    }
    copy
}

/// Strategic merge of `patch` into `target` (`field` names the list being merged, for keys).
fn merge(target: &mut Node, patch: &Node, origin: &Arc<Origin>, field: &str) {
    let origin = patch.origin.as_ref().unwrap_or(origin);
    match (&mut target.value, &patch.value) {
        (Value::Map(_), Value::Map(entries)) => {
            if patch.get("$patch").and_then(Node::as_str) == Some("replace") {
                let mut replaced = graft(patch, origin);
                replaced.remove("$patch");
                *target = replaced;
                return;
            }
            for e in entries {
                if e.key.starts_with('$') {
                    continue;
                }
                if e.value.is_null() {
                    target.remove(&e.key);
                    continue;
                }
                let deleted = e.value.get("$patch").and_then(Node::as_str) == Some("delete");
                if deleted {
                    target.remove(&e.key);
                    continue;
                }
                match target.get_mut(&e.key) {
                    Some(existing)
                        if (existing.is_map() && e.value.is_map())
                            || (matches!(existing.value, Value::Seq(_))
                                && matches!(e.value.value, Value::Seq(_))) =>
                    {
                        merge(existing, &e.value, origin, &e.key);
                    }
                    _ => target.set(&e.key, e.key_pos, graft(&e.value, origin)),
                }
            }
        }
        (Value::Seq(items), Value::Seq(patch_items)) => match merge_key(field) {
            Some(key) => {
                if patch_items
                    .iter()
                    .any(|p| p.get("$patch").and_then(Node::as_str) == Some("replace"))
                {
                    *items = patch_items
                        .iter()
                        .filter(|p| p.get("$patch").is_none())
                        .map(|p| graft(p, origin))
                        .collect();
                    return;
                }
                for p in patch_items {
                    let Some(id) = p.get(key).and_then(Node::scalar_text) else {
                        items.push(graft(p, origin));
                        continue;
                    };
                    let pos = items
                        .iter()
                        .position(|t| t.get(key).and_then(Node::scalar_text) == Some(id));
                    let delete = p.get("$patch").and_then(Node::as_str) == Some("delete");
                    match (pos, delete) {
                        (Some(i), true) => {
                            items.remove(i);
                        }
                        (None, true) => {}
                        (Some(i), false) => {
                            if let Some(t) = items.get_mut(i) {
                                merge(t, p, origin, "");
                            }
                        }
                        (None, false) => items.push(graft(p, origin)),
                    }
                }
            }
            None => *items = patch_items.iter().map(|p| graft(p, origin)).collect(),
        },
        _ => *target = graft(patch, origin),
    }
}

/// A JSON pointer's tokens (`~1` is `/`, `~0` is `~`).
fn pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("path `{path}` does not start with `/`"));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// The node at `tokens` (mutable).
fn walk_mut<'n>(mut node: &'n mut Node, tokens: &[String]) -> Result<&'n mut Node, String> {
    for t in tokens {
        node = match &mut node.value {
            Value::Map(entries) => entries
                .iter_mut()
                .find(|e| &*e.key == t.as_str())
                .map(|e| &mut e.value)
                .ok_or_else(|| format!("`{t}` does not exist"))?,
            Value::Seq(items) => {
                let i: usize = t
                    .parse()
                    .map_err(|_| format!("`{t}` is not a list index"))?;
                items
                    .get_mut(i)
                    .ok_or_else(|| format!("index {i} is out of range"))?
            }
            _ => return Err(format!("`{t}` is inside a scalar")),
        };
    }
    Ok(node)
}

/// Applies one JSON 6902 operation.
fn apply_op(target: &mut Node, op: At<'_>) -> Result<(), String> {
    let name = op
        .field("op")
        .and_then(|o| o.node.as_str())
        .ok_or("it has no `op`")?;
    let path = op
        .field("path")
        .and_then(|p| p.node.as_str())
        .ok_or("it has no `path`")?;
    let tokens = pointer(path)?;
    let value = || {
        op.node
            .get("value")
            .map(|v| graft(v, op.origin))
            .ok_or_else(|| format!("`{name}` needs a `value`"))
    };
    match name {
        "add" => add(target, &tokens, value()?),
        "replace" => {
            let slot = walk_mut(target, &tokens)?;
            *slot = value()?;
            Ok(())
        }
        "remove" => remove(target, &tokens).map(|_| ()),
        "move" | "copy" => {
            let from = op
                .field("from")
                .and_then(|p| p.node.as_str())
                .ok_or("it has no `from`")?;
            let from = pointer(from)?;
            let moved = if name == "move" {
                remove(target, &from)?
            } else {
                walk_mut(target, &from)?.clone()
            };
            add(target, &tokens, moved)
        }
        "test" => {
            let expected = value()?;
            let actual = walk_mut(target, &tokens)?;
            if same(actual, &expected) {
                Ok(())
            } else {
                Err(format!("the value at `{path}` is not the one tested"))
            }
        }
        other => Err(format!("`{other}` is not a JSON patch operation")),
    }
}

fn add(target: &mut Node, tokens: &[String], value: Node) -> Result<(), String> {
    let Some((last, parent)) = tokens.split_last() else {
        *target = value;
        return Ok(());
    };
    let parent = walk_mut(target, parent)?;
    match &mut parent.value {
        Value::Map(_) => {
            parent.set(last, value.pos, value);
            Ok(())
        }
        Value::Seq(items) => {
            if last == "-" {
                items.push(value);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| format!("`{last}` is not a list index"))?;
            if i > items.len() {
                return Err(format!("index {i} is out of range"));
            }
            items.insert(i, value);
            Ok(())
        }
        _ => Err(format!("`{last}` is inside a scalar")),
    }
}

fn remove(target: &mut Node, tokens: &[String]) -> Result<Node, String> {
    let Some((last, parent)) = tokens.split_last() else {
        return Err("the whole object cannot be removed".into());
    };
    let parent = walk_mut(target, parent)?;
    match &mut parent.value {
        Value::Map(entries) => {
            let i = entries
                .iter()
                .position(|e| &*e.key == last.as_str())
                .ok_or_else(|| format!("`{last}` does not exist"))?;
            Ok(entries.remove(i).value)
        }
        Value::Seq(items) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("`{last}` is not a list index"))?;
            if i >= items.len() {
                return Err(format!("index {i} is out of range"));
            }
            Ok(items.remove(i))
        }
        _ => Err(format!("`{last}` is inside a scalar")),
    }
}

/// Equal values, wherever they were written.
fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Null, Value::Null) => true,
        (Value::Scalar(x, _), Value::Scalar(y, _)) => x == y,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|e| b.get(&e.key).is_some_and(|v| same(&e.value, v)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::pointer;

    #[test]
    fn pointers_unescape() {
        assert_eq!(
            pointer("/a~1b/0/~0c"),
            Ok(vec!["a/b".to_owned(), "0".to_owned(), "~c".to_owned()])
        );
        assert!(pointer("a").is_err());
    }
}
