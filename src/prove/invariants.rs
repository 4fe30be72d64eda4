//! Invariants: what the loader guarantees about the data it builds (`policies/invariants.cedar`,
//! added to both sides of every proof), and the organisation's `[[invariant]]`s of
//! `vouch.toml` (conditions the access policies must never allow).
//!
//! A loader invariant is written once, as `forbid (principal, action, resource is T) unless {
//! guarantee }`; where `T` is the principal type of a request environment the same rule is
//! applied to `principal` ([`LoaderInvariants::for_env`] derives it).

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{Policy, PolicyId, PolicySet, RequestEnv, Schema, ValidationMode, Validator};

use crate::config::Invariant as ConfigInvariant;
use crate::error::{Problem, ProblemKind};

/// The loader's invariants, as shipped (next to the schema).
pub const LOADER_TEXT: &str = include_str!("../../policies/invariants.cedar");

/// Where the loader's invariants are shown to come from.
pub const LOADER_FILE: &str = "builtin:policies/invariants.cedar";

/// One loader invariant, in the form that applies to some environments.
#[derive(Debug, Clone)]
pub struct LoaderInvariant {
    /// `invariant/resource-production` (or `…@principal` for the derived form).
    pub id: String,
    pub message: String,
    pub policy: Policy,
    pub envs: Vec<RequestEnv>,
    /// `resource.production`, `principal.status`, …
    pub reads: BTreeSet<String>,
}

/// Every loader invariant, both forms.
#[derive(Debug, Clone, Default)]
pub struct LoaderInvariants {
    pub all: Vec<LoaderInvariant>,
}

/// A problem in an invariants text, pointing into it.
fn text_problem(file: &str, text: &str, diag: &dyn miette::Diagnostic, message: String) -> Problem {
    let text: Arc<str> = Arc::from(text);
    let mut p = Problem::new(ProblemKind::Library, message);
    if let Some(label) = diag.labels().and_then(|mut l| l.next()) {
        p = p.with_span(file, &text, label.offset(), label.len(), "here");
        p.kind = ProblemKind::Library;
    } else {
        p = p.in_file(file);
    }
    if let Some(help) = diag.help() {
        p = p.with_help(help.to_string());
    }
    p
}

/// The same rule about `principal`: the variables and scopes of `resource` and `principal`
/// swapped. `None` when the rule constrains the principal's scope already.
fn about_principal(p: &Policy, id: &str) -> Option<Policy> {
    fn swap(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                if let Some(serde_json::Value::String(var)) = o.get_mut("Var") {
                    if var == "resource" {
                        *var = "principal".to_owned();
                    } else if var == "principal" {
                        *var = "resource".to_owned();
                    }
                }
                o.values_mut().for_each(swap);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(swap),
            _ => {}
        }
    }
    let mut json = p.to_json().ok()?;
    if json["principal"]["op"] != "All" || json["resource"]["op"] == "All" {
        return None;
    }
    let scope = json["resource"].clone();
    json["resource"] = serde_json::json!({ "op": "All" });
    json["principal"] = scope;
    if let Some(conditions) = json.get_mut("conditions") {
        swap(conditions);
    }
    Policy::from_json(Some(PolicyId::new(id)), json).ok()
}

