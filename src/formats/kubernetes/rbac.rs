//! RBAC: Role and ClusterRole (`K8s::Role`), RoleBinding and ClusterRoleBinding
//! (`K8s::RoleBinding`).

use std::collections::BTreeSet;

use super::Object;
use super::read::{Place, Reader};
use crate::model::{Resource, Value};

/// The escalation verbs a rule grants. Kubernetes checks `bind` and `escalate` only on roles
/// and cluster roles, and `impersonate` only on identities, so the same verb on other resources
/// grants nothing; a `*` verb, resource or API group counts, and a rule without `apiGroups` is
/// read as matching (unknown is never assumed safe).
fn escalation_in_rule(
    verbs: &[&str],
    resources: &[&str],
    groups: Option<&[&str]>,
) -> Vec<&'static str> {
    let in_group = |g: &str| groups.is_none_or(|gs| gs.iter().any(|x| *x == g || *x == "*"));
    let on = |kinds: &[&str]| {
        resources.iter().any(|r| {
            *r == "*"
                || kinds
                    .iter()
                    .any(|k| r == k || r.strip_prefix(k).is_some_and(|s| s.starts_with('/')))
        })
    };
    let grants = |verb: &str| verbs.iter().any(|v| *v == verb || *v == "*");
    let mut out = Vec::new();
    if in_group("rbac.authorization.k8s.io") && on(&["roles", "clusterroles"]) {
        out.extend(["bind", "escalate"].into_iter().filter(|v| grants(v)));
    }
    if (in_group("") || in_group("authentication.k8s.io"))
        && on(&["users", "groups", "serviceaccounts", "uids", "userextras"])
        && grants("impersonate")
    {
        out.push("impersonate");
    }
    out
}

/// Verbs that read a resource.
const READ_VERBS: &[&str] = &["get", "list", "watch", "*"];

/// Builds the `K8s::Role` of a Role or ClusterRole.
pub(super) fn role(rd: &mut Reader, obj: &Object<'_>) -> Resource {
    let cluster = obj.kind == "ClusterRole";
    let place = Place::new(obj.kind, &obj.name);
    let mut wildcard_verbs = false;
    let mut wildcard_resources = false;
    let mut secrets_access = false;
    let mut escalation = BTreeSet::new();
    for (i, rule) in rd
        .list(obj.at, "rules", "rules", &place)
        .into_iter()
        .enumerate()
    {
        let path = format!("rules[{i}]");
        if !rule.node.is_map() {
            rd.problem(
                rule,
                format!("`{path}` {} must be a mapping", place.what),
                "expected a policy rule",
            );
            continue;
        }
        let verbs = rd.strings(rule, "verbs", &format!("{path}.verbs"), &place);
        let resources = rd.strings(rule, "resources", &format!("{path}.resources"), &place);
        let groups = rule
            .field("apiGroups")
            .map(|_| rd.strings(rule, "apiGroups", &format!("{path}.apiGroups"), &place));
        wildcard_verbs |= verbs.contains(&"*");
        wildcard_resources |= resources.contains(&"*");
        // Secrets live in the core group; a rule without apiGroups is read as matching it.
        let core_group = groups
            .as_ref()
            .is_none_or(|g| g.iter().any(|g| g.is_empty() || *g == "*"));
        if core_group
            && resources.iter().any(|r| *r == "secrets" || *r == "*")
            && verbs.iter().any(|v| READ_VERBS.contains(v))
        {
            secrets_access = true;
        }
        for v in escalation_in_rule(&verbs, &resources, groups.as_deref()) {
            escalation.insert(v.to_owned());
        }
    }
    let mut r = Resource::new("K8s::Role", obj.address(), obj.at.span());
    r.set("cluster", Value::Bool(cluster));
    r.set(
        "namespace",
        Value::str(if cluster { "" } else { obj.namespace.as_str() }),
    );
    r.set("wildcard_verbs", Value::Bool(wildcard_verbs));
    r.set("wildcard_resources", Value::Bool(wildcard_resources));
    r.set("secrets_access", Value::Bool(secrets_access));
    r.set("escalation_verbs", Value::string_set(escalation));
    r
}

