//! The library's policies as the prover sees them: re-keyed by `@id` (as the engine keys
//! them), with their file, effect and the request environments each can apply to; and the
//! policy transformations the proofs need (a forbid as a permit, a policy's error as a
//! decision, its scope alone).

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use cedar_policy::{Effect, Policy, PolicyId, PolicySet, RequestEnv, Schema};
use serde_json::{Value, json};

use super::Environment;
use crate::error::{Problem, ProblemKind};
use crate::library::{Library, LibraryFile};

/// One policy of the library.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub file: String,
    pub policy: Policy,
    pub forbid: bool,
    /// Environments it can apply to, sorted.
    pub envs: Vec<RequestEnv>,
    /// `principal.x`, `resource.x`, `context.x` it reads.
    pub reads: BTreeSet<String>,
}

/// Every policy of a library, by id.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    pub members: BTreeMap<String, Member>,
}

/// The schema of a library (built in: custom directories cannot replace it).
pub fn schema(lib: &Library) -> Result<(Schema, String), Problem> {
    let file = lib
        .schema
        .as_ref()
        .ok_or_else(|| Problem::new(ProblemKind::Library, "the library has no schema"))?;
    Schema::from_cedarschema_str(&file.text)
        .map(|(s, _)| (s, file.text.to_string()))
        .map_err(|e| {
            Problem::new(
                ProblemKind::Library,
                format!(
                    "the schema does not load: {}",
                    crate::error::lowercase_first(&e.to_string())
                ),
            )
        })
}