impl LoaderInvariants {
    /// Parses and strictly validates `text` (the shipped file, or a test's); every problem at once.
    pub fn parse(
        text: &str,
        file: &str,
        schema: &Schema,
    ) -> Result<LoaderInvariants, Vec<Problem>> {
        let parsed = PolicySet::from_str(text).map_err(|e| {
            vec![text_problem(
                file,
                text,
                &e,
                format!(
                    "the loader's invariants do not parse: {}",
                    crate::error::lowercase_first(&e.to_string())
                ),
            )]
        })?;
        let mut forms = Vec::new();
        let mut problems = Vec::new();
        let mut policies: Vec<&Policy> = parsed.policies().collect();
        policies.sort_by_key(|p| p.id().to_string());
        for p in policies {
            let Some(id) = p.annotation("id") else {
                problems.push(
                    Problem::new(ProblemKind::Library, "a loader invariant has no `@id`")
                        .in_file(file),
                );
                continue;
            };
            if p.effect() != cedar_policy::Effect::Forbid {
                problems.push(
                    Problem::new(
                        ProblemKind::Library,
                        format!("loader invariant `{id}` is a permit; invariants are written as `forbid … unless {{ guarantee }}`"),
                    )
                    .in_file(file),
                );
                continue;
            }
            let message = p.annotation("message").unwrap_or_default().to_owned();
            forms.push((id.to_owned(), message.clone(), p.new_id(PolicyId::new(id))));
            let derived = format!("{id}@principal");
            if let Some(q) = about_principal(p, &derived) {
                forms.push((derived, message, q));
            }
        }
        let mut all = Vec::new();
        let mut checked = PolicySet::new();
        for (id, message, policy) in forms {
            let envs: Vec<RequestEnv> = policy.get_valid_request_envs(schema).collect();
            if envs.is_empty() {
                // The derived principal form of a rule about a type that is never a principal.
                if id.ends_with("@principal") {
                    continue;
                }
                problems.push(
                    Problem::new(
                        ProblemKind::Library,
                        format!("loader invariant `{id}` applies to no request the schema allows"),
                    )
                    .in_file(file),
                );
                continue;
            }
            if checked.add(policy.clone()).is_err() {
                problems.push(
                    Problem::new(
                        ProblemKind::Library,
                        format!("loader invariant id `{id}` is used twice"),
                    )
                    .in_file(file),
                );
                continue;
            }
            let mut envs = envs;
            envs.sort();
            all.push(LoaderInvariant {
                reads: reads(&policy),
                id,
                message,
                policy,
                envs,
            });
        }
        let validation = Validator::new(schema.clone()).validate(&checked, ValidationMode::Strict);
        for e in validation.validation_errors() {
            problems.push(text_problem(
                file,
                text,
                e,
                format!(
                    "loader invariant `{}` does not validate: {}",
                    e.policy_id(),
                    crate::error::lowercase_first(&e.to_string())
                ),
            ));
        }
        if problems.is_empty() {
            Ok(LoaderInvariants { all })
        } else {
            Err(problems)
        }
    }

    /// The shipped invariants.
    pub fn shipped(schema: &Schema) -> Result<LoaderInvariants, Vec<Problem>> {
        LoaderInvariants::parse(LOADER_TEXT, LOADER_FILE, schema)
    }

    /// No invariants at all (what a proof over the schema alone assumes).
    pub fn none() -> LoaderInvariants {
        LoaderInvariants::default()
    }

    /// The invariants that bear on `reads` in `env`: those applying to `env` that read one of
    /// the attributes, and, transitively, those sharing an attribute with one already taken.
    /// The others constrain only attributes nothing here reads, so leaving them out changes
    /// no answer and keeps every query small.
    pub fn for_env(&self, env: &RequestEnv, reads: &BTreeSet<String>) -> Vec<&LoaderInvariant> {
        let mut taken: Vec<&LoaderInvariant> = Vec::new();
        let mut wanted = reads.clone();
        let candidates: Vec<&LoaderInvariant> =
            self.all.iter().filter(|i| i.envs.contains(env)).collect();
        loop {
            let before = taken.len();
            for inv in &candidates {
                if taken.iter().any(|t| t.id == inv.id) {
                    continue;
                }
                if inv.reads.iter().any(|r| wanted.contains(r)) {
                    wanted.extend(inv.reads.iter().cloned());
                    taken.push(inv);
                }
            }
            if taken.len() == before {
                break;
            }
        }
        taken.sort_by(|a, b| a.id.cmp(&b.id));
        taken
    }
}

