//! AWS's policy evaluation logic over the action catalog: what a set of identity policies lets a
//! principal do on *every* resource of an action's type, definitely and possibly.
//!
//! A statement is compiled once into two action sets: `definite` (granted, or denied, for sure)
//! and `possible` (granted or denied if its unknown elements turn out so). An action counts only
//! when the statement's `Resource` covers every resource of a type the action takes (see
//! [`arn::cover`]) and no condition narrows it ([`condition::grant`]). A principal's permissions
//! are then `Allow`s minus `Deny`s, intersected with its permissions boundary:
//!
//! - definite = definite allows − possible denies (∩ the boundary's definite allows);
//! - possible = possible allows − definite denies (∩ the boundary's possible allows).
//!
//! A `Deny` with a condition subtracts nothing (it does not apply in every request); an unknown
//! policy may allow and deny anything.

use std::collections::HashMap;
use std::sync::Arc;

use super::arn::{self, Cover};
use super::catalog::{ActionSet, Catalog, catalog};
use super::condition::{self, Grant, ServiceSet};
use super::document::{Document, Effect, Elem, Origin, Statement};

/// Yes, no, or depends on something not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tri {
    No,
    Maybe,
    Yes,
}

/// One statement, compiled.
#[derive(Debug, Clone)]
pub struct CompiledStatement {
    /// `None` when the effect is not known.
    pub effect: Option<Effect>,
    /// `statement `Sid` (file:line)`.
    pub label: String,
    /// Actions it grants (or denies) on every resource of their type, for sure.
    pub definite: ActionSet,
    /// Actions it may grant (or deny) on every resource of their type (⊇ `definite`).
    pub possible: ActionSet,
    /// What its conditions leave (for `iam:PassRole`: to which services).
    pub grant: Grant,
    /// Why `possible` goes beyond `definite`.
    pub why: Vec<String>,
}

/// A policy document, compiled.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The policy, as findings name it.
    pub name: String,
    pub origin: Origin,
    pub statements: Vec<CompiledStatement>,
    /// Why the whole document is not known.
    pub unknown: Option<String>,
}

/// Compiles a document against the embedded catalog (time conditions are not judged).
pub fn compile(name: &str, doc: &Document) -> Compiled {
    compile_on(name, doc, None)
}

/// Compiles a document as of a date (days since 1970-01-01): an `Allow` whose time window has
/// ended by then grants nothing ([`condition::ended`]).
pub fn compile_on(name: &str, doc: &Document, as_of_days: Option<i64>) -> Compiled {
    let cat = catalog();
    let mut covers = CoverCache::default();
    let statements = doc
        .statements
        .iter()
        .map(|s| statement(cat, s, &mut covers, as_of_days))
        .collect();
    Compiled {
        name: name.to_owned(),
        origin: doc.origin.clone(),
        statements,
        unknown: doc
            .unknown
            .as_ref()
            .map(|why| format!("policy `{name}` is not known: {why}")),
    }
}

/// `(resource pattern, resource type)` → cover, shared by a document's statements.
#[derive(Default)]
struct CoverCache(HashMap<(String, Option<u32>), Cover>);

impl CoverCache {
    fn get(&mut self, cat: &Catalog, pattern: &str, rt: Option<u32>) -> Cover {
        if let Some(c) = self.0.get(&(pattern.to_owned(), rt)) {
            return *c;
        }
        let template = rt
            .and_then(|i| cat.resource_types.get(i as usize))
            .map(|t| t.arn.as_str());
        let c = arn::cover(pattern, template);
        self.0.insert((pattern.to_owned(), rt), c);
        c
    }

    /// How one pattern covers an action: the best over the resource types it takes (and `*`
    /// alone when it takes none, or none is required).
    fn action(&mut self, cat: &Catalog, pattern: &str, id: u32) -> Cover {
        let Some(a) = cat.action(id) else {
            return Cover::None;
        };
        let mut best = if cat.resources(a).iter().all(|(_, req)| !req) {
            self.get(cat, pattern, None)
        } else {
            Cover::None
        };
        for (rt, _) in cat.resources(a) {
            if best == Cover::All {
                break;
            }
            best = best.max(self.get(cat, pattern, Some(*rt)));
        }
        best
    }
}

