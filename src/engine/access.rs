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
    /// What the forbids observe of a request, when standing grants that look alike to them
    /// may share one decision (see [`grant_memo`](super::grant_memo)).
    observer: Option<super::grant_memo::Observer>,
}

impl AccessSet {
    /// `ids`: access policy id → the actions it can apply to.
    pub(super) fn build(
        all: &PolicySet,
        ids: &BTreeMap<String, BTreeSet<String>>,
        infos: &BTreeMap<String, PolicyInfo>,
        schema_access: Option<&serde_json::Value>,
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
        let forbids: Option<Vec<serde_json::Value>> = set
            .forbids
            .values()
            .flat_map(PolicySet::policies)
            .map(|p| p.to_json().ok())
            .collect();
        set.observer = forbids
            .zip(schema_access)
            .and_then(|(forbids, schema)| super::grant_memo::Observer::of(&forbids, schema));
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
    /// The context's fields as values, in a fixed order: what a standing grant's memo key
    /// holds of the request (every field of `context`).
    fn observed(&self) -> super::grant_memo::ContextFields {
        // Every field named: a field added here does not compile until the key holds it too.
        let RequestFacts {
            mfa,
            ticket,
            ticket_valid,
            duration_hours,
            approver,
            approver_user,
            approver_invisible,
            approver_active_known,
            approver_active,
            approver_authorized,
        } = self;
        [
            ("mfa", Value::Bool(*mfa)),
            ("ticket", Value::String(ticket.clone())),
            ("ticket_valid", Value::Bool(*ticket_valid)),
            ("duration_hours", Value::Long(*duration_hours)),
            ("approver", Value::String(approver.clone())),
            ("approver_user", Value::String(approver_user.clone())),
            ("approver_invisible", Value::Bool(*approver_invisible)),
            ("approver_active_known", Value::Bool(*approver_active_known)),
            ("approver_active", Value::Bool(*approver_active)),
            ("approver_authorized", Value::Bool(*approver_authorized)),
        ]
    }

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
    evaluate_grants_with(compiled, resources, grants, Sharing::AlikeShare)
}

/// Whether standing grants that look alike to the forbids share one decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sharing {
    /// When the forbids allow it (see [`grant_memo`](super::grant_memo)).
    AlikeShare,
    /// Never: every request is asked of Cedar (what the sharing is tested against).
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the tests' reference evaluation")
    )]
    EachAlone,
}

