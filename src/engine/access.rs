//! Access requests: "may this person do this to that resource?", decided by the access policies
//! (`policies/access/`), and standing grants re-evaluated as the requests they answer.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, EntityId, EntityTypeName, EntityUid,
    PolicyId, PolicySet, Request, RestrictedExpression,
};

use rayon::prelude::*;

use super::{Compiled, Evaluation, Outcome, PolicyInfo, entities};
use crate::model::{Resource, Value};

/// Entity type of access resources.
pub const RESOURCE_TYPE: &str = "Access::Resource";
/// Entity type of grants (their standing access is re-evaluated).
pub const GRANT_TYPE: &str = "Access::Grant";
/// Entity type of people.
pub const USER_TYPE: &str = "Access::User";
/// The actions an access request can ask for.
pub const ACTIONS: &[&str] = &["read", "write", "admin"];

/// True for `Access::Action::"…"`.
pub fn is_access_action(uid: &EntityUid) -> bool {
    uid.type_name().to_string() == "Access::Action"
}

/// The access policies (grant permits and least-privilege forbids) and their controls.
///
/// Cedar evaluates every policy of a set on every request, so the policies are also kept per
/// action: a `read` request pays only for the policies that can apply to a read.
#[derive(Debug, Clone, Default)]
pub struct AccessSet {
    pub policies: PolicySet,
    /// Action → every access policy that can apply to it.
    by_action: BTreeMap<String, PolicySet>,
    /// Action → only the grant permits (on a deny, tells whether some grant would have given
    /// the access).
    grants: BTreeMap<String, PolicySet>,
    /// Action → only the least-privilege forbids (standing grants are re-evaluated with these).
    forbids: BTreeMap<String, PolicySet>,
    /// Controls with a forbid in the set, sorted.
    pub controls: Vec<Arc<str>>,
    info: BTreeMap<String, PolicyInfo>,
}

impl AccessSet {
    /// `ids`: access policy id → the actions it can apply to.
    pub(super) fn build(
        all: &PolicySet,
        ids: &BTreeMap<String, BTreeSet<String>>,
        infos: &BTreeMap<String, PolicyInfo>,
    ) -> AccessSet {
        let mut set = AccessSet::default();
        let mut controls = BTreeSet::new();
        for (id, actions) in ids {
            let (Some(p), Some(info)) = (all.policy(&PolicyId::new(id)), infos.get(id)) else {
                continue;
            };
            if set.policies.add(p.clone()).is_err() {
                continue;
            }
            let kind = if let Some(c) = &info.control {
                controls.insert(c.clone());
                &mut set.forbids
            } else {
                &mut set.grants
            };
            let one_action = super::narrowed(p, Some(USER_TYPE), RESOURCE_TYPE);
            for action in actions {
                let _ = kind
                    .entry(action.clone())
                    .or_default()
                    .add(one_action.clone());
                let _ = set
                    .by_action
                    .entry(action.clone())
                    .or_default()
                    .add(one_action.clone());
            }
            set.info.insert(id.clone(), info.clone());
        }
        set.controls = controls.into_iter().map(Arc::from).collect();
        set
    }

    /// The policies that can apply to `action`: all of them, only the grant permits, or only
    /// the forbids.
    fn for_action<'a>(
        sets: &'a BTreeMap<String, PolicySet>,
        action: &str,
        empty: &'a PolicySet,
    ) -> &'a PolicySet {
        sets.get(action).unwrap_or(empty)
    }

    /// What the engine knows about an access policy.
    pub fn policy(&self, id: &str) -> Option<&PolicyInfo> {
        self.info.get(id)
    }
}

/// The facts of a request, as the context of the access actions declares them: what was asked
/// (`mfa`, `ticket`, `duration_hours`, `approver`) and what vouch derived from it (whether the
/// ticket matches the pattern, who the approver is and whether they could approve).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFacts {
    pub mfa: bool,
    pub ticket: String,
    /// The ticket matches `[access] ticket_pattern`.
    pub ticket_valid: bool,
    /// 0 = standing access.
    pub duration_hours: i64,
    /// The approver as given.
    pub approver: String,
    /// The id of the person the approver names, empty when it names nobody known.
    pub approver_user: String,
    pub approver_invisible: bool,
    pub approver_active_known: bool,
    pub approver_active: bool,
    pub approver_authorized: bool,
}