/// The actions an action element matches: (definite, possible).
fn actions(cat: &Catalog, e: &Elem) -> (ActionSet, ActionSet) {
    let mut named = cat.empty_set();
    for p in &e.items {
        named.union_with(&cat.expand(p));
    }
    match (e.negated, e.is_known()) {
        (false, true) => (named.clone(), named),
        (false, false) => (named, cat.all()),
        (true, known) => {
            let mut rest = cat.all();
            rest.subtract(&named);
            // An unknown `NotAction` entry may exclude anything.
            let definite = if known { rest.clone() } else { cat.empty_set() };
            (definite, rest)
        }
    }
}

fn statement(
    cat: &Catalog,
    s: &Statement,
    covers: &mut CoverCache,
    as_of_days: Option<i64>,
) -> CompiledStatement {
    let label = s.label();
    let mut why = Vec::new();
    let effect = match &s.effect {
        Ok(e) => Some(*e),
        Err(reason) => {
            why.push(format!("the `Effect` of {label} is not known: {reason}"));
            None
        }
    };
    let (mut definite, mut possible) = actions(cat, &s.action);
    for reason in &s.action.unknown {
        let key = if s.action.negated {
            "NotAction"
        } else {
            "Action"
        };
        why.push(format!(
            "an entry of the `{key}` of {label} is not known: {reason}"
        ));
    }
    // Resource: every resource of the action's type, for sure and possibly.
    match &s.resource {
        None if effect == Some(Effect::Deny) => {
            definite = cat.empty_set();
            possible = cat.empty_set();
        }
        None => {}
        Some(r) => {
            let key = if r.negated { "NotResource" } else { "Resource" };
            for reason in &r.unknown {
                why.push(format!(
                    "an entry of the `{key}` of {label} is not known: {reason}"
                ));
            }
            let star = !r.negated
                && r.items
                    .iter()
                    .any(|p| p.bytes().all(|b| b == b'*') && !p.is_empty());
            if !star {
                let mut def = cat.empty_set();
                let mut pos = cat.empty_set();
                for id in possible.iter() {
                    let best = r
                        .items
                        .iter()
                        .map(|p| covers.action(cat, p, id))
                        .max()
                        .unwrap_or(Cover::None);
                    let (d, p) = if r.negated {
                        // Every resource but the named ones: broad unless a name covers them all.
                        let all = best != Cover::All;
                        (all && r.is_known(), all)
                    } else {
                        (best == Cover::All, best == Cover::All || !r.is_known())
                    };
                    if d {
                        def.insert(id);
                    }
                    if p {
                        pos.insert(id);
                    }
                }
                definite.intersect_with(&def);
                possible = pos;
            } else if !r.is_known() {
                // `*` among the entries: known entries already cover everything.
            }
        }
    }
    // Conditions.
    let grant = match effect {
        Some(Effect::Deny) => {
            if s.condition.list.is_empty() {
                match &s.condition.unknown {
                    None => Grant::Open,
                    Some(reason) => {
                        why.push(format!("the `Condition` of {label} is not known: {reason}"));
                        Grant::Unknown(reason.clone())
                    }
                }
            } else {
                // A conditional Deny does not apply to every request: it subtracts nothing.
                Grant::Scoped("a conditional `Deny`".to_owned())
            }
        }
        _ => condition::grant(&s.condition, as_of_days),
    };
    match &grant {
        Grant::Open => {}
        Grant::Scoped(_) | Grant::Ended(_) => {
            definite = cat.empty_set();
            possible = cat.empty_set();
        }
        Grant::PassedTo(_) => {
            let mut pass = cat.empty_set();
            if let Some(id) = passrole() {
                pass.insert(id);
            }
            definite.intersect_with(&pass);
            possible.intersect_with(&pass);
        }
        Grant::Unknown(reason) => {
            why.push(format!(
                "whether the `Condition` of {label} narrows it is not known: {reason}"
            ));
            definite = cat.empty_set();
        }
    }
    if effect.is_none() {
        definite = cat.empty_set();
    }
    CompiledStatement {
        effect,
        label,
        definite,
        possible,
        grant,
        why,
    }
}

