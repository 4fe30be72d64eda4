//! The engine: the only module that talks to `cedar_policy`.
//!
//! [`compile`] parses every policy file, re-keys policies by their `@id`, checks that each
//! belongs to a control, validates the whole set strictly against the schema and splits it into
//! one policy set per resource type (Cedar evaluates every policy of a set on every request, so
//! a request only pays for its own type's controls). [`Compiled::evaluate`] turns resources into
//! entities (built directly, no JSON), asks one `comply` request per resource, in parallel
//! batches, and maps the answer to one [`Evaluation`] per (control, resource). An evaluation
//! error is never a pass: it is an `error` result of its own.

pub mod access;
mod entities;
mod grant_memo;
mod memo;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Authorizer, Context, Decision, EntityTypeName, EntityUid, PolicyId, PolicySet, Request, Schema,
    ValidationMode, Validator,
};
use miette::Diagnostic;
use rayon::prelude::*;

use crate::error::{Problem, ProblemKind};
use crate::library::{Library, LibraryFile};
use crate::model::Resource;

/// Resources evaluated per entity store (bounds memory: an entity costs about 5 KiB).
pub const BATCH: usize = 512;

/// The outcome of one control on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Pass,
    Fail,
    Error,
}

/// One control's outcome on one resource, with the policies that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Index into the evaluated resources slice.
    pub resource: usize,
    /// Shared by every result of the control (one allocation per control, not per result).
    pub control: Arc<str>,
    pub outcome: Outcome,
    /// Why, for a fail or an error; `None` for a pass (a large run holds hundreds of thousands
    /// of passes: they stay small).
    pub detail: Option<Box<Detail>>,
}

/// The policies behind a fail or an error, and what they say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detail {
    /// Ids of the policies that fired (fail) or errored (error), sorted.
    pub policies: Vec<String>,
    /// Their `@message`s, or the error texts.
    pub messages: Vec<String>,
    /// Attributes the fired policies read whose value is unknown, sorted.
    pub unknown: Vec<String>,
    /// True when the failure rests on an unknown (an attribute or whether the resource
    /// exists): it fails closed, but nothing in it is asserted as fact.
    pub undetermined: bool,
}

impl Evaluation {
    /// One result; the detail is kept only when there is something in it.
    pub fn new(
        resource: usize,
        control: Arc<str>,
        outcome: Outcome,
        policies: Vec<String>,
        messages: Vec<String>,
    ) -> Evaluation {
        let detail = (!policies.is_empty() || !messages.is_empty()).then(|| {
            Box::new(Detail {
                policies,
                messages,
                ..Detail::default()
            })
        });
        Evaluation {
            resource,
            control,
            outcome,
            detail,
        }
    }

    /// The detail's parts, taken out (empty for a pass).
    pub fn into_detail(self) -> (Vec<String>, Vec<String>) {
        self.detail
            .map(|d| (d.policies, d.messages))
            .unwrap_or_default()
    }

    /// The whole detail, taken out (empty for a pass).
    pub fn into_full_detail(self) -> Detail {
        self.detail.map(|d| *d).unwrap_or_default()
    }
}

/// What the engine knows about one policy.
#[derive(Debug, Clone)]
pub struct PolicyInfo {
    pub id: String,
    pub control: Option<String>,
    pub message: String,
    pub file: String,
    /// Entity types it applies to.
    pub resource_types: Vec<String>,
    /// The policy itself, for what is derived from it only when a run needs it.
    policy: cedar_policy::Policy,
    /// Top-level attributes of `resource` its condition reads, computed on first use (it walks
    /// the policy's JSON form, which costs more than the rest of compiling the policy).
    reads: std::sync::OnceLock<Vec<String>>,
}

impl PolicyInfo {
    /// Top-level attributes of `resource` its condition reads (`resource.x`, `resource has x`),
    /// sorted: a failure that reads an unknown one is not determined.
    pub fn reads(&self) -> &[String] {
        self.reads.get_or_init(|| resource_reads(&self.policy))
    }
}

/// One resource type's policies. The narrowed set is built on first use: a run pays only for
/// the types it meets.
struct TypeSet {
    ty: String,
    members: Vec<cedar_policy::Policy>,
    /// The narrowed set, and (when every policy of it is identity-blind, see [`memo`]) the
    /// attributes of `resource` its policies read.
    policies: std::sync::OnceLock<(PolicySet, Option<memo::Uses>)>,
    controls: Vec<Arc<str>>,
}

