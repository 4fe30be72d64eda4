//! The decision API: load a tree's inventory and access policies once, then answer many
//! access requests in process — what `vouch access check`, `vouch serve` and an embedding Rust
//! service all call.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::check;
use crate::engine::Compiled;
use crate::engine::access::{
    ACTIONS, AccessStore, GRANT_TYPE, RESOURCE_TYPE, RequestFacts, USER_TYPE,
};
use crate::error::{Problem, ProblemKind};
use crate::formats::inventory::access::identity::Resolved;
use crate::formats::inventory::access::{Directory, TicketPattern, TicketVerdict};
use crate::formats::{self, LoadContext};
use crate::library::Library;
use crate::model::{Resource, Value};

/// One access request: who asks to do what on which resource, with the facts of the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// An inventory `[[user]]` id (`priya`; `user:priya` also works).
    pub principal: String,
    /// `read`, `write` or `admin`.
    pub action: String,
    /// `<kind>:<id>`, e.g. `datastore:pg-globex`, `tenant:globex`.
    pub resource: String,
    #[serde(default)]
    pub context: RequestContext,
    /// How long the access is for: `4h`, `2d`, `90m`, `1w`; none means standing access.
    #[serde(default)]
    pub duration: Option<String>,
}

/// The facts a requester states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestContext {
    /// The requester signed in with MFA for this request.
    #[serde(default)]
    pub mfa: bool,
    /// The change or incident ticket.
    #[serde(default)]
    pub ticket: String,
    /// Who approves (an inventory id or email).
    #[serde(default)]
    pub approver: String,
}

/// Why a policy decided, in words, with the control and requirements behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    pub message: String,
    pub frameworks: BTreeMap<String, Vec<String>>,
}

/// The answer to one access request (the JSON of `vouch access check --format json` and of
/// `POST /v1/access/check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub schema_version: u32,
    /// `allow` or `deny`.
    pub decision: &'static str,
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// The date the inventory was evaluated at (grants in force, ages).
    pub as_of: String,
    /// The request's facts as evaluated: `mfa`, `ticket`, `approver`, `duration_hours`.
    pub context: serde_json::Value,
    /// The grant permits that matched.
    pub granted_by: Vec<String>,
    /// The least-privilege rules that denied, one per unmet condition, with the control and
    /// requirements behind each.
    pub denied_by: Vec<Reason>,
    /// Said when no grant in force gives the access at all (and which grants would, but are
    /// expired or not yet valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_grant: Option<String>,
}

impl Answer {
    /// True for an allow.
    pub fn allowed(&self) -> bool {
        self.decision == "allow"
    }
}

/// Parses `4h`, `2d`, `90m`, `1w` (or a bare number of hours) into whole hours, rounding up;
/// `None` when malformed or out of range (see [`crate::dates::parse_duration_hours`]).
pub fn parse_duration(s: &str) -> Option<i64> {
    crate::dates::parse_duration_hours(s).ok()
}

/// A grant that would give access but is outside its window on the evaluation date.
#[derive(Debug, Clone)]
struct Lapsed {
    grant: String,
    target: String,
    actions: Vec<String>,
    expired: bool,
}

/// Who each approver name means and what they may approve, on the evaluation date.
#[derive(Debug, Default)]
struct Approvals {
    directory: Directory,
    /// User id (`priya`) → active now.
    active: HashMap<String, bool>,
    /// Access resource id → user ids with approval authority over it.
    approvers: HashMap<String, HashSet<String>>,
    ticket: TicketPattern,
}

fn text<'a>(r: &'a Resource, name: &str) -> &'a str {
    match r.attrs.get(name) {
        Some(Value::String(s)) => s,
        _ => "",
    }
}

