//! Per-principal facts: users (with their groups' policies), groups and roles, each with the
//! policies it holds and its permissions boundary, evaluated together; roles' trust policies;
//! and the assume-role graph (a principal that can assume, through trust policies, a role that
//! is an administrator or opens a path has the `AssumeRole` path).
//!
//! Terraform ([`crate::formats::terraform`]) and account exports ([`super::export`]) both build
//! [`Principal`]s; this module turns them into `Aws::IamUser`, `Aws::IamGroup` and `Aws::IamRole`
//! resources, and documents into `Aws::IamPolicy` resources.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use super::document::Document;
use super::eval::{Compiled, Holdings, Permissions, Tri, compile};
use super::findings::{self, ESCALATION, FULL_ADMIN, Facts};
use super::paths::ASSUME_ROLE;
use super::trust::{self, TrustFacts};
use crate::model::{Resource, Value};

/// A user, a group or a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    User,
    Group,
    Role,
}

impl Kind {
    /// The Cedar entity type.
    pub fn entity_type(self) -> &'static str {
        match self {
            Kind::User => "Aws::IamUser",
            Kind::Group => "Aws::IamGroup",
            Kind::Role => "Aws::IamRole",
        }
    }
}

/// One principal, as a reader found it.
#[derive(Debug, Clone)]
pub struct Principal {
    pub kind: Kind,
    /// The resource, with the reader's own attributes already set; facts are added to it.
    pub resource: Resource,
    /// How others name it (a Terraform address, an ARN, a name): group memberships and trust
    /// policies are matched against these.
    pub keys: Vec<String>,
    /// Its AWS account, when known (exports).
    pub account: Option<String>,
    /// Policies attached to it or inline in it.
    pub policies: Vec<Arc<Compiled>>,
    /// For a user: the keys of its groups; `Err(reason)` when they cannot be known.
    pub groups: Result<Vec<String>, String>,
    pub boundary: Option<Result<Arc<Compiled>, String>>,
    /// For a role: its trust policy.
    pub trust: Option<Document>,
}

impl Principal {
    /// A principal with no policy yet.
    pub fn new(kind: Kind, resource: Resource) -> Self {
        Principal {
            kind,
            keys: vec![resource.address.clone()],
            resource,
            account: None,
            policies: Vec::new(),
            groups: Ok(Vec::new()),
            boundary: None,
            trust: None,
        }
    }
}

/// How a trust policy names a principal, as a key: `${aws_iam_role.r.arn}` →
/// `aws_iam_role.r`; an ARN stays as it is.
pub fn key_of(id: &str) -> String {
    let inner = id
        .strip_prefix("${")
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(id);
    if inner.starts_with("arn:") {
        return inner.to_owned();
    }
    for attr in [".arn", ".name", ".id", ".unique_id"] {
        if let Some(base) = inner.strip_suffix(attr) {
            return base.to_owned();
        }
    }
    inner.to_owned()
}

/// `arn:aws:iam::123456789012:role/path/app` → `role:app` (how a principal whose account is not
/// known, a Terraform one, is matched by name).
pub fn name_key(arn: &str) -> Option<String> {
    let resource = arn.strip_prefix("arn:")?.splitn(5, ':').nth(4)?;
    let (kind, rest) = resource.split_once('/')?;
    let name = rest.rsplit('/').next()?;
    matches!(kind, "role" | "user" | "group").then(|| format!("{kind}:{name}"))
}

/// An unknown policy standing for something a principal holds that cannot be read.
pub fn unknown_policy(name: &str, reason: &str) -> Arc<Compiled> {
    let doc = Document::unknown(Default::default(), reason);
    Arc::new(compile(name, &doc))
}