impl TypeSet {
    fn policies(&self) -> &PolicySet {
        &self.narrowed().0
    }

    /// The attributes that decide, when equal facts get equal decisions from this set (see
    /// [`memo`]); `None` when a policy can tell entities apart otherwise.
    fn memo_reads(&self) -> Option<&memo::Uses> {
        self.narrowed().1.as_ref()
    }

    fn narrowed(&self) -> &(PolicySet, Option<memo::Uses>) {
        self.policies.get_or_init(|| {
            let mut set = PolicySet::new();
            let mut reads = Some(memo::Uses::new());
            for p in &self.members {
                let json = p.to_json().ok();
                match &json {
                    Some(json) if memo::identity_blind(json) => {
                        if let Some(r) = reads.as_mut() {
                            memo::attribute_uses(json, r);
                        }
                    }
                    _ => reads = None,
                }
                let narrow = match json {
                    Some(json) => narrowed_json(p, json, None, &self.ty),
                    None => p.clone(),
                };
                // Ids are unique in the library, so adding cannot fail.
                let _ = set.add(narrow);
            }
            (set, reads)
        })
    }
}

/// A library compiled to Cedar: the schema and one policy set per resource type.
pub struct Compiled {
    schema: Schema,
    conformance: entities::Conformance,
    sets: FastMap<String, TypeSet>,
    policies: BTreeMap<String, PolicyInfo>,
    scanner: EntityUid,
    action: EntityUid,
    access: access::AccessSet,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("policies", &self.policies.len())
            .finish_non_exhaustive()
    }
}

/// Turns a Cedar diagnostic on `file` into a problem with its first labelled span.
fn cedar_problem(file: &LibraryFile, diag: &dyn Diagnostic, message: String) -> Problem {
    let mut p = Problem::new(ProblemKind::Library, message).in_file(&file.display_path());
    if let Some(label) = diag.labels().and_then(|mut l| l.next()) {
        p = p.with_span(
            &file.display_path(),
            &file.text,
            label.offset(),
            label.len(),
            label.label().unwrap_or("here").to_owned(),
        );
        p.kind = ProblemKind::Library;
    }
    if let Some(help) = diag.help() {
        p = p.with_help(help.to_string());
    }
    p
}