fn strings(r: &Resource, name: &str) -> Vec<String> {
    match r.attrs.get(name) {
        Some(Value::Set(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Entity(e) => Some(e.id.trim_start_matches("user:").to_owned()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl Approvals {
    fn build(resources: &[Resource], ticket: TicketPattern) -> Approvals {
        let mut a = Approvals {
            ticket,
            ..Approvals::default()
        };
        for r in resources {
            match r.entity_type.as_str() {
                USER_TYPE => {
                    let id = text(r, "login").to_owned();
                    let aliases = strings(r, "aliases");
                    a.directory
                        .add(&id, aliases.iter().map(String::as_str).chain([id.as_str()]));
                    let active = text(r, "status") == "active"
                        && !matches!(r.attrs.get("employment_ended"), Some(Value::Bool(true)));
                    a.active.insert(id, active);
                }
                RESOURCE_TYPE => {
                    a.approvers
                        .insert(r.id(), strings(r, "approvers").into_iter().collect());
                }
                _ => {}
            }
        }
        a
    }

    /// The request facts: the stated ones and what they mean today.
    fn facts(&self, ctx: &RequestContext, resource: &str, duration_hours: i64) -> RequestFacts {
        let approver = ctx.approver.trim().to_owned();
        let mut f = RequestFacts {
            mfa: ctx.mfa,
            ticket: ctx.ticket.trim().to_owned(),
            ticket_valid: self.ticket.judge(&ctx.ticket) == TicketVerdict::Valid,
            duration_hours,
            approver: approver.clone(),
            ..RequestFacts::default()
        };
        match self.directory.resolve(&approver) {
            Resolved::Person(user) => {
                f.approver_active_known = true;
                f.approver_active = self.active.get(&user).copied().unwrap_or(false);
                f.approver_authorized = self
                    .approvers
                    .get(resource)
                    .is_some_and(|who| who.contains(&user));
                f.approver_user = user;
            }
            Resolved::Bad(crate::formats::inventory::access::BadName::Invisible(_)) => {
                f.approver_invisible = true;
            }
            _ => {}
        }
        f
    }
}

/// A loaded tree, ready to answer access requests.
pub struct Decider {
    compiled: Compiled,
    library: Library,
    store: AccessStore,
    approvals: Approvals,
    /// User id → grants that would give something but are outside their window.
    lapsed: HashMap<String, Vec<Lapsed>>,
    as_of: i64,
    digest: String,
    users: usize,
    grants: usize,
}

impl std::fmt::Debug for Decider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decider")
            .field("as_of", &self.as_of)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// `sha256:` over every file read (path and text), in walk order: the inventory's identity.
pub(crate) fn digest_of(files: &[crate::source::SourceFile]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(f.text.as_bytes());
        h.update([0]);
    }
    format!("sha256:{:x}", h.finalize())
}

/// Loaded inputs: resources, library, compiled policies, and the digest of the files.
pub(crate) struct Loaded {
    pub library: Library,
    pub compiled: Compiled,
    pub config: crate::config::Config,
    pub files: Vec<crate::source::SourceFile>,
    pub loaded: formats::Loaded,
}

/// Reads the tree at `path` for evaluation on `as_of` (days since the epoch); every problem
/// (a file that does not parse, an invalid library or `vouch.toml`) is returned at once.
pub(crate) fn load(path: &Path, as_of: i64) -> Result<Loaded, Vec<Problem>> {
    if let Some(p) = crate::app::not_a_directory(path) {
        return Err(vec![p]);
    }
    let mut tree = check::read_tree(path);
    let mut loaded = formats::load(&tree.files, &LoadContext::new(as_of, &tree.config));
    tree.problems.append(&mut loaded.problems);
    match tree.compiled {
        Some(compiled) if tree.problems.is_empty() => Ok(Loaded {
            library: tree.library,
            compiled,
            config: tree.config,
            files: tree.files,
            loaded,
        }),
        _ => Err(tree.problems),
    }
}

impl Decider {
    /// Loads the tree at `path` (its inventory, `vouch.toml` and custom library) for decisions
    /// on `as_of` (days since 1970-01-01, UTC; see [`crate::dates`]).
    pub fn load(path: &Path, as_of: i64) -> Result<Decider, Vec<Problem>> {
        let l = load(path, as_of)?;
        let digest = digest_of(&l.files);
        Decider::build(
            l.compiled,
            l.library,
            &l.loaded.resources,
            &l.config,
            as_of,
            digest,
        )
    }

    /// Builds the decider from loaded resources.
    pub fn build(
        compiled: Compiled,
        library: Library,
        resources: &[Resource],
        config: &crate::config::Config,
        as_of: i64,
        digest: String,
    ) -> Result<Decider, Vec<Problem>> {
        let store = AccessStore::build(&compiled, resources).map_err(|e| {
            vec![Problem::new(
                ProblemKind::Evaluation,
                format!("the access entities do not load: {e}"),
            )]
        })?;
        let approvals = Approvals::build(resources, config.access.ticket_pattern.clone());
        let lapsed = lapsed_grants(resources);
        let count = |ty: &str| resources.iter().filter(|r| r.entity_type == ty).count();
        Ok(Decider {
            store,
            approvals,
            lapsed,
            as_of,
            digest,
            users: count(USER_TYPE),
            grants: count(GRANT_TYPE),
            compiled,
            library,
        })
    }

    /// The evaluation date (days since the epoch).
    pub fn as_of(&self) -> i64 {
        self.as_of
    }

    /// `sha256:` of every file the decisions are based on.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The control library in force.
    pub fn library(&self) -> &Library {
        &self.library
    }

    /// How many people and grants the inventory declares.
    pub fn counts(&self) -> (usize, usize) {
        (self.users, self.grants)
    }

    /// Checks a request's names and duration: unknown ids come back as problems, each with a
    /// did-you-mean.
    fn validate(&self, req: &AccessRequest) -> Result<(String, i64), Vec<Problem>> {
        let principal = req.principal.trim();
        let user = if principal.starts_with("user:") {
            principal.to_owned()
        } else {
            format!("user:{principal}")
        };
        let mut problems = Vec::new();
        if !self.store.has_user(&user) {
            let names: Vec<&str> = self
                .store
                .user_ids()
                .into_iter()
                .map(|u| u.trim_start_matches("user:"))
                .collect();
            problems.push(unknown(
                "principal",
                principal,
                &names,
                "principals are the `[[user]]` ids of the inventory",
            ));
        }
        if !ACTIONS.contains(&req.action.as_str()) {
            problems.push(unknown(
                "action",
                &req.action,
                ACTIONS,
                "actions are read, write and admin",
            ));
        }
        if !self.store.has_resource(&req.resource) {
            problems.push(unknown(
                "resource",
                &req.resource,
                &self.store.resource_ids(),
                "resources are `<kind>:<id>`, e.g. `datastore:pg-globex` or `tenant:globex`",
            ));
        }
        let hours = match &req.duration {
            None => 0,
            Some(d) => parse_duration(d).unwrap_or_else(|| {
                problems.push(
                    Problem::config(format!("`{d}` is not a duration like 4h or 2d"), None)
                        .with_help("write a whole number with m, h, d or w: 90m, 4h, 2d, 1w"),
                );
                0
            }),
        };
        if problems.is_empty() {
            Ok((user, hours))
        } else {
            Err(problems)
        }
    }

    /// Decides one request: allow or deny, the policies that decided, each unmet condition in
    /// words with its control and framework requirements. Unknown names are problems (with a
    /// did-you-mean); an evaluation error is a problem too (never an allow).
    pub fn decide(&self, req: &AccessRequest) -> Result<Answer, Vec<Problem>> {
        let (user, hours) = self.validate(req)?;
        let facts = self.approvals.facts(&req.context, &req.resource, hours);
        let decision = self
            .store
            .explain(&self.compiled, &user, &req.action, &req.resource, &facts)
            .map_err(|e| {
                vec![Problem::new(
                    ProblemKind::Evaluation,
                    format!("the request could not be evaluated: {e}"),
                )]
            })?;
        if !decision.errors.is_empty() {
            return Err(vec![Problem::new(
                ProblemKind::Evaluation,
                format!(
                    "policies could not be evaluated: {}",
                    decision.errors.join(", ")
                ),
            )]);
        }
        let denied_by = decision
            .forbids
            .iter()
            .map(|id| {
                let info = self.compiled.access().policy(id);
                let control = info.and_then(|i| i.control.clone());
                let frameworks = control
                    .as_ref()
                    .and_then(|c| self.library.controls.get(c))
                    .map(|c| c.frameworks.clone())
                    .unwrap_or_default();
                Reason {
                    policy: id.clone(),
                    control,
                    message: info.map(|i| i.message.clone()).unwrap_or_default(),
                    frameworks,
                }
            })
            .collect();
        let principal = user.trim_start_matches("user:").to_owned();
        let missing_grant = decision
            .permits
            .is_empty()
            .then(|| self.missing_grant(&principal, &req.action, &req.resource));
        Ok(Answer {
            schema_version: 1,
            decision: if decision.allowed { "allow" } else { "deny" },
            principal,
            action: req.action.clone(),
            resource: req.resource.clone(),
            as_of: crate::dates::format_days(self.as_of),
            context: serde_json::json!({
                "mfa": facts.mfa, "ticket": facts.ticket, "approver": facts.approver,
                "duration_hours": facts.duration_hours,
            }),
            granted_by: decision.permits,
            denied_by,
            missing_grant,
        })
    }

    /// "No grant gives …", naming grants that would but are outside their window.
    fn missing_grant(&self, principal: &str, action: &str, resource: &str) -> String {
        let mut out = format!("no grant in force gives `{principal}` `{action}` on `{resource}`");
        let near: Vec<String> = self
            .lapsed
            .get(principal)
            .into_iter()
            .flatten()
            .filter(|l| {
                crate::formats::inventory::access::covers(&l.target, resource)
                    && l.actions.iter().any(|a| a == action)
            })
            .map(|l| {
                let why = if l.expired {
                    "has expired"
                } else {
                    "has not started yet"
                };
                format!("`{}` would, but it {why}", l.grant)
            })
            .collect();
        if !near.is_empty() {
            out.push_str("; ");
            out.push_str(&near.join("; "));
        }
        out
    }
}

/// Grants outside their window, by the people they would give access to.
fn lapsed_grants(resources: &[Resource]) -> HashMap<String, Vec<Lapsed>> {
    let flag = |r: &Resource, n: &str| matches!(r.attrs.get(n), Some(Value::Bool(true)));
    let parents =
        |r: &Resource| -> Vec<String> { r.parents.iter().map(|(_, g)| g.clone()).collect() };
    let nesting: HashMap<String, Vec<String>> = resources
        .iter()
        .filter(|r| r.entity_type == "Access::Group")
        .map(|r| (r.id(), parents(r)))
        .collect();
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    for u in resources.iter().filter(|r| r.entity_type == USER_TYPE) {
        let mut stack = parents(u);
        let mut seen = HashSet::new();
        while let Some(g) = stack.pop() {
            if seen.insert(g.clone()) {
                stack.extend(nesting.get(&g).cloned().unwrap_or_default());
                members.entry(g).or_default().push(u.id());
            }
        }
    }
    let mut out: HashMap<String, Vec<Lapsed>> = HashMap::new();
    for g in resources.iter().filter(|r| r.entity_type == GRANT_TYPE) {
        let expired = flag(g, "expired");
        if !expired && !flag(g, "not_yet_valid") {
            continue;
        }
        // A level implies the ones below it.
        let levels = strings(g, "actions");
        let actions: Vec<String> = match levels.first().map(String::as_str) {
            Some("admin") => vec!["admin".into(), "write".into(), "read".into()],
            Some("write") => vec!["write".into(), "read".into()],
            Some("read") => vec!["read".into()],
            _ => continue,
        };
        let holder = text(g, "user");
        let who: Vec<String> = if text(g, "holder_status") == "group" {
            members
                .get(&format!("group:{holder}"))
                .cloned()
                .unwrap_or_default()
        } else {
            vec![format!("user:{holder}")]
        };
        for u in who {
            out.entry(u.trim_start_matches("user:").to_owned())
                .or_default()
                .push(Lapsed {
                    grant: g.address.clone(),
                    target: text(g, "resource").to_owned(),
                    actions: actions.clone(),
                    expired,
                });
        }
    }
    out
}

fn unknown(what: &str, name: &str, known: &[&str], hint: &str) -> Problem {
    let help = crate::error::did_you_mean(name, known).unwrap_or_else(|| hint.to_owned());
    Problem::new(ProblemKind::Config, format!("unknown {what} `{name}`")).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_round_up_to_hours() {
        assert_eq!(parse_duration("4h"), Some(4));
        assert_eq!(parse_duration("2d"), Some(48));
        assert_eq!(parse_duration("30m"), Some(1));
        assert_eq!(parse_duration("1w"), Some(168));
        assert_eq!(parse_duration("6"), Some(6));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("99999999999999999999d"), None);
    }
}