/// The id of `iam:PassRole`.
pub fn passrole() -> Option<u32> {
    static ID: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *ID.get_or_init(|| catalog().find("iam:passrole"))
}

/// The policies a principal holds: identity policies and an optional permissions boundary.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    pub policies: Vec<Arc<Compiled>>,
    /// `None`: no boundary. `Some(Err(reason))`: a boundary that cannot be read.
    pub boundary: Option<Result<Arc<Compiled>, String>>,
}

/// What a principal may do.
#[derive(Debug, Clone)]
pub struct Permissions {
    pub definite: ActionSet,
    pub possible: ActionSet,
    holdings: Holdings,
    /// Why some actions are only possible: unknown policies and boundary.
    pub why: Vec<String>,
}

/// (allow definite, allow possible, deny definite, deny possible, reasons).
fn sides(policies: &[Arc<Compiled>]) -> [ActionSet; 4] {
    let cat = catalog();
    let [mut ad, mut ap, mut dd, mut dp] = [
        cat.empty_set(),
        cat.empty_set(),
        cat.empty_set(),
        cat.empty_set(),
    ];
    for p in policies {
        if p.unknown.is_some() {
            ap = cat.all();
            dp = cat.all();
            continue;
        }
        for s in &p.statements {
            match s.effect {
                Some(Effect::Allow) => {
                    ad.union_with(&s.definite);
                    ap.union_with(&s.possible);
                }
                Some(Effect::Deny) => {
                    dd.union_with(&s.definite);
                    dp.union_with(&s.possible);
                }
                None => {
                    ap.union_with(&s.possible);
                    dp.union_with(&s.possible);
                }
            }
        }
    }
    [ad, ap, dd, dp]
}

impl Permissions {
    /// Evaluates what the holdings allow.
    pub fn of(holdings: Holdings) -> Permissions {
        let [ad, ap, dd, dp] = sides(&holdings.policies);
        let mut definite = ad;
        definite.subtract(&dp);
        let mut possible = ap;
        possible.subtract(&dd);
        let mut why: Vec<String> = holdings
            .policies
            .iter()
            .filter_map(|p| p.unknown.clone())
            .collect();
        match &holdings.boundary {
            None => {}
            Some(Ok(b)) => {
                let [bad, bap, bdd, bdp] = sides(std::slice::from_ref(b));
                let mut bdef = bad;
                bdef.subtract(&bdp);
                let mut bpos = bap;
                bpos.subtract(&bdd);
                definite.intersect_with(&bdef);
                possible.intersect_with(&bpos);
                why.extend(b.unknown.clone());
            }
            Some(Err(reason)) => {
                definite = catalog().empty_set();
                why.push(reason.clone());
            }
        }
        why.sort();
        why.dedup();
        Permissions {
            definite,
            possible,
            holdings,
            why,
        }
    }

    /// Whether an action is allowed on every resource of its type.
    pub fn allows(&self, id: u32) -> Tri {
        if self.definite.contains(id) {
            Tri::Yes
        } else if self.possible.contains(id) {
            Tri::Maybe
        } else {
            Tri::No
        }
    }

    /// Whether `iam:PassRole` on every role reaches `service` (`ec2.amazonaws.com`).
    pub fn passes_role_to(&self, service: &str) -> Tri {
        let Some(pass) = passrole() else {
            return Tri::No;
        };
        let overall = self.allows(pass);
        if overall == Tri::No {
            return Tri::No;
        }
        let mut best = Tri::No;
        for p in &self.holdings.policies {
            if p.unknown.is_some() {
                best = best.max(Tri::Maybe);
            }
            for s in p
                .statements
                .iter()
                .filter(|s| s.effect != Some(Effect::Deny))
            {
                let to = match &s.grant {
                    Grant::PassedTo(set) => set.allows(service),
                    Grant::Open | Grant::Unknown(_) => true,
                    Grant::Scoped(_) | Grant::Ended(_) => false,
                };
                if !to {
                    continue;
                }
                if s.definite.contains(pass) && s.effect.is_some() {
                    best = Tri::Yes;
                } else if s.possible.contains(pass) {
                    best = best.max(Tri::Maybe);
                }
            }
        }
        best.min(overall)
    }