impl RequestFacts {
    fn context(&self) -> Result<Context, String> {
        let s = |v: &str| RestrictedExpression::new_string(v.to_owned());
        let b = RestrictedExpression::new_bool;
        Context::from_pairs([
            ("mfa".to_owned(), b(self.mfa)),
            ("ticket".to_owned(), s(&self.ticket)),
            ("ticket_valid".to_owned(), b(self.ticket_valid)),
            (
                "duration_hours".to_owned(),
                RestrictedExpression::new_long(self.duration_hours),
            ),
            ("approver".to_owned(), s(&self.approver)),
            ("approver_user".to_owned(), s(&self.approver_user)),
            ("approver_invisible".to_owned(), b(self.approver_invisible)),
            (
                "approver_active_known".to_owned(),
                b(self.approver_active_known),
            ),
            ("approver_active".to_owned(), b(self.approver_active)),
            (
                "approver_authorized".to_owned(),
                b(self.approver_authorized),
            ),
        ])
        .map_err(|e| e.to_string())
    }
}

/// One decision with the policies that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDecision {
    pub allowed: bool,
    /// Grant permits that matched, sorted.
    pub permits: Vec<String>,
    /// Least-privilege forbids that fired, sorted.
    pub forbids: Vec<String>,
    /// Policies that could not be evaluated (a deny, never an allow).
    pub errors: Vec<String>,
}

/// People, groups and access resources as one entity store, built once for many decisions.
pub struct AccessStore {
    store: Entities,
    users: HashSet<String>,
    resources: HashSet<String>,
    user_type: EntityTypeName,
    resource_type: EntityTypeName,
    /// `Access::Action::"read"` etc., parsed once.
    actions: BTreeMap<&'static str, EntityUid>,
}

impl AccessStore {
    /// Builds the store from the loaded resources (users, groups, access resources).
    pub fn build(compiled: &Compiled, resources: &[Resource]) -> Result<AccessStore, String> {
        let user_type = EntityTypeName::from_str(USER_TYPE).map_err(|e| e.to_string())?;
        let resource_type = EntityTypeName::from_str(RESOURCE_TYPE).map_err(|e| e.to_string())?;
        let mut users = HashSet::new();
        let mut res = HashSet::new();
        let mut members = Vec::new();
        for r in resources {
            match r.entity_type.as_str() {
                USER_TYPE => {
                    users.insert(r.id());
                    members.push((r, &user_type));
                }
                RESOURCE_TYPE => {
                    res.insert(r.id());
                    members.push((r, &resource_type));
                }
                _ => {}
            }
        }
        let members: Vec<(&Resource, EntityUid)> = members
            .into_iter()
            .map(|(r, ty)| {
                let uid = EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(r.id()));
                (r, uid)
            })
            .collect();
        let store = entities::store_of(compiled.schema(), compiled.conformance(), &members)?;
        let mut actions = BTreeMap::new();
        for a in ACTIONS {
            let uid = EntityUid::from_str(&format!("Access::Action::\"{a}\""))
                .map_err(|e| e.to_string())?;
            actions.insert(*a, uid);
        }
        Ok(AccessStore {
            store,
            users,
            resources: res,
            user_type,
            resource_type,
            actions,
        })
    }

    /// True when a user with this id (`user:alice`) exists.
    pub fn has_user(&self, id: &str) -> bool {
        self.users.contains(id)
    }

    /// True when an access resource with this id (`datastore:pg-globex`) exists.
    pub fn has_resource(&self, id: &str) -> bool {
        self.resources.contains(id)
    }

    /// Known user ids, sorted.
    pub fn user_ids(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.users.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Known resource ids, sorted.
    pub fn resource_ids(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.resources.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Decides one request. `user` and `resource` are ids (`user:alice`, `datastore:pg`).
    pub fn decide(
        &self,
        compiled: &Compiled,
        user: &str,
        action: &str,
        resource: &str,
        facts: &RequestFacts,
    ) -> Result<AccessDecision, String> {
        self.decide_with(compiled, user, action, resource, facts, false)
    }

    /// Decides one request and, on a deny by a least-privilege rule, also names the grants
    /// that would have given the access (a second evaluation: for explanations, not hot loops).
    pub fn explain(
        &self,
        compiled: &Compiled,
        user: &str,
        action: &str,
        resource: &str,
        facts: &RequestFacts,
    ) -> Result<AccessDecision, String> {
        self.decide_with(compiled, user, action, resource, facts, true)
    }

    fn decide_with(
        &self,
        compiled: &Compiled,
        user: &str,
        action: &str,
        resource: &str,
        facts: &RequestFacts,
        explain: bool,
    ) -> Result<AccessDecision, String> {
        self.decide_in(
            compiled,
            user,
            action,
            resource,
            facts.context()?,
            explain,
            false,
        )
    }

    /// Decides with a context already built (many requests with the same facts). With
    /// `only_forbids`, asks only which least-privilege rules fire (the decision is then never
    /// an allow: for re-evaluating standing grants, whose permit is the grant itself).
    #[expect(
        clippy::too_many_arguments,
        reason = "one request's parts, passed through from three callers"
    )]
    fn decide_in(
        &self,
        compiled: &Compiled,
        user: &str,
        action: &str,
        resource: &str,
        context: Context,
        explain: bool,
        only_forbids: bool,
    ) -> Result<AccessDecision, String> {
        let action_uid = self.actions.get(action).cloned().ok_or_else(|| {
            format!(
                "unknown action `{action}`; actions are {}",
                ACTIONS.join(", ")
            )
        })?;
        // The context is built by `RequestFacts` with the schema's exact types and the principal
        // and resource types are fixed, so no per-request schema check is needed.
        let request = Request::new(
            EntityUid::from_type_name_and_id(self.user_type.clone(), EntityId::new(user)),
            action_uid,
            EntityUid::from_type_name_and_id(self.resource_type.clone(), EntityId::new(resource)),
            context,
            None,
        )
        .map_err(|e| crate::error::lowercase_first(&e.to_string()))?;
        let access = compiled.access();
        let empty = PolicySet::new();
        let policies = if only_forbids {
            AccessSet::for_action(&access.forbids, action, &empty)
        } else {
            AccessSet::for_action(&access.by_action, action, &empty)
        };
        let response = Authorizer::new().is_authorized(&request, policies, &self.store);
        let mut permits = Vec::new();
        let mut forbids = Vec::new();
        for id in response.diagnostics().reason() {
            let id = id.to_string();
            match access.policy(&id).and_then(|i| i.control.as_ref()) {
                Some(_) => forbids.push(id),
                None => permits.push(id),
            }
        }
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(|e| {
                let cedar_policy::AuthorizationError::PolicyEvaluationError(pe) = e;
                pe.policy_id().to_string()
            })
            .collect();
        if explain && response.decision() == CedarDecision::Deny && !forbids.is_empty() {
            // Cedar names only the forbids on a deny: ask the grants alone which would apply.
            let grants = Authorizer::new().is_authorized(
                &request,
                AccessSet::for_action(&access.grants, action, &empty),
                &self.store,
            );
            permits.extend(grants.diagnostics().reason().map(ToString::to_string));
        }
        permits.sort();
        forbids.sort();
        let allowed = response.decision() == CedarDecision::Allow && errors.is_empty();
        Ok(AccessDecision {
            allowed,
            permits,
            forbids,
            errors,
        })
    }
}