fn one_line(s: &str) -> String {
    crate::error::lowercase_first(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A policy narrowed to the requests of one policy set: every request asked of a set is of one
/// action, on a resource of one type (and, for access sets, from a principal of one type), so
/// the action scope and a plain `is <that type>` scope always hold there. Cedar rebuilds and
/// evaluates the scope of every policy on every request (for `action in [..]`, a set of entity
/// uids): dropping what always holds gives the same answers in less time.
fn narrowed(
    p: &cedar_policy::Policy,
    principal_type: Option<&str>,
    resource_type: &str,
) -> cedar_policy::Policy {
    match p.to_json() {
        Ok(json) => narrowed_json(p, json, principal_type, resource_type),
        Err(_) => p.clone(),
    }
}

/// [`narrowed`], from the policy's JSON form.
fn narrowed_json(
    p: &cedar_policy::Policy,
    mut json: serde_json::Value,
    principal_type: Option<&str>,
    resource_type: &str,
) -> cedar_policy::Policy {
    let is_only = |scope: &serde_json::Value, ty: &str| {
        scope.get("op").and_then(|o| o.as_str()) == Some("is")
            && scope.get("entity_type").and_then(|t| t.as_str()) == Some(ty)
            && scope.get("in").is_none()
    };
    let always = serde_json::json!({ "op": "All" });
    json["action"] = always.clone();
    if is_only(&json["resource"], resource_type) {
        json["resource"] = always.clone();
    }
    if principal_type.is_some_and(|ty| is_only(&json["principal"], ty)) {
        json["principal"] = always;
    }
    cedar_policy::Policy::from_json(Some(p.id().clone()), json).unwrap_or_else(|_| p.clone())
}

/// Parses and validates the library's policies; every problem is reported at once.
#[expect(
    clippy::too_many_lines,
    reason = "the load checks read best as one sequence"
)]
pub fn compile(lib: &Library) -> Result<Compiled, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some(schema_file) = &lib.schema else {
        return Err(vec![Problem::new(
            ProblemKind::Library,
            "the library has no schema",
        )]);
    };
    let schema = match Schema::from_cedarschema_str(&schema_file.text) {
        Ok((s, _warnings)) => s,
        Err(e) => {
            return Err(vec![cedar_problem(
                schema_file,
                &e,
                format!("the schema does not load: {}", one_line(&e.to_string())),
            )]);
        }
    };

    let mut all = PolicySet::new();
    let mut infos: BTreeMap<String, PolicyInfo> = BTreeMap::new();
    let mut file_of: HashMap<String, &LibraryFile> = HashMap::new();
    for file in &lib.policies {
        let parsed = match PolicySet::from_str(&file.text) {
            Ok(p) => p,
            Err(e) => {
                problems.push(cedar_problem(
                    file,
                    &e,
                    format!(
                        "`{}` does not parse: {}",
                        file.display_path(),
                        one_line(&e.to_string())
                    ),
                ));
                continue;
            }
        };
        if parsed.templates().next().is_some() {
            problems.push(Problem::new(
                ProblemKind::Library,
                format!(
                    "`{}` declares a template; controls are static policies",
                    file.display_path()
                ),
            ));
        }
        let mut policies: Vec<_> = parsed.policies().collect();
        policies.sort_by_key(|p| p.id().to_string());
        for p in policies {
            let Some(id) = p.annotation("id").map(str::to_owned) else {
                problems.push(Problem::new(
                    ProblemKind::Library,
                    format!("a policy in `{}` has no `@id` annotation", file.display_path()),
                ).with_help("annotate every policy with @id(\"<control>\") or @id(\"<control>/<case>\")"));
                continue;
            };
            let control = p.annotation("control").map(str::to_owned);
            let is_forbid = p.effect() == cedar_policy::Effect::Forbid;
            match (&control, is_forbid) {
                (Some(c), true) => {
                    if !lib.controls.contains_key(c) {
                        problems.push(Problem::new(
                            ProblemKind::Library,
                            format!("policy `{id}` names control `{c}`, which no control file defines"),
                        ).in_file(&file.display_path()).with_help(format!("add controls/<family>/{c}.toml or fix the @control annotation")));
                    }
                }
                (None, true) => problems.push(Problem::new(
                    ProblemKind::Library,
                    format!("forbid policy `{id}` has no `@control` annotation"),
                ).in_file(&file.display_path())),
                (Some(_), false) => problems.push(Problem::new(
                    ProblemKind::Library,
                    format!("policy `{id}` is a permit with `@control`; controls are written as forbid rules"),
                ).in_file(&file.display_path())),
                (None, false) => {}
            }
            if is_forbid && p.annotation("message").is_none() {
                problems.push(
                    Problem::new(
                        ProblemKind::Library,
                        format!("policy `{id}` has no `@message` annotation"),
                    )
                    .in_file(&file.display_path()),
                );
            }
            if let Err(e) = all.add(p.new_id(PolicyId::new(&id))) {
                problems.push(
                    Problem::new(
                        ProblemKind::Library,
                        format!(
                            "policy id `{id}` is used twice ({})",
                            one_line(&e.to_string())
                        ),
                    )
                    .in_file(&file.display_path()),
                );
                continue;
            }
            infos.insert(
                id.clone(),
                PolicyInfo {
                    id: id.clone(),
                    control,
                    message: p.annotation("message").unwrap_or_default().to_owned(),
                    file: file.display_path(),
                    resource_types: Vec::new(),
                    policy: p.clone(),
                    reads: std::sync::OnceLock::new(),
                },
            );
            file_of.insert(id, file);
        }
    }

    let validation = Validator::new(schema.clone()).validate(&all, ValidationMode::Strict);
    for e in validation.validation_errors() {
        let id = e.policy_id().to_string();
        let message = format!(
            "policy `{id}` does not validate: {}",
            one_line(&e.to_string())
        );
        match file_of.get(&id) {
            Some(file) => problems.push(cedar_problem(file, e, message)),
            None => problems.push(Problem::new(ProblemKind::Library, message)),
        }
    }

    // Every automated control needs a policy, and a manual one must have none.
    let mut with_policies: BTreeSet<&str> = BTreeSet::new();
    for info in infos.values() {
        if let Some(c) = &info.control {
            with_policies.insert(c);
        }
    }
    for c in lib.controls.values() {
        let has = with_policies.contains(c.id.as_str());
        if c.automated && !has {
            problems.push(Problem::new(
                ProblemKind::Library,
                format!("control `{}` is automated but no policy has `@control(\"{}\")`", c.id, c.id),
            ).in_file(&c.file).with_help("add its policy under policies/, or set `automated = false` for a manual control"));
        }
        if !c.automated && has {
            problems.push(
                Problem::new(
                    ProblemKind::Library,
                    format!("control `{}` is manual but has policies", c.id),
                )
                .in_file(&c.file),
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let action = EntityUid::from_str(r#"Vouch::Action::"comply""#).map_err(|e| {
        vec![Problem::new(
            ProblemKind::Library,
            format!("bad action uid: {e}"),
        )]
    })?;
    let scanner = EntityUid::from_str(r#"Vouch::Scanner::"vouch""#).map_err(|e| {
        vec![Problem::new(
            ProblemKind::Library,
            format!("bad scanner uid: {e}"),
        )]
    })?;

    // Split per resource type, using the schema's request environments.
    let mut by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut base: Vec<String> = Vec::new();
    // Access policy id → the access actions it can apply to (`read`, `write`, `admin`).
    let mut access_ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in all.policies() {
        let id = p.id().to_string();
        let envs: Vec<cedar_policy::RequestEnv> = p.get_valid_request_envs(&schema).collect();
        let types: BTreeSet<String> = envs
            .iter()
            .filter(|env| env.action() == &action)
            .map(|env| env.resource().to_string())
            .collect();
        let is_access = envs
            .iter()
            .any(|env| access::is_access_action(env.action()));
        if types.is_empty() && is_access {
            if let Some(info) = infos.get_mut(&id) {
                info.resource_types = vec![access::RESOURCE_TYPE.to_owned()];
            }
            let actions = envs
                .iter()
                .filter(|env| access::is_access_action(env.action()))
                .map(|env| env.action().id().unescaped().to_owned())
                .collect();
            access_ids.insert(id, actions);
            continue;
        }
        if types.is_empty() {
            problems.push(
                Problem::new(
                    ProblemKind::Library,
                    format!("policy `{id}` applies to no resource of the `comply` action nor to an access request"),
                )
                .with_help(
                    "scope it with `resource is <Type>` for a type the schema lists under `comply`, or with an `Access::Action`",
                ),
            );
            continue;
        }
        if let Some(info) = infos.get_mut(&id) {
            info.resource_types = types.iter().cloned().collect();
            if info.control.is_none() {
                base.push(id.clone());
                continue;
            }
        }
        for t in types {
            by_type.entry(t).or_default().push(id.clone());
        }
    }
    // The access namespace as JSON: whether it holds extension types decides whether standing
    // grants may share decisions (`grant_memo`).
    let schema_json = cedar_policy::SchemaFragment::from_cedarschema_str(&schema_file.text)
        .ok()
        .and_then(|(fragment, _)| fragment.to_json_value().ok());
    let access_namespace = access::USER_TYPE.rsplit_once("::").map(|(ns, _)| ns);
    let schema_access = schema_json
        .as_ref()
        .zip(access_namespace)
        .and_then(|(json, ns)| json.get(ns));
    let access = access::AccessSet::build(&all, &access_ids, &infos, schema_access);
    if base.is_empty() {
        problems.push(Problem::new(
            ProblemKind::Library,
            "the library has no base permit; every resource would be denied by default",
        ).with_help("keep policies/base.cedar: @id(\"base\") permit(principal, action == Vouch::Action::\"comply\", resource);"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut sets = FastMap::default();
    for (ty, ids) in by_type {
        let mut members = Vec::new();
        let mut controls = BTreeSet::new();
        for id in base.iter().chain(ids.iter()) {
            if let Some(p) = all.policy(&PolicyId::new(id)) {
                members.push(p.clone());
                if let Some(c) = infos.get(id).and_then(|i| i.control.clone()) {
                    controls.insert(c);
                }
            }
        }
        sets.insert(
            ty.clone(),
            TypeSet {
                ty,
                members,
                policies: std::sync::OnceLock::new(),
                controls: controls.into_iter().map(Arc::from).collect(),
            },
        );
    }
    let policy_texts = lib.policies.iter().map(|f| f.text.as_ref());
    let conformance = entities::Conformance::new(&schema, &schema_file.text, policy_texts)
        .map_err(|e| {
            vec![Problem::new(
                ProblemKind::Library,
                format!("the schema's entity types do not load: {e}"),
            )]
        })?;
    Ok(Compiled {
        schema,
        conformance,
        sets,
        policies: infos,
        scanner,
        action,
        access,
    })
}

impl Compiled {
    /// Every policy, by id.
    pub fn policies(&self) -> &BTreeMap<String, PolicyInfo> {
        &self.policies
    }

    /// The access-request policies (for `vouch access`).
    pub fn access(&self) -> &access::AccessSet {
        &self.access
    }

    /// The schema (for building access stores).
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Schema conformance, remembered per entity shape (for building access stores).
    fn conformance(&self) -> &entities::Conformance {
        &self.conformance
    }

    /// Evaluates every resource whose type has controls; results are sorted by
    /// (resource index, control).
    pub fn evaluate(&self, resources: &[Resource]) -> Vec<Evaluation> {
        let all: Vec<usize> = (0..resources.len()).collect();
        self.evaluate_indices(resources, &all)
    }

    /// Evaluates only the resources at `indices` (the gate re-evaluates only what changed).
    pub fn evaluate_indices(&self, resources: &[Resource], indices: &[usize]) -> Vec<Evaluation> {
        in_order(self.evaluate_unordered(resources, indices))
    }

    /// Evaluates the resources at `indices`, in parts not yet in order ([`in_order`] sorts
    /// them): a caller can release what the evaluation read before the parts are merged.
    pub fn evaluate_unordered(
        &self,
        resources: &[Resource],
        indices: &[usize],
    ) -> Vec<Vec<Evaluation>> {
        let plan = Plan::of(self, resources, indices);
        let memo = memo::Memo::default();
        let (comply, requests) = rayon::join(
            || {
                plan.relevant
                    .par_chunks(BATCH)
                    .map(|chunk| self.evaluate_batch(resources, chunk, &plan.type_names, &memo))
                    .collect::<Vec<_>>()
            },
            || self.standing_grants(resources, &plan.grants),
        );
        comply.into_iter().chain(requests).collect()
    }

    /// Evaluates every resource, in parts not yet in order, releasing each resource's
    /// attributes as soon as nothing will read them again: the standing grants first (they
    /// read users and resources too), then the resources group by group, each group's
    /// attributes dropped once it is decided. A large inventory's attributes are gone before
    /// anything else is built, instead of all at once after the last decision.
    pub fn evaluate_releasing(&self, resources: &mut [Resource]) -> Vec<Vec<Evaluation>> {
        let all: Vec<usize> = (0..resources.len()).collect();
        let plan = Plan::of(self, resources, &all);
        let memo = memo::Memo::default();
        let mut parts = self.standing_grants(resources, &plan.grants);
        for group in plan.relevant.chunks(BATCH * 16) {
            let decided: Vec<Vec<Evaluation>> = group
                .par_chunks(BATCH)
                .map(|chunk| self.evaluate_batch(resources, chunk, &plan.type_names, &memo))
                .collect();
            parts.extend(decided);
            for &i in group {
                if let Some(r) = resources.get_mut(i) {
                    drop(std::mem::take(&mut r.attrs));
                }
            }
        }
        // Resources of types no control checks.
        crate::model::release_attributes(resources);
        parts
    }

    /// Standing grants re-evaluated as the access requests they answer (none without access
    /// controls).
    fn standing_grants(&self, resources: &[Resource], grants: &[usize]) -> Vec<Vec<Evaluation>> {
        if grants.is_empty() || self.access.controls.is_empty() {
            Vec::new()
        } else {
            access::evaluate_grants(self, resources, grants)
        }
    }

    fn evaluate_batch(
        &self,
        resources: &[Resource],
        chunk: &[usize],
        type_names: &FastMap<&str, Option<EntityTypeName>>,
        memo: &memo::Memo,
    ) -> Vec<Evaluation> {
        let mut out = Vec::new();
        // Resources whose own facts decide (see `memo`): a decision already made on equal facts
        // is reused; of equal facts in this batch, one is evaluated and the others follow it.
        let probes: Vec<Option<entities::Probe>> = chunk
            .iter()
            .map(|&idx| {
                let r = &resources[idx];
                self.sets
                    .get(&r.entity_type)
                    .and_then(TypeSet::memo_reads)
                    .and_then(|reads| self.conformance.probe(r, reads))
            })
            .collect();
        let known = {
            let usable: Vec<Option<&[u8]>> = probes
                .iter()
                .map(|p| {
                    p.as_ref()
                        .filter(|p| self.conformance.known_to_conform(p))
                        .map(|p| p.key.as_slice())
                })
                .collect();
            memo.lookup(&usable)
        };
        let mut pending = Vec::with_capacity(chunk.len());
        // Key → the resource evaluated for it here; the resources that follow its decision.
        let mut leader: FastMap<Vec<u8>, usize> = FastMap::default();
        let mut followers: Vec<(usize, usize, entities::Probe)> = Vec::new();
        for ((&idx, probe), decided) in chunk.iter().zip(probes).zip(known) {
            match (decided, probe) {
                (Some(d), _) => self.judge_controls(
                    &mut out,
                    resources,
                    idx,
                    &d.fired,
                    &BTreeMap::new(),
                    d.no_decision,
                ),
                (None, Some(p)) => match leader.get(&p.key) {
                    Some(&first) => followers.push((idx, first, p)),
                    None => {
                        leader.insert(p.key, idx);
                        pending.push(idx);
                    }
                },
                (None, None) => pending.push(idx),
            }
        }
        let mut decided = self.decide(&mut out, resources, &pending, type_names);
        // A follower takes its leader's decision when the leader's had no error and the
        // follower's own shape is known to conform; otherwise it is evaluated itself.
        let mut alone = Vec::new();
        for (idx, first, probe) in &followers {
            match decided.get(first) {
                Some(d) if self.conformance.known_to_conform(probe) => self.judge_controls(
                    &mut out,
                    resources,
                    *idx,
                    &d.fired,
                    &BTreeMap::new(),
                    d.no_decision,
                ),
                _ => alone.push(*idx),
            }
        }
        if !alone.is_empty() {
            self.decide(&mut out, resources, &alone, type_names);
        }
        memo.remember(
            leader
                .into_iter()
                .filter_map(|(key, idx)| decided.remove(&idx).map(|d| (key, d)))
                .collect(),
        );
        out
    }

    /// Evaluates the resources at `indices` in one store, pushing their results; returns the
    /// decisions that had no evaluation error, by resource index.
    fn decide(
        &self,
        out: &mut Vec<Evaluation>,
        resources: &[Resource],
        indices: &[usize],
        type_names: &FastMap<&str, Option<EntityTypeName>>,
    ) -> FastMap<usize, memo::Decided> {
        let mut decided = FastMap::default();
        if indices.is_empty() {
            return decided;
        }
        let built = entities::build_store(
            &self.schema,
            &self.conformance,
            resources,
            indices,
            type_names,
        );
        for (idx, reason) in &built.rejected {
            self.push_all(
                out,
                resources,
                *idx,
                Outcome::Error,
                Vec::new(),
                vec![reason.clone()],
            );
        }
        let authorizer = Authorizer::new();
        for (idx, uid) in &built.uids {
            let resource = &resources[*idx];
            let Some(set) = self.sets.get(&resource.entity_type) else {
                continue;
            };
            let request = match Request::new(
                self.scanner.clone(),
                self.action.clone(),
                uid.clone(),
                Context::empty(),
                None,
            ) {
                Ok(r) => r,
                Err(e) => {
                    self.push_all(
                        out,
                        resources,
                        *idx,
                        Outcome::Error,
                        Vec::new(),
                        vec![one_line(&e.to_string())],
                    );
                    continue;
                }
            };
            let response = authorizer.is_authorized(&request, set.policies(), &built.store);
            let fired: BTreeSet<String> = response
                .diagnostics()
                .reason()
                .map(ToString::to_string)
                .collect();
            let mut errored: BTreeMap<String, String> = BTreeMap::new();
            for e in response.diagnostics().errors() {
                let cedar_policy::AuthorizationError::PolicyEvaluationError(pe) = e;
                errored.insert(
                    pe.policy_id().to_string(),
                    one_line(&pe.inner().to_string()),
                );
            }
            let no_decision = response.decision() == Decision::Deny && fired.is_empty();
            self.judge_controls(out, resources, *idx, &fired, &errored, no_decision);
            if errored.is_empty() {
                decided.insert(*idx, memo::Decided { fired, no_decision });
            }
        }
        decided
    }

    /// One result per control of the resource's type, from what its policies decided.
    fn judge_controls(
        &self,
        out: &mut Vec<Evaluation>,
        resources: &[Resource],
        idx: usize,
        fired: &BTreeSet<String>,
        errored: &BTreeMap<String, String>,
        no_decision: bool,
    ) {
        let resource = &resources[idx];
        let Some(set) = self.sets.get(&resource.entity_type) else {
            return;
        };
        // Each fired or errored policy's control, looked up once (not once per control).
        let control_of = |id: &String| self.policies.get(id).and_then(|i| i.control.as_deref());
        let fired: Vec<(&String, Option<&str>)> =
            fired.iter().map(|id| (id, control_of(id))).collect();
        let errored: Vec<((&String, &String), Option<&str>)> =
            errored.iter().map(|e| (e, control_of(e.0))).collect();
        for control in &set.controls {
            if resource.partial && !self.reads_any(control, resource) {
                // An orphan child carries only its own attributes: controls reading none
                // of them do not apply to it.
                continue;
            }
            let mine = Some(&**control);
            let errs: Vec<(&String, &String)> = errored
                .iter()
                .filter(|(_, c)| *c == mine)
                .map(|(e, _)| *e)
                .collect();
            let fails: Vec<&String> = fired
                .iter()
                .filter(|(_, c)| *c == mine)
                .map(|(id, _)| *id)
                .collect();
            let (outcome, policies, messages) = if !errs.is_empty() {
                (
                    Outcome::Error,
                    errs.iter().map(|(id, _)| (*id).clone()).collect(),
                    errs.iter()
                        .map(|(id, m)| format!("policy `{id}` could not be evaluated: {m}"))
                        .collect(),
                )
            } else if !fails.is_empty() {
                let judged = self.judge(resource, &fails);
                let mut e = Evaluation::new(
                    idx,
                    control.clone(),
                    Outcome::Fail,
                    fails.iter().map(|id| (*id).clone()).collect(),
                    judged.messages,
                );
                if let Some(d) = e.detail.as_mut() {
                    d.unknown = judged.unknown;
                    d.undetermined = judged.undetermined;
                }
                out.push(e);
                continue;
            } else if no_decision {
                (
                    Outcome::Error,
                    Vec::new(),
                    vec!["no policy decided (the base permit did not apply)".to_owned()],
                )
            } else {
                (Outcome::Pass, Vec::new(), Vec::new())
            };
            out.push(Evaluation::new(
                idx,
                control.clone(),
                outcome,
                policies,
                messages,
            ));
        }
    }

    /// Whether a failure is determined: some fired policy reads no unknown attribute and the
    /// resource certainly exists. An undetermined failure says what could not be known and why
    /// instead of asserting its policy's message.
    fn judge(&self, resource: &Resource, fired: &[&String]) -> Judged {
        let mut determined_by = Vec::new();
        let mut unknown: BTreeSet<String> = BTreeSet::new();
        let mut undetermined_messages = Vec::new();
        for id in fired {
            let Some(info) = self.policies.get(*id) else {
                continue;
            };
            let missing: Vec<(&String, String)> = info
                .reads()
                .iter()
                .filter_map(|a| match resource.attrs.get(a) {
                    Some(v) if v.is_unknown() => Some((a, unknown_reason(v))),
                    _ => None,
                })
                .collect();
            if missing.is_empty() {
                determined_by.push(info.message.clone());
            } else {
                let reasons: Vec<String> = missing
                    .iter()
                    .map(|(a, why)| format!("`{a}` is not known ({why})"))
                    .collect();
                undetermined_messages.push(format!(
                    "cannot determine whether {}: {}",
                    info.message,
                    reasons.join("; ")
                ));
                unknown.extend(missing.into_iter().map(|(a, _)| a.clone()));
            }
        }
        match (&resource.presence, determined_by.is_empty()) {
            (None, false) => Judged {
                messages: determined_by,
                unknown: Vec::new(),
                undetermined: false,
            },
            (Some(why), false) => Judged {
                messages: determined_by
                    .into_iter()
                    .map(|m| format!("if the resource exists ({why}): {m}"))
                    .collect(),
                unknown: Vec::new(),
                undetermined: true,
            },
            (_, true) => Judged {
                messages: undetermined_messages,
                unknown: unknown.into_iter().collect(),
                undetermined: true,
            },
        }
    }

    /// True when some policy of `control` reads an attribute the resource has.
    fn reads_any(&self, control: &str, resource: &Resource) -> bool {
        self.policies.values().any(|p| {
            p.control.as_deref() == Some(control)
                && p.reads().iter().any(|a| resource.attrs.contains_key(a))
        })
    }

    fn push_all(
        &self,
        out: &mut Vec<Evaluation>,
        resources: &[Resource],
        idx: usize,
        outcome: Outcome,
        policies: Vec<String>,
        messages: Vec<String>,
    ) {
        if let Some(set) = self.sets.get(&resources[idx].entity_type) {
            for c in &set.controls {
                out.push(Evaluation::new(
                    idx,
                    c.clone(),
                    outcome,
                    policies.clone(),
                    messages.clone(),
                ));
            }
        }
    }
}

/// A failure's determination (see [`Compiled::judge`]).
struct Judged {
    messages: Vec<String>,
    unknown: Vec<String>,
    undetermined: bool,
}

/// What an evaluation of some resources will do.
struct Plan<'c> {
    /// The resources whose type has controls.
    relevant: Vec<usize>,
    /// Each controlled type's Cedar name (`None`: not a valid name).
    type_names: FastMap<&'c str, Option<EntityTypeName>>,
    /// The standing grants, re-evaluated as the access requests they answer.
    grants: Vec<usize>,
}

impl<'c> Plan<'c> {
    fn of(compiled: &'c Compiled, resources: &[Resource], indices: &[usize]) -> Plan<'c> {
        Plan {
            relevant: indices
                .iter()
                .copied()
                .filter(|i| compiled.sets.contains_key(&resources[*i].entity_type))
                .collect(),
            type_names: compiled
                .sets
                .keys()
                .map(|t| (t.as_str(), EntityTypeName::from_str(t).ok()))
                .collect(),
            grants: indices
                .iter()
                .copied()
                .filter(|i| resources[*i].entity_type == access::GRANT_TYPE)
                .collect(),
        }
    }
}

/// Evaluations in parts merged into one vector, sorted by (resource index, control).
pub fn in_order(parts: Vec<Vec<Evaluation>>) -> Vec<Evaluation> {
    use rayon::prelude::*;
    // One copy into a vector of the exact size (results are many and small); each part is
    // freed as soon as it is copied.
    let total = parts.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    for part in parts {
        out.extend(part);
    }
    out.par_sort_unstable_by(|a, b| (a.resource, &a.control).cmp(&(b.resource, &b.control)));
    out
}

/// The reason an unknown value (or the first unknown inside it) is unknown.
fn unknown_reason(v: &crate::model::Value) -> String {
    use crate::model::Value;
    match v {
        Value::Unknown(u) => u.unknown.clone(),
        Value::Set(items) => items
            .iter()
            .find(|i| i.is_unknown())
            .map_or_else(String::new, unknown_reason),
        Value::Record(f) => f
            .values()
            .find(|i| i.is_unknown())
            .map_or_else(String::new, unknown_reason),
        _ => String::new(),
    }
}

/// The top-level attributes of `resource` a policy reads, from its JSON form (the Cedar AST
/// as data): every `.` and `has` whose left side is the variable `resource`.
fn resource_reads(p: &cedar_policy::Policy) -> Vec<String> {
    let mut uses = memo::Uses::new();
    if let Ok(json) = p.to_json() {
        memo::attribute_uses(&json, &mut uses);
    }
    let mut out: Vec<String> = uses.into_keys().collect();
    out.sort();
    out
}

/// Shared handle to a compiled library.
pub type SharedCompiled = Arc<Compiled>;

/// A hash map keyed by what a run derives from its input (memo keys, entity shapes, type
/// names): a fast hash, seeded per process (SipHash was a fifth of deciding the resources).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