/// The attributes a policy reads: every `.` and `has` on `principal`, `resource` or
/// `context`, as `var.attr`.
pub fn reads(p: &Policy) -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, inner) in o {
                    if (k == "." || k == "has")
                        && let Some(var) = inner
                            .get("left")
                            .and_then(|l| l.get("Var"))
                            .and_then(serde_json::Value::as_str)
                        && let Some(attr) = inner.get("attr").and_then(serde_json::Value::as_str)
                    {
                        out.insert(format!("{var}.{attr}"));
                    }
                    walk(inner, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    if let Ok(json) = p.to_json() {
        walk(&json, &mut out);
    }
    out
}

/// A user invariant, as a permit that allows exactly the requests it forbids.
#[derive(Debug, Clone)]
pub struct UserInvariant {
    pub name: String,
    pub description: String,
    pub policy: Policy,
    pub envs: Vec<RequestEnv>,
}

/// The text a user invariant becomes, and where its condition starts in it.
fn user_policy_text(inv: &ConfigInvariant) -> (String, usize) {
    let actions: Vec<String> = inv
        .actions
        .iter()
        .map(|a| format!("Access::Action::{}", serde_json::Value::String(a.clone())))
        .collect();
    let head = format!(
        "permit (principal is Access::User, action in [{}], resource is Access::Resource)\nwhen {{ ",
        actions.join(", ")
    );
    let offset = head.len();
    (format!("{head}{}\n}};", inv.condition), offset)
}

/// A problem in a user invariant's condition: at its span in `vouch.toml` when the condition
/// is written verbatim there, else at the whole entry.
fn user_problem(
    inv: &ConfigInvariant,
    diag: &dyn miette::Diagnostic,
    at: usize,
    message: String,
) -> Problem {
    let (offset, len) = match (
        inv.condition_offset,
        diag.labels().and_then(|mut l| l.next()),
    ) {
        (Some(start), Some(label)) if label.offset() >= at => (
            start + (label.offset() - at).min(inv.condition.len()),
            label.len(),
        ),
        _ => (inv.span.0, inv.span.1.saturating_sub(inv.span.0)),
    };
    let mut p = Problem::parse(
        crate::config::FILE_NAME,
        &inv.source,
        offset,
        len,
        message,
        "here",
    )
    .with_help(
        diag.help().map_or_else(
            || "the condition is a Cedar expression over `principal` (an Access::User), `resource` (an Access::Resource) and `context` (the request's facts), as in policies/access/".to_owned(),
            |h| h.to_string(),
        ),
    );
    p.kind = ProblemKind::Config;
    p
}

/// Parses and strictly validates the `[[invariant]]`s; every problem at once.
pub fn user(
    invariants: &[ConfigInvariant],
    schema: &Schema,
) -> Result<Vec<UserInvariant>, Vec<Problem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let validator = Validator::new(schema.clone());
    for inv in invariants {
        let (text, at) = user_policy_text(inv);
        let id = format!("invariant:{}", inv.name);
        let policy = match Policy::parse(Some(PolicyId::new(&id)), &text) {
            Ok(p) => p,
            Err(e) => {
                problems.push(user_problem(
                    inv,
                    &e,
                    at,
                    format!(
                        "the condition of invariant `{}` does not parse: {}",
                        inv.name,
                        crate::error::lowercase_first(&e.to_string())
                    ),
                ));
                continue;
            }
        };
        let mut set = PolicySet::new();
        if set.add(policy.clone()).is_err() {
            continue;
        }
        let result = validator.validate(&set, ValidationMode::Strict);
        let mut valid = true;
        for e in result.validation_errors() {
            valid = false;
            problems.push(user_problem(
                inv,
                e,
                at,
                format!(
                    "the condition of invariant `{}` does not validate: {}",
                    inv.name,
                    crate::error::lowercase_first(&e.to_string())
                ),
            ));
        }
        if !valid {
            continue;
        }
        let mut envs: Vec<RequestEnv> = policy.get_valid_request_envs(schema).collect();
        envs.sort();
        out.push(UserInvariant {
            name: inv.name.clone(),
            description: inv.description.clone(),
            policy,
            envs,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}