/// Up to ten names, then how many more.
fn names(who: &BTreeSet<&str>) -> String {
    let shown: Vec<&str> = who.iter().copied().take(10).collect();
    let more = who.len().saturating_sub(shown.len());
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

/// Group id (`group:eng`) → the users in it, directly or through nested groups.
fn group_members(resources: &[Resource]) -> BTreeMap<String, BTreeSet<String>> {
    let parents_of = |r: &Resource| -> Vec<String> {
        r.parents
            .iter()
            .filter(|(ty, _)| ty == "Access::Group")
            .map(|(_, id)| id.clone())
            .collect()
    };
    let nesting: BTreeMap<String, Vec<String>> = resources
        .iter()
        .filter(|r| r.entity_type == "Access::Group")
        .map(|r| (r.id(), parents_of(r)))
        .collect();
    let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for user in resources.iter().filter(|r| r.entity_type == USER_TYPE) {
        let id = user.id();
        let mut stack = parents_of(user);
        let mut seen = BTreeSet::new();
        while let Some(group) = stack.pop() {
            if seen.insert(group.clone()) {
                stack.extend(nesting.get(&group).cloned().unwrap_or_default());
                members.entry(group).or_default().insert(id.clone());
            }
        }
    }
    members
}

fn text(r: &Resource, name: &str) -> String {
    match r.attrs.get(name) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// A boolean attribute; absent or unknown reads as false (fail closed).
fn flag(r: &Resource, name: &str) -> bool {
    matches!(r.attrs.get(name), Some(Value::Bool(true)))
}

/// Re-evaluates each standing grant (held by a user, on one resource) as the requests it
/// answers: one result per (access control, grant), in parts.
pub(super) fn evaluate_grants(
    compiled: &Compiled,
    resources: &[Resource],
    grants: &[usize],
) -> Vec<Vec<Evaluation>> {
    let controls = &compiled.access.controls;
    let store = match AccessStore::build(compiled, resources) {
        Ok(s) => s,
        Err(e) => {
            let mut out = Vec::new();
            for &g in grants {
                for c in controls {
                    out.push(Evaluation::new(
                        g,
                        c.clone(),
                        Outcome::Error,
                        Vec::new(),
                        vec![format!("the access entities do not load: {e}")],
                    ));
                }
            }
            return vec![out];
        }
    };
    let users: BTreeMap<String, &Resource> = resources
        .iter()
        .filter(|r| r.entity_type == USER_TYPE)
        .map(|r| (r.id(), r))
        .collect();
    let members = group_members(resources);
    // Sorted once, for wildcard grants (`*`, `kind:*`).
    let all_resources = store.resource_ids();
    let one = |g: usize| -> Vec<Evaluation> {
        let grant = &resources[g];
        let holder = text(grant, "user");
        let is_group = text(grant, "holder_status") == "group";
        // A group's grant is standing access for every member (nested groups included): each
        // member's requests are re-evaluated, and a finding names the members it concerns.
        let principals: Vec<String> = if is_group {
            members
                .get(&format!("group:{holder}"))
                .map(|m| m.iter().cloned().collect())
                .unwrap_or_default()
        } else {
            vec![format!("user:{holder}")]
        };
        let principals: Vec<&String> = principals.iter().filter(|u| store.has_user(u)).collect();
        let target = text(grant, "resource");
        // `kind:*` and `*` grants answer requests on every matching resource.
        let targets: Vec<&str> = if target == "*" {
            all_resources.clone()
        } else if let Some(kind) = target.strip_suffix('*') {
            all_resources
                .iter()
                .copied()
                .filter(|r| r.starts_with(kind))
                .collect()
        } else if store.has_resource(&target) {
            vec![target.as_str()]
        } else {
            Vec::new()
        };
        let actions: Vec<&str> = match grant.attrs.get("actions") {
            Some(Value::Set(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => ACTIONS.iter().copied().find(|a| a == s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let duration_hours = match grant.attrs.get("duration_days") {
            // Inventory durations are whole days: a grant ending the day it starts lasts a day.
            Some(Value::Long(d))
                if matches!(grant.attrs.get("has_expiry"), Some(Value::Bool(true))) =>
            {
                (*d).max(1).saturating_mul(24)
            }
            _ => 0,
        };
        // control → policy → the principals it fired for; control → error texts.
        let mut fired: BTreeMap<&str, BTreeMap<String, BTreeSet<&str>>> = BTreeMap::new();
        let mut errored: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        // The request a standing grant answers: its ticket and its approval, judged on the
        // day it was given (by the loader).
        let asked = RequestFacts {
            ticket: text(grant, "ticket"),
            ticket_valid: flag(grant, "ticket_valid"),
            duration_hours,
            approver: text(grant, "approver"),
            approver_user: text(grant, "approver_user"),
            approver_invisible: flag(grant, "approver_invisible"),
            approver_active_known: flag(grant, "approver_active_known"),
            approver_active: flag(grant, "approver_active"),
            approver_authorized: flag(grant, "approver_authorized"),
            ..RequestFacts::default()
        };
        for user_id in principals {
            let facts = RequestFacts {
                mfa: users.get(user_id).is_some_and(|u| flag(u, "mfa")),
                ..asked.clone()
            };
            let context = facts.context();
            for (action, target) in actions
                .iter()
                .flat_map(|a| targets.iter().map(move |t| (*a, *t)))
            {
                let decision = match &context {
                    Ok(ctx) => {
                        store.decide_in(compiled, user_id, action, target, ctx.clone(), false, true)
                    }
                    Err(e) => Err(e.clone()),
                };
                let d = match decision {
                    Ok(d) => d,
                    Err(e) => {
                        for c in controls {
                            errored
                                .entry(&**c)
                                .or_default()
                                .push(format!("`{action}` request could not be built: {e}"));
                        }
                        continue;
                    }
                };
                for id in d.forbids.iter().chain(d.errors.iter()) {
                    let Some(c) = compiled
                        .access
                        .policy(id)
                        .and_then(|i| i.control.as_deref())
                    else {
                        continue;
                    };
                    if d.errors.contains(id) {
                        errored.entry(c).or_default().push(format!(
                            "policy `{id}` could not be evaluated for `{action}` by `{user_id}`"
                        ));
                    } else {
                        fired
                            .entry(c)
                            .or_default()
                            .entry(id.clone())
                            .or_default()
                            .insert(user_id.strip_prefix("user:").unwrap_or(user_id));
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(controls.len());
        for c in controls {
            let (outcome, policies, messages) = if let Some(errs) = errored.get(&**c) {
                (Outcome::Error, Vec::new(), errs.clone())
            } else if let Some(by_policy) = fired.get(&**c) {
                let messages = by_policy
                    .iter()
                    .filter_map(|(id, who)| {
                        let message = &compiled.access.policy(id)?.message;
                        Some(if is_group {
                            format!("{message} (members: {})", names(who))
                        } else {
                            message.clone()
                        })
                    })
                    .collect();
                (Outcome::Fail, by_policy.keys().cloned().collect(), messages)
            } else {
                (Outcome::Pass, Vec::new(), Vec::new())
            };
            out.push(Evaluation::new(g, c.clone(), outcome, policies, messages));
        }
        out
    };

    grants
        .par_chunks(256)
        .map(|chunk| chunk.iter().flat_map(|&g| one(g)).collect())
        .collect()
}