/// One principal's permissions (its own policies and its groups'), findings and trust.
fn analyse_one(
    p: &Principal,
    principals: &[Principal],
    by_key: &HashMap<&str, usize>,
) -> (Facts, Option<TrustFacts>) {
    let mut policies = p.policies.clone();
    let mut via: Vec<String> = Vec::new();
    match &p.groups {
        Ok(groups) => {
            for g in groups {
                match by_key.get(g.as_str()).map(|i| &principals[*i]) {
                    Some(group) if group.kind == Kind::Group => {
                        policies.extend(group.policies.iter().cloned());
                        via.push(format!("group `{}`", group.resource.address));
                    }
                    _ => policies.push(unknown_policy(
                        g,
                        &format!("group `{g}` is not among the scanned files"),
                    )),
                }
            }
        }
        Err(why) => policies.push(unknown_policy(
            "its groups",
            &format!(
                "the groups of `{}` are not known: {why}",
                p.resource.address
            ),
        )),
    }
    let perms = Permissions::of(Holdings {
        policies,
        boundary: p.boundary.clone(),
    });
    let mut f = findings::analyse(&perms);
    let names: Vec<String> = perms
        .policies()
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect();
    if !names.is_empty() {
        let held = format!(
            "policies held: {}{}",
            names.join(", "),
            if via.is_empty() {
                String::new()
            } else {
                format!(" (through {})", via.join(", "))
            }
        );
        for lines in f.notes.values_mut() {
            lines.insert(0, held.clone());
        }
    }
    let trust = p
        .trust
        .as_ref()
        .map(|t| trust::trust(t, p.account.as_deref()));
    (f, trust)
}

/// Evaluates every principal and returns its resource with the facts set.
pub fn resources(principals: Vec<Principal>) -> Vec<Resource> {
    let by_key: HashMap<&str, usize> = principals
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.keys.iter().map(move |k| (k.as_str(), i)))
        .collect();
    // Permissions and facts per principal, in parallel (an account export holds thousands).
    let analysed: Vec<(Facts, Option<TrustFacts>)> = {
        use rayon::prelude::*;
        principals
            .par_iter()
            .map(|p| analyse_one(p, &principals, &by_key))
            .collect()
    };
    let (mut facts, trusts): (Vec<Facts>, Vec<Option<TrustFacts>>) = analysed.into_iter().unzip();
    // The assume-role graph: edges from a trusted principal to the role.
    let mut edges: Vec<Vec<(usize, Tri)>> = vec![Vec::new(); principals.len()];
    for (r, t) in trusts.iter().enumerate() {
        for (id, certain) in t.iter().flat_map(|t| t.trusted.iter()) {
            let key = key_of(id);
            let found = by_key
                .get(key.as_str())
                .or_else(|| name_key(&key).and_then(|k| by_key.get(k.as_str())));
            if let Some(&from) = found
                && from != r
            {
                edges[from].push((r, *certain));
            }
        }
    }
    let powerful: Vec<bool> = facts
        .iter()
        .map(|f| f.full_admin.state == Tri::Yes || !f.escalation.definite.is_empty())
        .collect();
    // Each principal's search is independent of the others: run in parallel, applied in order.
    let reached: Vec<Option<(usize, Tri, Vec<usize>)>> = {
        use rayon::prelude::*;
        (0..principals.len())
            .into_par_iter()
            .map(|start| reach(start, &edges, &powerful))
            .collect()
    };
    for (start, found) in reached.into_iter().enumerate() {
        if let Some((target, state, chain)) = found {
            let role = &principals[target].resource.address;
            let what = if facts[target].full_admin.state == Tri::Yes {
                "a full administrator".to_owned()
            } else {
                let paths: Vec<&str> = facts[target]
                    .escalation
                    .definite
                    .iter()
                    .map(String::as_str)
                    .collect();
                format!("opens {}", paths.join(", "))
            };
            let chain: Vec<String> = chain
                .iter()
                .map(|i| format!("`{}`", principals[*i].resource.address))
                .collect();
            let line = format!(
                "{ASSUME_ROLE}: can assume `{role}` ({what}) through the trust of {}",
                chain.join(" → ")
            );
            let f = &mut facts[start];
            match state {
                Tri::Yes => {
                    f.escalation.definite.insert(ASSUME_ROLE.to_owned());
                    findings::note(&mut f.notes, ESCALATION, line);
                }
                Tri::Maybe => {
                    f.escalation
                        .undetermined
                        .insert(ASSUME_ROLE.to_owned(), vec![format!("a trust policy on the way to `{role}` has a condition that is not known")]);
                    findings::note(
                        &mut f.notes,
                        ESCALATION,
                        format!("{line} (not determined: a condition on the way is not known)"),
                    );
                }
                Tri::No => {}
            }
        }
    }
    use rayon::prelude::*;
    principals
        .into_par_iter()
        .zip(facts)
        .zip(trusts)
        .map(|((p, f), t)| {
            let mut r = p.resource;
            f.apply(&mut r);
            if let Some(t) = t {
                r.set(
                    "trust_any_principal",
                    t.any_principal.value("any principal may assume it"),
                );
                r.set(
                    "trust_external_without_condition",
                    t.external_without_condition
                        .value("another account may assume it without an external id"),
                );
                r.set(
                    "trust_federated_without_subject",
                    t.federated_without_subject
                        .value("every identity of a web identity provider may assume it"),
                );
                for n in t.notes {
                    findings::note(&mut r.notes, "iam-role-trust-restricted", n);
                }
            }
            if !r.notes.contains_key(FULL_ADMIN)
                && r.attrs.get("full_admin") == Some(&Value::Bool(true))
            {
                findings::note(
                    &mut r.notes,
                    FULL_ADMIN,
                    "every action on every resource".to_owned(),
                );
            }
            r
        })
        .collect()
}