/// [`evaluate_grants`], sharing decisions or not.
#[expect(
    clippy::too_many_lines,
    reason = "one grant's requests, decisions and results read best together"
)]
pub(super) fn evaluate_grants_with(
    compiled: &Compiled,
    resources: &[Resource],
    grants: &[usize],
    sharing: Sharing,
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
    let observer = compiled
        .access
        .observer
        .as_ref()
        .filter(|_| sharing == Sharing::AlikeShare);
    let targets_by_id: super::FastMap<String, &Resource> = resources
        .iter()
        .filter(|r| r.entity_type == RESOURCE_TYPE)
        .map(|r| (r.id(), r))
        .collect();
    // Key (what the forbids observe of a request) → their decision, for every grant.
    let decided: std::sync::Mutex<super::FastMap<Vec<u8>, AccessDecision>> =
        std::sync::Mutex::default();
    let remembered = |key: &[u8]| {
        decided
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    };
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
            let person = users.get(user_id).copied();
            let facts = RequestFacts {
                mfa: person.is_some_and(|u| flag(u, "mfa")),
                ..asked.clone()
            };
            let observed = observer.map(|_| facts.observed());
            // Built on the first request Cedar is asked.
            let mut context = None;
            for (action, target) in actions
                .iter()
                .flat_map(|a| targets.iter().map(move |t| (*a, *t)))
            {
                let key = match (observer, person, targets_by_id.get(target), &observed) {
                    (Some(o), Some(p), Some(r), Some(c)) => o.key(action, p, r, c),
                    _ => None,
                };
                let decision = match key.as_deref().and_then(remembered) {
                    Some(d) => Ok(d),
                    None => {
                        let answer = match context.get_or_insert_with(|| facts.context()) {
                            Ok(ctx) => store.decide_in(
                                compiled,
                                user_id,
                                action,
                                target,
                                ctx.clone(),
                                false,
                                true,
                            ),
                            Err(e) => Err(e.clone()),
                        };
                        if let (Some(key), Ok(d)) = (key, &answer)
                            && d.errors.is_empty()
                        {
                            decided
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .insert(key, d.clone());
                        }
                        answer
                    }
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

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use proptest::prelude::*;

    use super::*;

    /// One person of a generated inventory.
    #[derive(Debug, Clone)]
    struct Person {
        status: usize,
        mfa: bool,
        region: usize,
        rotations: Vec<usize>,
        login_days_ago: Option<u8>,
        left: Option<bool>,
        break_glass: bool,
        group: Option<usize>,
    }

    /// One grant of a generated inventory.
    #[derive(Debug, Clone)]
    struct Given {
        holder: usize,
        to_group: bool,
        role: usize,
        target: usize,
        approver: usize,
        ticket: usize,
        window: usize,
    }

    // Names chosen to collide with the policies' literals (`active`, `eu`, "") and with each
    // other across kinds, so that renaming strings is put to the test.
    const IDS: [&str; 6] = ["alice", "active", "eu", "bob", "carol", "us"];
    const STATUSES: [&str; 3] = ["active", "suspended", "deprovisioned"];
    const REGIONS: [Option<&str>; 3] = [Some("eu"), Some("us"), None];
    const TENANTS: [&str; 3] = ["eu", "acme", "globex"];
    const ROLES: [&str; 4] = ["reader", "operator", "admin", "approver"];
    const TARGETS: [&str; 6] = [
        "datastore:pg-eu",
        "datastore:pg-us",
        "aws_account:prod",
        "aws_account:dev",
        "datastore:*",
        "*",
    ];

    fn person() -> impl Strategy<Value = Person> {
        (
            0..3usize,
            any::<bool>(),
            0..3usize,
            proptest::collection::vec(0..3usize, 0..3),
            proptest::option::of(0..200u8),
            proptest::option::of(any::<bool>()),
            proptest::bool::weighted(0.1),
            proptest::option::of(0..2usize),
        )
            .prop_map(
                |(status, mfa, region, rotations, login_days_ago, left, break_glass, group)| {
                    Person {
                        status,
                        mfa,
                        region,
                        rotations,
                        login_days_ago,
                        left,
                        break_glass,
                        group,
                    }
                },
            )
    }

    fn given() -> impl Strategy<Value = Given> {
        (
            0..IDS.len(),
            proptest::bool::weighted(0.15),
            0..ROLES.len(),
            0..TARGETS.len(),
            0..9usize,
            0..5usize,
            0..4usize,
        )
            .prop_map(
                |(holder, to_group, role, target, approver, ticket, window)| Given {
                    holder,
                    to_group,
                    role,
                    target,
                    approver,
                    ticket,
                    window,
                },
            )
    }

    fn inventory(people: &[Person], grants: &[Given]) -> String {
        let mut t = String::from("[organization]\nname = \"acme\"\n\n");
        for g in 0..2 {
            let _ = writeln!(t, "[[group]]\nid = \"g{g}\"\n");
        }
        for (i, (name, zone)) in TENANTS.iter().zip(["eu", "us", "eu"]).enumerate() {
            let _ = writeln!(
                t,
                "[[tenant]]\nid = \"{name}\"\ntier = \"standard\"\nisolation = \"shared\"\nresidency = [\"{zone}\"]\ndatastores = [\"pg-{}\"]\n",
                if i == 1 { "us" } else { "eu" }
            );
        }
        for (id, region) in [("pg-eu", "eu-central-1"), ("pg-us", "us-east-1")] {
            let _ = writeln!(
                t,
                "[[datastore]]\nid = \"{id}\"\nengine = \"postgres\"\nregion = \"{region}\"\nencrypted = true\n"
            );
        }
        for (id, environment, classification) in [
            ("aws_account:prod", "production", "customer_data"),
            ("aws_account:dev", "development", "internal"),
        ] {
            let _ = writeln!(
                t,
                "[[resource]]\nid = \"{id}\"\nenvironment = \"{environment}\"\nclassification = \"{classification}\"\ntenants = [\"acme\"]\n"
            );
        }
        for (id, level) in [
            ("reader", "read"),
            ("operator", "write"),
            ("admin", "admin"),
        ] {
            let _ = writeln!(
                t,
                "[[role]]\nid = \"{id}\"\naccess = \"{level}\"\nprivileged = {}\n",
                id == "admin"
            );
        }
        t.push_str("[[role]]\nid = \"approver\"\napproves = true\n\n");
        for (p, id) in people.iter().zip(IDS) {
            let _ = writeln!(
                t,
                "[[user]]\nid = \"{id}\"\nemail = \"{id}@acme.example\"\nstatus = \"{}\"\nmfa = {}\nbreak_glass = {}",
                STATUSES[p.status], p.mfa, p.break_glass
            );
            if let Some(region) = REGIONS[p.region] {
                let _ = writeln!(t, "region = \"{region}\"");
            }
            let rotations: Vec<String> = p
                .rotations
                .iter()
                .map(|r| format!("\"{}\"", TENANTS[*r]))
                .collect();
            let _ = writeln!(t, "support_rotation = [{}]", rotations.join(", "));
            if let Some(days) = p.login_days_ago {
                let _ = writeln!(t, "last_login = 2026-{:02}-01", 12 - u32::from(days) / 31);
            }
            if let Some(past) = p.left {
                let _ = writeln!(
                    t,
                    "employment_end = {}",
                    if past { "2026-01-01" } else { "2027-06-01" }
                );
            }
            if let Some(g) = p.group {
                let _ = writeln!(t, "groups = [\"g{g}\"]");
            }
            t.push('\n');
        }
        let approvers = [
            "",
            "alice",
            "ALICE",
            "bob@acme.example",
            ".",
            "nobody",
            "carol",
            "eu",
            "a\u{200b}lice",
        ];
        let tickets = ["", "SEC-1", "-", "SEC-2", "\u{200b}"];
        let windows = [
            "",
            "since = 2026-01-01\nuntil = 2027-01-01\n",
            "since = 2026-01-01\nuntil = 2026-02-01\n",
            "since = 2025-01-01\n",
        ];
        for (n, g) in grants.iter().enumerate() {
            let holder = if g.to_group {
                format!("group = \"g{}\"", g.holder % 2)
            } else {
                format!("user = \"{}\"", IDS[g.holder % people.len().max(1)])
            };
            let _ = writeln!(
                t,
                "[[grant]]\nid = \"grant-{n}\"\n{holder}\nrole = \"{}\"\nresource = \"{}\"\n{}",
                ROLES[g.role], TARGETS[g.target], windows[g.window]
            );
            if !approvers[g.approver].is_empty() {
                let _ = writeln!(t, "approved_by = \"{}\"", approvers[g.approver]);
            }
            if !tickets[g.ticket].is_empty() {
                let _ = writeln!(t, "ticket = \"{}\"", tickets[g.ticket]);
            }
            t.push('\n');
        }
        t
    }

    fn sorted(parts: Vec<Vec<Evaluation>>) -> Vec<Evaluation> {
        super::super::in_order(parts)
    }

    fn library() -> Compiled {
        let (_, compiled, problems) = crate::check::load_library(&crate::config::Config::default());
        assert!(problems.is_empty(), "{problems:?}");
        compiled.expect("the shipped library compiles")
    }

    /// The shipped forbids observe requests only in ways renamings preserve: the sharing is on.
    #[test]
    fn the_shipped_forbids_let_alike_grants_share() {
        assert!(library().access.observer.is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Sharing decisions between grants that look alike gives exactly the results of
        /// asking Cedar for every request.
        #[test]
        fn sharing_decisions_changes_no_result(
            people in proptest::collection::vec(person(), 1..=IDS.len()),
            grants in proptest::collection::vec(given(), 1..24),
        ) {
            let compiled = library();
            let text = inventory(&people, &grants);
            let ctx = crate::formats::LoadContext::new(
                crate::dates::parse_date("2026-12-05").expect("a date"),
                &crate::config::Config::default(),
            );
            let loaded = crate::formats::load_with(
                &[crate::source::SourceFile::new("inventory.toml", text.as_str())],
                &ctx,
                &crate::formats::terraform::Overrides::default(),
            );
            prop_assert!(loaded.problems.is_empty(), "{:?}\n{text}", loaded.problems);
            let resources = loaded.resources;
            let grant_idx: Vec<usize> = (0..resources.len())
                .filter(|i| resources[*i].entity_type == GRANT_TYPE)
                .collect();
            let shared = sorted(evaluate_grants_with(&compiled, &resources, &grant_idx, Sharing::AlikeShare));
            let alone = sorted(evaluate_grants_with(&compiled, &resources, &grant_idx, Sharing::EachAlone));
            prop_assert_eq!(shared, alone, "{}", text);
        }
    }
}
