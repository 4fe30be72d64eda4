//! Namespaces and the network policies that isolate them, joined across files.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::yaml::{Node, Place, Source, field, untag};
use super::{K8sFile, Object};
use crate::model::{Resource, Span, Value};

/// Labels naming the tenant a namespace belongs to, first match wins.
const TENANT_LABELS: &[&str] = &["vouch.dev/tenant", "tenant"];

/// A Namespace object, before its network policies are known.
#[derive(Debug, Clone)]
pub struct NamespaceDecl {
    pub name: String,
    pub tenant: String,
    pub span: Span,
}

/// What a NetworkPolicy contributes to its namespace.
#[derive(Debug, Clone)]
pub struct NetworkPolicyDecl {
    pub namespace: String,
    /// Selects every pod of the namespace for ingress, with no rule that lets everything in.
    pub default_deny_ingress: bool,
}

/// Reads a Namespace object.
pub(super) fn namespace(src: &mut Source<'_>, obj: &Object<'_, '_>) -> NamespaceDecl {
    let place = Place::new(obj.kind, &obj.name);
    let mut tenant = String::new();
    if let Some(labels) =
        field(obj.node, "metadata").and_then(|m| src.map(m, "labels", "metadata.labels", &place))
    {
        for key in TENANT_LABELS {
            if let Some(t) = src.string(labels, key, &format!("metadata.labels.{key}"), &place) {
                tenant = t.to_owned();
                break;
            }
        }
    }
    NamespaceDecl {
        name: obj.name.clone(),
        tenant,
        span: src.span(obj.node),
    }
}

/// Reads a NetworkPolicy object (Kubernetes semantics: `policyTypes` defaults to `Ingress`,
/// plus `Egress` when egress rules are present; an absent or empty `podSelector` selects
/// every pod).
pub(super) fn network_policy(src: &mut Source<'_>, obj: &Object<'_, '_>) -> NetworkPolicyDecl {
    let place = Place::new(obj.kind, &obj.name);
    let mut deny = false;
    if let Some(spec) = src.map(obj.node, "spec", "spec", &place) {
        let selects_all = match src.map(spec, "podSelector", "spec.podSelector", &place) {
            Some(sel) => selects_everything(src, sel, &place),
            None => field(spec, "podSelector").is_none(),
        };
        let ingress = src.list(spec, "ingress", "spec.ingress", &place);
        let types = match field(spec, "policyTypes") {
            Some(_) => src.strings(spec, "policyTypes", "spec.policyTypes", &place),
            None => vec!["Ingress"],
        };
        let allows_all = ingress.iter().any(|rule| rule_allows_everything(rule));
        deny = selects_all && types.contains(&"Ingress") && !allows_all;
    }
    NetworkPolicyDecl {
        namespace: obj.namespace.clone(),
        default_deny_ingress: deny,
    }
}

/// True for a label selector with no labels and no expressions (`{}`).
fn selects_everything(src: &mut Source<'_>, sel: &Node<'_>, place: &Place) -> bool {
    let labels_empty = src
        .map(sel, "matchLabels", "spec.podSelector.matchLabels", place)
        .is_none_or(is_empty_collection);
    let exprs = src.list(
        sel,
        "matchExpressions",
        "spec.podSelector.matchExpressions",
        place,
    );
    labels_empty && exprs.is_empty()
}

/// An ingress rule that admits any source: no `from` (any source, whatever its `ports`), or a
/// peer that is the whole cluster (`namespaceSelector: {}` without a pod selector) or the whole
/// internet (`ipBlock.cidr` 0.0.0.0/0 or ::/0).
fn rule_allows_everything(rule: &Node<'_>) -> bool {
    if !matches!(untag(rule).data, saphyr::YamlData::Mapping(_)) {
        return false;
    }
    let Some(from) = field(rule, "from") else {
        return true;
    };
    let saphyr::YamlData::Sequence(peers) = &untag(from).data else {
        return is_empty_collection(from);
    };
    if peers.is_empty() {
        return true;
    }
    peers.iter().any(|peer| {
        let empty_or_absent = |key: &str| field(peer, key).is_none_or(is_empty_selector);
        let whole_cluster = field(peer, "namespaceSelector").is_some_and(is_empty_selector)
            && empty_or_absent("podSelector");
        let whole_internet = field(peer, "ipBlock")
            .and_then(|b| field(b, "cidr"))
            .and_then(|c| untag(c).data.as_str())
            .is_some_and(|c| c == "0.0.0.0/0" || c == "::/0");
        whole_cluster || whole_internet
    })
}

/// A label selector that selects everything: `{}` or empty `matchLabels`/`matchExpressions`.
fn is_empty_selector(node: &Node<'_>) -> bool {
    if is_empty_collection(node)
        || matches!(
            untag(node).data,
            saphyr::YamlData::Value(saphyr::Scalar::Null)
        )
    {
        return true;
    }
    ["matchLabels", "matchExpressions"]
        .iter()
        .all(|k| field(node, k).is_none_or(is_empty_collection))
}

fn is_empty_collection(node: &Node<'_>) -> bool {
    untag(node).data.is_empty_collection()
}

/// Joins network policies (from any file) onto namespaces.
pub(super) fn assemble(files: &[Arc<K8sFile>]) -> Vec<Resource> {
    let mut policies: BTreeMap<&str, (i64, bool)> = BTreeMap::new();
    for p in files.iter().flat_map(|f| &f.network_policies) {
        let entry = policies.entry(p.namespace.as_str()).or_default();
        entry.0 += 1;
        entry.1 |= p.default_deny_ingress;
    }
    files
        .iter()
        .flat_map(|f| &f.namespaces)
        .map(|ns| {
            let (count, deny) = policies.get(ns.name.as_str()).copied().unwrap_or_default();
            Resource::new(
                "K8s::Namespace",
                format!("k8s:Namespace/{}", ns.name),
                ns.span.clone(),
            )
            .with("name", Value::str(&ns.name))
            .with("tenant", Value::str(&ns.tenant))
            .with("default_deny_ingress", Value::Bool(deny))
            .with("network_policies", Value::Long(count))
        })
        .collect()
}
