//! Counterexamples made readable: the solver's request and entities, replayed through the
//! normal authorizer on each side, and told as a sentence naming the attributes the policies
//! involved read ("a user with status = "active", mfa = false can now write a resource with
//! production = true, when the request has mfa = false").

use std::collections::{BTreeMap, BTreeSet};

use cedar_policy::{Authorizer, Decision, EntityUid, EvalResult, PolicySet};
use cedar_policy_symcc::Env;

use super::{CexEntity, Counterexample, Replay};

/// A value in Cedar syntax, with the request's principal and resource named as such.
fn show(v: &EvalResult, principal: &str, resource: &str) -> String {
    v.to_string()
        .replace(principal, "the principal")
        .replace(resource, "the resource")
}

/// The last segment of a type name, lowercased: `Access::User` → `user`.
fn noun(uid: &EntityUid) -> String {
    let ty = uid.type_name().to_string();
    ty.rsplit("::").next().unwrap_or(&ty).to_lowercase()
}

/// `a user with status = "active", mfa = false` (only attributes in `reads` under `var`).
fn describe(env: &Env, uid: Option<&EntityUid>, var: &str, reads: &BTreeSet<String>) -> String {
    let Some(uid) = uid else {
        return format!("an unknown {var}");
    };
    let principal = env
        .request
        .principal()
        .map(ToString::to_string)
        .unwrap_or_default();
    let resource = env
        .request
        .resource()
        .map(ToString::to_string)
        .unwrap_or_default();
    let name = noun(uid);
    let article = if name.starts_with(['a', 'e', 'i', 'o']) {
        "an"
    } else {
        "a"
    };
    let mut parts = Vec::new();
    let prefix = format!("{var}.");
    let entity = env.entities.get(uid);
    for key in reads.iter().filter_map(|r| r.strip_prefix(&prefix)) {
        match entity.and_then(|e| e.attr(key)) {
            Some(Ok(v)) => parts.push(format!("{key} = {}", show(&v, &principal, &resource))),
            Some(Err(_)) => parts.push(format!("{key} unknown")),
            None => parts.push(format!("no {key}")),
        }
    }
    if parts.is_empty() {
        format!("{article} {name}")
    } else {
        format!("{article} {name} with {}", parts.join(", "))
    }
}

/// The request's context fields that `reads` names, in Cedar syntax, sorted.
fn context_fields(env: &Env) -> BTreeMap<String, String> {
    let Some(ctx) = env.request.context() else {
        return BTreeMap::new();
    };
    let keys: Vec<String> = ctx.clone().into_iter().map(|(k, _)| k).collect();
    keys.into_iter()
        .filter_map(|k| ctx.get(&k).map(|v| (k, v.to_string())))
        .collect()
}

/// What the authorizer decides on `set` for the counterexample.
pub fn replay(env: &Env, side: &str, set: &PolicySet) -> Replay {
    let response = Authorizer::new().is_authorized(&env.request, set, &env.entities);
    let mut policies: Vec<String> = response
        .diagnostics()
        .reason()
        .map(ToString::to_string)
        .collect();
    policies.sort();
    let mut errors: Vec<String> = response
        .diagnostics()
        .errors()
        .map(|e| {
            let cedar_policy::AuthorizationError::PolicyEvaluationError(pe) = e;
            format!(
                "`{}`: {}",
                pe.policy_id(),
                crate::error::lowercase_first(&pe.inner().to_string())
            )
        })
        .collect();
    errors.sort();
    Replay {
        side: side.to_owned(),
        decision: match response.decision() {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        }
        .to_owned(),
        policies,
        errors,
    }
}

/// The counterexample as data and as a sentence; `verb` joins the principal to the action
/// ("can now", "asks to"), `reads` are the attributes worth naming.
pub fn tell(
    env: &Env,
    sides: &[(&str, &PolicySet)],
    reads: &BTreeSet<String>,
    verb: &str,
) -> Counterexample {
    let principal = env
        .request
        .principal()
        .map(ToString::to_string)
        .unwrap_or_default();
    let resource = env
        .request
        .resource()
        .map(ToString::to_string)
        .unwrap_or_default();
    let action = env
        .request
        .action()
        .map(|a| a.id().unescaped().to_owned())
        .unwrap_or_default();
    let context = context_fields(env);
    let replay: Vec<Replay> = sides
        .iter()
        .map(|(side, set)| replay(env, side, set))
        .collect();
    // The story names what the policies that decided read (the grant that allows, the rule
    // that no longer denies), else everything the policies involved read.
    let mut decided = BTreeSet::new();
    for (r, (_, set)) in replay.iter().zip(sides) {
        for id in &r.policies {
            if let Some(p) = set.policy(&cedar_policy::PolicyId::new(id)) {
                decided.extend(super::invariants::reads(p));
            }
        }
    }
    let reads = if decided.is_empty() { reads } else { &decided };
    let mut story = format!(
        "{} {verb} {action} {}",
        describe(env, env.request.principal(), "principal", reads),
        describe(env, env.request.resource(), "resource", reads),
    );
    let asked: Vec<String> = context
        .iter()
        .filter(|(k, _)| reads.contains(&format!("context.{k}")))
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    if !asked.is_empty() {
        story.push_str(&format!(", when the request has {}", asked.join(", ")));
    }
    let mut entities: Vec<CexEntity> = env
        .entities
        .iter()
        .filter(|e| !e.uid().type_name().to_string().ends_with("Action"))
        .map(|e| {
            let uid = e.uid();
            let attrs = e
                .attrs()
                .map(|(k, v)| {
                    (
                        k.to_owned(),
                        v.map_or_else(|_| "unknown".to_owned(), |v| v.to_string()),
                    )
                })
                .collect();
            let mut parents: Vec<String> = env
                .entities
                .ancestors(&uid)
                .map(|a| a.map(ToString::to_string).collect())
                .unwrap_or_default();
            parents.sort();
            CexEntity {
                uid: uid.to_string(),
                attrs,
                parents,
            }
        })
        .collect();
    entities.sort();
    Counterexample {
        principal,
        action,
        resource,
        context,
        entities,
        replay,
        story,
    }
}