/// Breadth-first search from `start` to a powerful role: (target, certainty, chain of names).
fn reach(
    start: usize,
    edges: &[Vec<(usize, Tri)>],
    powerful: &[bool],
) -> Option<(usize, Tri, Vec<usize>)> {
    let mut best: BTreeMap<usize, (Tri, usize)> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    best.insert(start, (Tri::Yes, start));
    let mut found: Option<(usize, Tri)> = None;
    while let Some(n) = queue.pop_front() {
        let here = best.get(&n).map_or(Tri::No, |b| b.0);
        for (to, certain) in &edges[n] {
            if *to == start || best.contains_key(to) {
                continue;
            }
            let st = here.min(*certain);
            best.insert(*to, (st, n));
            if powerful[*to] && found.is_none_or(|(_, s)| st > s) {
                found = Some((*to, st));
            }
            queue.push_back(*to);
        }
    }
    let (target, state) = found?;
    let mut chain = Vec::new();
    let mut n = target;
    while n != start {
        chain.push(n);
        n = best.get(&n).map_or(start, |b| b.1);
    }
    chain.reverse();
    Some((target, state, chain))
}

/// Facts of one policy document on its own: what it grants whoever holds it, and its wildcards.
pub fn policy_facts(r: &mut Resource, doc: &Document, compiled: &Arc<Compiled>) {
    let perms = Permissions::of(Holdings {
        policies: vec![compiled.clone()],
        boundary: None,
    });
    findings::analyse(&perms).apply(r);
    findings::wildcards(doc, r);
}

/// Marks every fact of a policy document unknown (the document cannot be read at all).
pub fn unknown_policy_facts(r: &mut Resource, reason: &str) {
    Facts::unknown(r, reason);
    r.set("wildcard_action", Value::unknown(reason));
    r.set("wildcard_services", Value::unknown(reason));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(key_of("${aws_iam_role.start.arn}"), "aws_iam_role.start");
        assert_eq!(
            key_of("module.a.aws_iam_user.u[0].arn"),
            "module.a.aws_iam_user.u[0]"
        );
        assert_eq!(key_of("arn:aws:iam::1:role/x"), "arn:aws:iam::1:role/x");
        assert_eq!(
            name_key("arn:aws:iam::111122223333:role/path/app").as_deref(),
            Some("role:app")
        );
        assert_eq!(name_key("arn:aws:iam::111122223333:root"), None);
    }
}