    /// The statements that grant an action on every resource (for sure), as `policy: statement`.
    pub fn granted_by(&self, id: u32) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.holdings.policies {
            for s in &p.statements {
                if s.effect == Some(Effect::Allow) && s.definite.contains(id) {
                    out.push(format!("`{}` {}", p.name, s.label));
                }
            }
        }
        out
    }

    /// Why an action is only possibly allowed.
    pub fn undetermined_because(&self, id: u32) -> Vec<String> {
        let mut out = self.why.clone();
        for p in &self.holdings.policies {
            for s in &p.statements {
                if s.possible.contains(id) && !s.definite.contains(id) {
                    out.extend(s.why.iter().cloned());
                }
            }
        }
        if let Some(Ok(b)) = &self.holdings.boundary {
            for s in &b.statements {
                if s.possible.contains(id) && !s.definite.contains(id) {
                    out.extend(s.why.iter().cloned());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The policies held.
    pub fn policies(&self) -> &[Arc<Compiled>] {
        &self.holdings.policies
    }
}

/// The services in a `PassedTo` set, for tests and notes.
pub fn describe_services(set: &ServiceSet) -> String {
    match set {
        ServiceSet::Only(s) => format!("only to {}", s.join(", ")),
        ServiceSet::AllBut(s) => format!("to every service but {}", s.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::document::read;
    use super::*;
    use serde_json::json;

    fn perms(docs: &[serde_json::Value]) -> Permissions {
        let policies = docs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let doc = read(d, &Origin::default(), &[]).unwrap_or_default();
                Arc::new(compile(&format!("p{i}"), &doc))
            })
            .collect();
        Permissions::of(Holdings {
            policies,
            boundary: None,
        })
    }

    fn id(name: &str) -> u32 {
        catalog().find(name).unwrap_or(u32::MAX)
    }

    #[test]
    fn allow_minus_deny() {
        let p = perms(&[json!({"Statement": [
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:Create*", "Resource": "*"}
        ]})]);
        assert_eq!(p.allows(id("iam:PutUserPolicy")), Tri::Yes);
        assert_eq!(p.allows(id("iam:CreateAccessKey")), Tri::No);
        assert_eq!(p.allows(id("s3:GetObject")), Tri::No);
    }

    #[test]
    fn resources_must_cover_the_type() {
        let p = perms(&[json!({"Statement": [
            {"Effect": "Allow", "Action": ["iam:PassRole", "iam:CreatePolicyVersion"], "Resource": "arn:aws:iam::*:role/*"},
            {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::*:user/${aws:username}"}
        ]})]);
        assert_eq!(p.allows(id("iam:PassRole")), Tri::Yes);
        assert_eq!(p.allows(id("iam:CreatePolicyVersion")), Tri::No);
        assert_eq!(p.allows(id("iam:CreateAccessKey")), Tri::No);
    }

    #[test]
    fn conditional_deny_subtracts_nothing_and_passed_to_service_narrows() {
        let p = perms(&[json!({"Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
            {"Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
        ]})]);
        assert_eq!(p.passes_role_to("ec2.amazonaws.com"), Tri::Yes);
        assert_eq!(p.passes_role_to("cloudformation.amazonaws.com"), Tri::No);
    }

    #[test]
    fn not_action_and_not_resource() {
        let p = perms(&[
            json!({"Statement": {"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "*"}}),
        ]);
        assert_eq!(p.allows(id("iam:PassRole")), Tri::Yes);
        assert_eq!(p.allows(id("s3:DeleteBucket")), Tri::No);
        let p = perms(&[
            json!({"Statement": {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::secret/*"}}),
        ]);
        assert_eq!(p.allows(id("s3:GetObject")), Tri::Yes);
        let p =
            perms(&[json!({"Statement": {"Effect": "Allow", "Action": "*", "NotResource": "*"}})]);
        assert_eq!(p.allows(id("s3:GetObject")), Tri::No);
    }
}
