//! Namespaces and the network policies that isolate them, joined across files.

use std::collections::BTreeMap;

use super::Object;
use super::read::{Place, Reader};
use super::tree::{At, Value as Yaml};
use crate::model::{Resource, Span, Value};

/// Labels naming the tenant a namespace belongs to, first match wins.
const TENANT_LABELS: &[&str] = &["vouch.dev/tenant", "tenant"];

/// A Namespace object, before its network policies are known.
#[derive(Debug, Clone)]
pub struct NamespaceDecl {
    pub address: String,
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
pub(super) fn namespace(rd: &mut Reader, obj: &Object<'_>) -> NamespaceDecl {
    let place = Place::new(obj.kind, &obj.name);
    let mut tenant = String::new();
    if let Some(labels) = obj
        .at
        .field("metadata")
        .and_then(|m| rd.map(m, "labels", "metadata.labels", &place))
    {
        for key in TENANT_LABELS {
            if let Some(t) = rd.string(labels, key, &format!("metadata.labels.{key}"), &place) {
                tenant = t.to_owned();
                break;
            }
        }
    }
    NamespaceDecl {
        address: obj.address(),
        name: obj.name.clone(),
        tenant,
        span: obj.at.span(),
    }
}

/// Reads a NetworkPolicy object (Kubernetes semantics: `policyTypes` defaults to `Ingress`,
/// plus `Egress` when egress rules are present; an absent or empty `podSelector` selects
/// every pod).
pub(super) fn network_policy(rd: &mut Reader, obj: &Object<'_>) -> NetworkPolicyDecl {
    let place = Place::new(obj.kind, &obj.name);
    let mut deny = false;
    if let Some(spec) = rd.map(obj.at, "spec", "spec", &place) {
        let selects_all = match rd.map(spec, "podSelector", "spec.podSelector", &place) {
            Some(sel) => selects_everything(rd, sel, &place),
            None => spec.field("podSelector").is_none(),
        };
        let ingress = rd.list(spec, "ingress", "spec.ingress", &place);
        let types = match spec.field("policyTypes") {
            Some(_) => rd.strings(spec, "policyTypes", "spec.policyTypes", &place),
            None => vec!["Ingress"],
        };
        let allows_all = ingress.iter().any(|rule| rule_allows_everything(*rule));
        deny = selects_all && types.contains(&"Ingress") && !allows_all;
    }
    NetworkPolicyDecl {
        namespace: obj.namespace.clone(),
        default_deny_ingress: deny,
    }
}

/// True for a label selector with no labels and no expressions (`{}`).
fn selects_everything(rd: &mut Reader, sel: At<'_>, place: &Place) -> bool {
    let labels_empty = rd
        .map(sel, "matchLabels", "spec.podSelector.matchLabels", place)
        .is_none_or(is_empty_collection);
    let exprs = rd.list(
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
fn rule_allows_everything(rule: At<'_>) -> bool {
    if !rule.node.is_map() {
        return false;
    }
    let Some(from) = rule.field("from") else {
        return true;
    };
    if !matches!(from.node.value, Yaml::Seq(_)) {
        return is_empty_collection(from);
    }
    let peers: Vec<At<'_>> = from.items().collect();
    if peers.is_empty() {
        return true;
    }
    peers.into_iter().any(|peer| {
        let empty_or_absent = |key: &str| peer.field(key).is_none_or(is_empty_selector);
        let whole_cluster = peer
            .field("namespaceSelector")
            .is_some_and(is_empty_selector)
            && empty_or_absent("podSelector");
        let whole_internet = peer
            .field("ipBlock")
            .and_then(|b| b.field("cidr"))
            .and_then(|c| c.node.as_str())
            .is_some_and(|c| c == "0.0.0.0/0" || c == "::/0");
        whole_cluster || whole_internet
    })
}

/// A label selector that selects everything: `{}` or empty `matchLabels`/`matchExpressions`.
fn is_empty_selector(at: At<'_>) -> bool {
    if is_empty_collection(at) || at.node.is_null() {
        return true;
    }
    ["matchLabels", "matchExpressions"]
        .iter()
        .all(|k| at.field(k).is_none_or(is_empty_collection))
}

fn is_empty_collection(at: At<'_>) -> bool {
    match &at.node.value {
        Yaml::Seq(items) => items.is_empty(),
        Yaml::Map(entries) => entries.is_empty(),
        _ => false,
    }
}

/// Joins the network policies of a unit onto its namespaces.
pub(super) fn join(
    namespaces: Vec<NamespaceDecl>,
    policies: &[NetworkPolicyDecl],
) -> Vec<Resource> {
    let mut by_ns: BTreeMap<&str, (i64, bool)> = BTreeMap::new();
    for p in policies {
        let entry = by_ns.entry(p.namespace.as_str()).or_default();
        entry.0 += 1;
        entry.1 |= p.default_deny_ingress;
    }
    namespaces
        .into_iter()
        .map(|ns| {
            let (count, deny) = by_ns.get(ns.name.as_str()).copied().unwrap_or_default();
            Resource::new("K8s::Namespace", ns.address, ns.span)
                .with("name", Value::str(&ns.name))
                .with("tenant", Value::str(&ns.tenant))
                .with("default_deny_ingress", Value::Bool(deny))
                .with("network_policies", Value::Long(count))
        })
        .collect()
}