/// Builds the `K8s::RoleBinding` of a RoleBinding or ClusterRoleBinding.
pub(super) fn binding(rd: &mut Reader, obj: &Object<'_>) -> Resource {
    let cluster = obj.kind == "ClusterRoleBinding";
    let place = Place::new(obj.kind, &obj.name);
    let (mut role_kind, mut role_name) = (String::new(), String::new());
    match rd.map(obj.at, "roleRef", "roleRef", &place) {
        Some(role_ref) => {
            for (key, out) in [("kind", &mut role_kind), ("name", &mut role_name)] {
                let path = format!("roleRef.{key}");
                match rd.string(role_ref, key, &path, &place) {
                    Some(v) => *out = v.to_owned(),
                    None if role_ref.field(key).is_none() => rd.problem(
                        role_ref,
                        format!("`{path}` is missing {}", place.what),
                        "a role reference needs a kind and a name",
                    ),
                    None => {}
                }
            }
        }
        None if obj.at.field("roleRef").is_none() => rd.problem(
            obj.at,
            format!("`roleRef` is missing {}", place.what),
            "a binding needs the role it grants",
        ),
        None => {}
    }
    let mut subjects = BTreeSet::new();
    let default_ns = if cluster { "default" } else { &obj.namespace };
    let items = rd.list(obj.at, "subjects", "subjects", &place);
    for (i, s) in items.into_iter().enumerate() {
        let path = format!("subjects[{i}]");
        if !s.node.is_map() {
            rd.problem(
                s,
                format!("`{path}` {} must be a mapping", place.what),
                "expected a subject",
            );
            continue;
        }
        let kind = rd.string(s, "kind", &format!("{path}.kind"), &place);
        let name = rd.string(s, "name", &format!("{path}.name"), &place);
        let ns = rd.string(s, "namespace", &format!("{path}.namespace"), &place);
        let (Some(kind), Some(name)) = (kind, name) else {
            if kind.is_none() && s.field("kind").is_none()
                || name.is_none() && s.field("name").is_none()
            {
                rd.problem(
                    s,
                    format!("`{path}` {} needs a `kind` and a `name`", place.what),
                    "incomplete subject",
                );
            }
            continue;
        };
        if let Some(subject) = ordinary_subject(kind, name, ns.unwrap_or(default_ns)) {
            subjects.insert(subject);
        }
    }
    let mut r = Resource::new("K8s::RoleBinding", obj.address(), obj.at.span());
    r.set("cluster", Value::Bool(cluster));
    r.set(
        "namespace",
        Value::str(if cluster { "" } else { obj.namespace.as_str() }),
    );
    r.set("role_kind", Value::str(role_kind));
    r.set("role_name", Value::str(role_name));
    r.set("ordinary_subjects", Value::string_set(subjects));
    r
}

/// `User:alice`, `Group:devs`, `ServiceAccount:ns/name`, or `None` for system subjects
/// (`system:` users and groups, service accounts in `kube-system`).
///
/// The subjects that stand for a whole population count as the broadest ordinary subjects
/// there are: every authenticated user, every unauthenticated request, the anonymous user,
/// and every service account of the cluster or of one namespace
/// (`system:serviceaccounts[:<namespace>]`).
fn ordinary_subject(kind: &str, name: &str, namespace: &str) -> Option<String> {
    if is_cluster_wide(name) {
        return Some(format!("{kind}:{name}"));
    }
    if let Some(rest) = name.strip_prefix("system:serviceaccount:") {
        // A service account written as a user: ordinary unless it lives in kube-system.
        return (!rest.starts_with("kube-system:")).then(|| format!("{kind}:{name}"));
    }
    if name.starts_with("system:") {
        return None;
    }
    match kind {
        "ServiceAccount" if namespace == "kube-system" => None,
        "ServiceAccount" => Some(format!("ServiceAccount:{namespace}/{name}")),
        _ => Some(format!("{kind}:{name}")),
    }
}

/// A subject that stands for a whole population rather than one identity.
fn is_cluster_wide(name: &str) -> bool {
    matches!(
        name,
        "system:authenticated"
            | "system:unauthenticated"
            | "system:anonymous"
            | "system:serviceaccounts"
    ) || name
        .strip_prefix("system:serviceaccounts:")
        .is_some_and(|ns| !ns.is_empty() && ns != "kube-system")
}

#[cfg(test)]
mod tests {
    use super::ordinary_subject;

    #[test]
    fn population_subjects_are_ordinary() {
        for name in [
            "system:authenticated",
            "system:unauthenticated",
            "system:anonymous",
            "system:serviceaccounts",
            "system:serviceaccounts:default",
        ] {
            assert_eq!(
                ordinary_subject("Group", name, "x"),
                Some(format!("Group:{name}")),
                "{name}"
            );
        }
        assert_eq!(
            ordinary_subject("Group", "system:serviceaccounts:kube-system", "x"),
            None
        );
    }

    #[test]
    fn system_subjects_are_dropped() {
        assert_eq!(ordinary_subject("Group", "system:masters", "x"), None);
        assert_eq!(
            ordinary_subject("ServiceAccount", "coredns", "kube-system"),
            None
        );
        assert_eq!(
            ordinary_subject("ServiceAccount", "ci", "build").as_deref(),
            Some("ServiceAccount:build/ci")
        );
        assert_eq!(
            ordinary_subject("User", "alice", "").as_deref(),
            Some("User:alice")
        );
    }
}