/// Parses `file` and re-keys its policies by `@id` (the engine has validated them already;
/// anything unexpected here is still an error, never a skipped policy).
pub fn parse_file(file: &LibraryFile) -> Result<Vec<(String, Policy)>, Problem> {
    let parsed = PolicySet::from_str(&file.text).map_err(|e| {
        Problem::new(
            ProblemKind::Library,
            format!(
                "`{}` does not parse: {}",
                file.display_path(),
                crate::error::lowercase_first(&e.to_string())
            ),
        )
    })?;
    let mut out = Vec::new();
    for p in parsed.policies() {
        let Some(id) = p.annotation("id") else {
            return Err(Problem::new(
                ProblemKind::Library,
                format!(
                    "a policy in `{}` has no `@id` annotation",
                    file.display_path()
                ),
            ));
        };
        out.push((id.to_owned(), p.new_id(PolicyId::new(id))));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

impl Policies {
    /// Every policy of `lib`, with its environments under `schema`.
    pub fn of(lib: &Library, schema: &Schema) -> Result<Policies, Vec<Problem>> {
        let mut members = BTreeMap::new();
        let mut problems = Vec::new();
        for file in &lib.policies {
            match parse_file(file) {
                Ok(ps) => {
                    for (id, policy) in ps {
                        let mut envs: Vec<RequestEnv> =
                            policy.get_valid_request_envs(schema).collect();
                        envs.sort();
                        envs.dedup();
                        let member = Member {
                            file: file.display_path(),
                            forbid: policy.effect() == Effect::Forbid,
                            reads: reads(&policy),
                            envs,
                            policy,
                            id: id.clone(),
                        };
                        if members.insert(id.clone(), member).is_some() {
                            problems.push(Problem::new(
                                ProblemKind::Library,
                                format!("policy id `{id}` is used twice"),
                            ));
                        }
                    }
                }
                Err(p) => problems.push(p),
            }
        }
        if problems.is_empty() {
            Ok(Policies { members })
        } else {
            Err(problems)
        }
    }

    /// The policies that can apply to `env`, sorted by id.
    pub fn in_env<'a>(&'a self, env: &'a RequestEnv) -> impl Iterator<Item = &'a Member> + 'a {
        self.members.values().filter(move |m| m.envs.contains(env))
    }

    /// Every environment some policy applies to, sorted.
    pub fn envs(&self) -> Vec<RequestEnv> {
        let all: BTreeSet<RequestEnv> = self
            .members
            .values()
            .flat_map(|m| m.envs.iter().cloned())
            .collect();
        all.into_iter().collect()
    }
}

/// True for the environments of access requests (`Access::Action::"…"`).
pub fn is_access(env: &RequestEnv) -> bool {
    crate::engine::access::is_access_action(env.action())
}

/// An environment as shown to users (`Access::User`, `read`, `Access::Resource`).
pub fn environment(env: &RequestEnv) -> Environment {
    Environment {
        principal: env.principal().to_string(),
        action: env.action().id().escaped().to_string(),
        resource: env.resource().to_string(),
    }
}

/// A set of policies; ids are unique by construction (callers pass distinct ids).
pub fn set_of<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Result<PolicySet, Problem> {
    let mut set = PolicySet::new();
    for p in policies {
        set.add(p.clone()).map_err(|e| {
            Problem::new(
                ProblemKind::Library,
                format!(
                    "policy `{}` cannot join a proof: {}",
                    p.id(),
                    crate::error::lowercase_first(&e.to_string())
                ),
            )
        })?;
    }
    Ok(set)
}

/// Rebuilds a policy from its JSON form (after a transformation).
fn from_json(id: &str, json: Value) -> Result<Policy, Problem> {
    Policy::from_json(Some(PolicyId::new(id)), json).map_err(|e| {
        Problem::new(
            ProblemKind::Library,
            format!(
                "policy `{id}` cannot be restated for a proof: {}",
                crate::error::lowercase_first(&e.to_string())
            ),
        )
    })
}

fn json_of(p: &Policy) -> Result<Value, Problem> {
    p.to_json().map_err(|e| {
        Problem::new(
            ProblemKind::Library,
            format!(
                "policy `{}` has no JSON form: {}",
                p.id(),
                crate::error::lowercase_first(&e.to_string())
            ),
        )
    })
}

/// The policy with effect `permit` (same scope, same conditions): it allows exactly where the
/// forbid fires.
pub fn as_permit(p: &Policy, id: &str) -> Result<Policy, Problem> {
    let mut json = json_of(p)?;
    json["effect"] = json!("permit");
    from_json(id, json)
}

/// The policy's scope alone, as a permit: it allows every request the policy applies to.
pub fn scope_permit(p: &Policy, id: &str) -> Result<Policy, Problem> {
    let mut json = json_of(p)?;
    json["effect"] = json!("permit");
    json["conditions"] = json!([]);
    json["annotations"] = json!({});
    from_json(id, json)
}

/// A policy's conditions joined into one expression (`when` as is, `unless` negated).
fn joined_conditions(json: &Value) -> Value {
    let conditions = json["conditions"].as_array().cloned().unwrap_or_default();
    let mut joined: Option<Value> = None;
    for c in conditions {
        let body = c["body"].clone();
        let part = if c["kind"] == "unless" {
            json!({ "!": { "arg": body } })
        } else {
            body
        };
        joined = Some(match joined {
            None => part,
            Some(prev) => json!({ "&&": { "left": prev, "right": part } }),
        });
    }
    joined.unwrap_or_else(|| json!({ "Value": true }))
}

/// `c || !c`: true where `c` evaluates, an error where it errors.
fn evaluates(c: Value) -> Value {
    json!({ "||": { "left": c.clone(), "right": { "!": { "arg": c } } } })
}

/// A permit that allows exactly the requests in the policy's scope on which its conditions
/// evaluate without an error: `when { c || !c }` for `c` its conditions joined. Every request
/// its scope allows and this denies is one on which the policy errors.
pub fn evaluates_permit(p: &Policy, id: &str) -> Result<Policy, Problem> {
    let mut json = json_of(p)?;
    let c = joined_conditions(&json);
    json["effect"] = json!("permit");
    json["annotations"] = json!({});
    json["conditions"] = json!([{ "kind": "when", "body": evaluates(c) }]);
    from_json(id, json)
}

/// `permit (principal, action, resource);` under `id`.
pub fn permit_all(id: &str) -> Result<Policy, Problem> {
    Policy::parse(
        Some(PolicyId::new(id)),
        "permit (principal, action, resource);",
    )
    .map_err(|e| {
        Problem::new(
            ProblemKind::Library,
            format!("internal policy does not parse: {e}"),
        )
    })
}

pub use super::invariants::reads;

/// A digest of policies' texts (for the proof cache): their JSON forms, in order.
pub fn text_of(policies: &[&Policy]) -> String {
    let mut out = String::new();
    for p in policies {
        out.push_str(p.id().as_ref());
        out.push('\n');
        match p.to_json() {
            Ok(j) => out.push_str(&j.to_string()),
            Err(_) => out.push_str(&p.to_string()),
        }
        out.push('\n');
    }
    out
}
