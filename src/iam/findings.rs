//! Finding classes over a principal's (or one document's) permissions, as cloudsplaining's users
//! know them: full administrator, privilege escalation, data exfiltration, credentials exposure,
//! resource exposure, infrastructure modification; and, for a document, wildcard actions.
//!
//! Each class is a set of names (paths, actions or services) found for sure, plus the names that
//! depend on something not known, with the reasons. [`Facts::apply`] turns them into the entity
//! attributes the controls read: the definite set when it is not empty, else an unknown value
//! (with the reason) when something is undetermined, else the empty set. So a finding is
//! determined exactly when it rests on known facts, and never asserts an undetermined one.

use std::collections::{BTreeMap, BTreeSet};

use super::catalog::{ActionSet, Level, catalog};
use super::document::{Document, Effect};
use super::eval::{Permissions, Tri};
use super::paths;
use crate::model::{Resource, Value};

/// Read actions that copy data out (cloudsplaining's list plus snapshots and table reads).
pub const EXFILTRATION: &[&str] = &[
    "s3:GetObject",
    "s3:GetObjectVersion",
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "kms:Decrypt",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ExportTableToPointInTime",
    "rds:CreateDBSnapshot",
    "rds:CopyDBSnapshot",
    "ec2:CreateSnapshot",
];

/// Actions whose response carries credentials (cloudsplaining's credentials-exposure list).
pub const CREDENTIALS: &[&str] = &[
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "sts:AssumeRole",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "ecr:GetAuthorizationToken",
    "ecr-public:GetAuthorizationToken",
    "codeartifact:GetAuthorizationToken",
    "redshift:GetClusterCredentials",
    "redshift:GetClusterCredentialsWithIAM",
    "redshift-serverless:GetCredentials",
    "ec2:GetPasswordData",
    "lightsail:GetInstanceAccessDetails",
    "lightsail:GetRelationalDatabaseMasterUserPassword",
    "lightsail:DownloadDefaultKeyPair",
    "gamelift:GetInstanceAccess",
    "gamelift:RequestUploadCredentials",
    "cognito-identity:GetCredentialsForIdentity",
    "sso:GetRoleCredentials",
    "sagemaker:CreatePresignedDomainUrl",
];

/// The controls whose findings carry notes.
pub const FULL_ADMIN: &str = "iam-no-full-admin-policies";
pub const ESCALATION: &str = "iam-no-privilege-escalation";
pub const EXFILTRATION_CONTROL: &str = "iam-no-data-exfiltration";
pub const CREDENTIALS_CONTROL: &str = "iam-no-credentials-exposure";
pub const EXPOSURE_CONTROL: &str = "iam-no-resource-exposure";
pub const INFRASTRUCTURE_CONTROL: &str = "iam-no-infrastructure-modification";
pub const WILDCARD_CONTROL: &str = "iam-no-wildcard-actions";

/// Names found for sure, and names that depend on something not known (with the reasons).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Class {
    pub definite: BTreeSet<String>,
    pub undetermined: BTreeMap<String, Vec<String>>,
}

impl Class {
    fn add(&mut self, name: &str, state: Tri, why: impl FnOnce() -> Vec<String>) {
        match state {
            Tri::Yes => {
                self.definite.insert(name.to_owned());
            }
            Tri::Maybe => {
                self.undetermined.insert(name.to_owned(), why());
            }
            Tri::No => {}
        }
    }

    /// The attribute value (see the module doc).
    pub fn value(&self, what: &str) -> Value {
        if !self.definite.is_empty() || self.undetermined.is_empty() {
            return Value::string_set(self.definite.iter().cloned());
        }
        Value::unknown(summary(what, &self.undetermined))
    }
}

/// "`PassRole+EC2` depends on …" (the first reason; the notes list them all).
fn summary(what: &str, undetermined: &BTreeMap<String, Vec<String>>) -> String {
    let names: Vec<&str> = undetermined.keys().map(String::as_str).take(3).collect();
    let more = if undetermined.len() > 3 { ", …" } else { "" };
    let reason = undetermined
        .values()
        .flat_map(|v| v.first())
        .next()
        .map_or_else(|| "something is not known".to_owned(), Clone::clone);
    format!(
        "{what} `{}`{more} cannot be determined: {reason}",
        names.join("`, `")
    )
}

/// A boolean fact with its reasons when undetermined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub state: Tri,
    pub why: Vec<String>,
}

impl Default for Flag {
    fn default() -> Self {
        Flag {
            state: Tri::No,
            why: Vec::new(),
        }
    }
}

impl Flag {
    /// The attribute value.
    pub fn value(&self, what: &str) -> Value {
        match self.state {
            Tri::Yes => Value::Bool(true),
            Tri::No => Value::Bool(false),
            Tri::Maybe => Value::unknown(match self.why.first() {
                Some(w) => format!("whether {what} cannot be determined: {w}"),
                None => format!("whether {what} cannot be determined"),
            }),
        }
    }
}

/// What a principal (or a document on its own) is found to allow.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub full_admin: Flag,
    pub escalation: Class,
    pub exfiltration: Class,
    pub credentials: Class,
    pub exposure: Class,
    pub infrastructure: Class,
    /// Control id → lines explaining its finding.
    pub notes: BTreeMap<String, Vec<String>>,
}

/// Share of the resource-scoped actions a principal must hold (besides every resource-scoped IAM
/// action) to be an administrator in all but name: `NotAction` of a few actions, `NotResource`
/// of a few resources, `Resource: "arn:*:*:*:*:*"` (which leaves out only the actions that take
/// no resource, where `*` is the sole resource).
const ADMIN_SHARE: f64 = 0.99;

/// (resource-scoped actions, resource-scoped IAM actions).
fn scoped_sets() -> &'static (ActionSet, ActionSet) {
    static SETS: std::sync::OnceLock<(ActionSet, ActionSet)> = std::sync::OnceLock::new();
    SETS.get_or_init(|| {
        let cat = catalog();
        let mut scoped = cat.empty_set();
        for (i, a) in cat.actions.iter().enumerate() {
            if !cat.resources(a).is_empty() {
                scoped.insert(i as u32);
            }
        }
        let mut iam = cat
            .service("iam")
            .map(|s| cat.service_set(s))
            .unwrap_or_else(|| cat.empty_set());
        iam.intersect_with(&scoped);
        (scoped, iam)
    })
}

fn admin_state(set: &ActionSet) -> bool {
    let (scoped, iam) = scoped_sets();
    if iam.is_empty() || !iam.is_subset(set) {
        return false;
    }
    let mut held = set.clone();
    held.intersect_with(scoped);
    held.count() as f64 >= ADMIN_SHARE * scoped.count() as f64
}

/// Computes the classes from permissions.
pub fn analyse(perms: &Permissions) -> Facts {
    let cat = catalog();
    let mut f = Facts::default();
    // Full administrator.
    f.full_admin.state = if admin_state(&perms.definite) {
        Tri::Yes
    } else if admin_state(&perms.possible) {
        Tri::Maybe
    } else {
        Tri::No
    };
    let pass = super::eval::passrole();
    match f.full_admin.state {
        Tri::Yes => {
            let by = pass.map(|p| perms.granted_by(p)).unwrap_or_default();
            note(
                &mut f.notes,
                FULL_ADMIN,
                format!(
                    "every action on every resource, granted by {}",
                    by.join(", ")
                ),
            );
        }
        Tri::Maybe => {
            f.full_admin.why = pass
                .map(|p| perms.undetermined_because(p))
                .unwrap_or_default();
            for w in &f.full_admin.why {
                note(
                    &mut f.notes,
                    FULL_ADMIN,
                    format!("may be a full administrator (not determined): {w}"),
                );
            }
        }
        Tri::No => {}
    }
    // Escalation paths (an administrator has nothing left to escalate to).
    for p in paths::PATHS
        .iter()
        .filter(|_| f.full_admin.state != Tri::Yes)
    {
        let state = paths::state(p, perms);
        f.escalation.add(p.name, state, || {
            paths::actions(p)
                .iter()
                .filter_map(|a| cat.find(a))
                .flat_map(|id| perms.undetermined_because(id))
                .collect()
        });
        match state {
            Tri::Yes => {
                let steps: Vec<String> = paths::actions(p)
                    .iter()
                    .filter_map(|a| cat.find(a).map(|id| (a, id)))
                    .filter(|(_, id)| perms.allows(*id) == Tri::Yes)
                    .map(|(a, id)| format!("{a} by {}", perms.granted_by(id).join(", ")))
                    .collect();
                note(
                    &mut f.notes,
                    ESCALATION,
                    format!("{} ({}): {}", p.name, p.how, steps.join("; ")),
                );
            }
            Tri::Maybe => {
                let why = f
                    .escalation
                    .undetermined
                    .get(p.name)
                    .cloned()
                    .unwrap_or_default();
                note(
                    &mut f.notes,
                    ESCALATION,
                    format!(
                        "{} may be open (not determined): {}",
                        p.name,
                        why.join("; ")
                    ),
                );
            }
            Tri::No => {}
        }
    }
    // Named actions: data exfiltration, credentials exposure.
    for (class, list, control) in [
        (
            &mut f.exfiltration,
            &lookup().exfiltration,
            EXFILTRATION_CONTROL,
        ),
        (
            &mut f.credentials,
            &lookup().credentials,
            CREDENTIALS_CONTROL,
        ),
    ] {
        for (a, id) in list.iter().copied() {
            let state = perms.allows(id);
            class.add(a, state, || perms.undetermined_because(id));
            match state {
                Tri::Yes => note(
                    &mut f.notes,
                    control,
                    format!(
                        "{a} on every resource, by {}",
                        perms.granted_by(id).join(", ")
                    ),
                ),
                Tri::Maybe => note(
                    &mut f.notes,
                    control,
                    format!(
                        "{a} may be allowed on every resource (not determined): {}",
                        perms.undetermined_because(id).join("; ")
                    ),
                ),
                Tri::No => {}
            }
        }
    }
    // Services: resource exposure (permissions management), infrastructure modification (write
    // access on every resource, for actions that can be scoped to resources).
    let lookup = lookup();
    let by_service =
        |set: &ActionSet, class: &ActionSet| -> BTreeMap<String, (Vec<String>, usize)> {
            let mut hits = set.clone();
            hits.intersect_with(class);
            let mut out: BTreeMap<String, (Vec<String>, usize)> = BTreeMap::new();
            // Ids are in service order: one entry per run of a service.
            let mut run: Option<(u32, Vec<String>, usize)> = None;
            for id in hits.iter() {
                let Some(a) = cat.action(id) else { continue };
                match &mut run {
                    Some((svc, shown, count)) if *svc == a.service => {
                        if shown.len() < SAMPLE {
                            shown.push(cat.name(a).to_owned());
                        }
                        *count += 1;
                    }
                    _ => {
                        if let Some((svc, shown, count)) = run.take()
                            && let Some(s) = cat.services.get(svc as usize)
                        {
                            out.insert(s.prefix.clone(), (shown, count));
                        }
                        run = Some((a.service, vec![cat.name(a).to_owned()], 1));
                    }
                }
            }
            if let Some((svc, shown, count)) = run
                && let Some(s) = cat.services.get(svc as usize)
            {
                out.insert(s.prefix.clone(), (shown, count));
            }
            out
        };
    let mut maybe_only = perms.possible.clone();
    maybe_only.subtract(&perms.definite);
    let exposure = by_service(&perms.definite, &lookup.permissions_management);
    let exposure_maybe = by_service(&maybe_only, &lookup.permissions_management);
    let infra = by_service(&perms.definite, &lookup.scoped_writes);
    let infra_maybe = by_service(&maybe_only, &lookup.scoped_writes);
    for (class, def, maybe, control) in [
        (&mut f.exposure, exposure, exposure_maybe, EXPOSURE_CONTROL),
        (
            &mut f.infrastructure,
            infra,
            infra_maybe,
            INFRASTRUCTURE_CONTROL,
        ),
    ] {
        if !def.is_empty() {
            class.definite.extend(def.keys().cloned());
            note(&mut f.notes, control, services_line(&def, ""));
        }
        let maybe: BTreeMap<String, (Vec<String>, usize)> = maybe
            .into_iter()
            .filter(|(svc, _)| !def.contains_key(svc))
            .collect();
        if let Some(first) = maybe.values().next() {
            // The reasons are the same for every action of a statement: read them once.
            let why: Vec<String> = first
                .0
                .first()
                .and_then(|a| cat.find(a))
                .map(|id| perms.undetermined_because(id))
                .unwrap_or_default();
            note(
                &mut f.notes,
                control,
                format!(
                    "{} (not determined: {})",
                    services_line(&maybe, "may be open: "),
                    why.join("; ")
                ),
            );
            for svc in maybe.keys() {
                class.undetermined.insert(svc.clone(), why.clone());
            }
        }
    }
    f
}

/// How many actions a note shows per service, and how many services.
const SAMPLE: usize = 4;
const SERVICES_SHOWN: usize = 8;

/// `12 services, 340 actions: ec2 (ec2:RunInstances, … and 210 more); …; and 4 more services`.
fn services_line(services: &BTreeMap<String, (Vec<String>, usize)>, prefix: &str) -> String {
    let actions: usize = services.values().map(|v| v.1).sum();
    let shown: Vec<String> = services
        .iter()
        .take(SERVICES_SHOWN)
        .map(|(svc, v)| format!("{svc} ({})", sample(v)))
        .collect();
    let more = services.len().saturating_sub(SERVICES_SHOWN);
    let tail = if more > 0 {
        format!("; and {more} more services")
    } else {
        String::new()
    };
    format!(
        "{prefix}{} service{}, {actions} action{}: {}{tail}",
        services.len(),
        if services.len() == 1 { "" } else { "s" },
        if actions == 1 { "" } else { "s" },
        shown.join("; ")
    )
}

/// The first few actions of a service, with the count.
fn sample((shown, count): &(Vec<String>, usize)) -> String {
    if *count > shown.len() {
        format!("{} and {} more", shown.join(", "), count - shown.len())
    } else {
        shown.join(", ")
    }
}

/// Action ids and sets every analysis reads, computed once.
struct Lookup {
    permissions_management: ActionSet,
    /// Write actions that take a resource type.
    scoped_writes: ActionSet,
    exfiltration: Vec<(&'static str, u32)>,
    credentials: Vec<(&'static str, u32)>,
}

fn lookup() -> &'static Lookup {
    static LOOKUP: std::sync::OnceLock<Lookup> = std::sync::OnceLock::new();
    LOOKUP.get_or_init(|| {
        let cat = catalog();
        let mut permissions_management = cat.empty_set();
        let mut scoped_writes = cat.empty_set();
        for (i, a) in cat.actions.iter().enumerate() {
            match a.level {
                Level::PermissionsManagement => permissions_management.insert(i as u32),
                Level::Write if !cat.resources(a).is_empty() => scoped_writes.insert(i as u32),
                _ => {}
            }
        }
        let ids = |list: &[&'static str]| {
            list.iter()
                .filter_map(|a| cat.find(a).map(|id| (*a, id)))
                .collect()
        };
        Lookup {
            permissions_management,
            scoped_writes,
            exfiltration: ids(EXFILTRATION),
            credentials: ids(CREDENTIALS),
        }
    })
}

/// Adds a note line for a control.
pub fn note(notes: &mut BTreeMap<String, Vec<String>>, control: &str, line: String) {
    match notes.get_mut(control) {
        Some(lines) => lines.push(line),
        None => {
            notes.insert(control.to_owned(), vec![line]);
        }
    }
}

impl Facts {
    /// Sets the class attributes and notes on a principal or policy resource.
    pub fn apply(&self, r: &mut Resource) {
        r.set(
            "full_admin",
            self.full_admin.value("it is a full administrator"),
        );
        r.set(
            "escalation_paths",
            self.escalation.value("privilege-escalation path"),
        );
        r.set(
            "exfiltration_actions",
            self.exfiltration.value("data-exfiltration action"),
        );
        r.set(
            "credentials_exposure_actions",
            self.credentials.value("credentials-exposure action"),
        );
        r.set(
            "resource_exposure_services",
            self.exposure.value("resource exposure through"),
        );
        r.set(
            "infrastructure_modification_services",
            self.infrastructure
                .value("write access on every resource of"),
        );
        for (control, lines) in &self.notes {
            r.notes
                .entry(control.clone())
                .or_default()
                .extend(lines.iter().cloned());
        }
    }

    /// Marks every class unknown (nothing about the principal can be read).
    pub fn unknown(r: &mut Resource, reason: &str) {
        for a in [
            "full_admin",
            "escalation_paths",
            "exfiltration_actions",
            "credentials_exposure_actions",
            "resource_exposure_services",
            "infrastructure_modification_services",
        ] {
            r.set(a, Value::unknown(reason));
        }
    }
}

/// Wildcards of one document: `wildcard_action` (some `Allow` grants every action: `*`, `*:*`,
/// `NotAction`) and `wildcard_services` (services all of whose actions one wildcard pattern
/// grants: `s3:*`, `s3:**`, `s3:?*`). Resources do not matter here.
pub fn wildcards(doc: &Document, r: &mut Resource) {
    let cat = catalog();
    let all = cat.all();
    let mut action = Flag::default();
    let mut services = Class::default();
    if let Some(why) = &doc.unknown {
        action = Flag {
            state: Tri::Maybe,
            why: vec![why.clone()],
        };
        services
            .undetermined
            .insert("*".to_owned(), vec![why.clone()]);
    }
    for s in &doc.statements {
        if s.effect == Ok(Effect::Deny) {
            continue;
        }
        let sure = s.effect.is_ok() && s.condition.unknown.is_none();
        let mut state = Tri::No;
        if s.action.negated {
            state = Tri::Yes;
        }
        for p in &s.action.items {
            if !super::glob::has_wildcard(p) {
                continue;
            }
            let set = cat.expand(p);
            if set == all {
                state = Tri::Yes;
                continue;
            }
            for svc in &cat.services {
                if svc.actions.is_empty() || !set.contains(svc.actions.start) {
                    continue;
                }
                if svc.actions.clone().all(|id| set.contains(id)) {
                    let st = if sure { Tri::Yes } else { Tri::Maybe };
                    services.add(&svc.prefix, st, || {
                        vec![format!(
                            "the `Effect` or `Condition` of {} is not known",
                            s.label()
                        )]
                    });
                }
            }
        }
        if !s.action.unknown.is_empty() {
            let why = format!(
                "an entry of the `Action` of {} is not known: {}",
                s.label(),
                s.action.unknown.join("; ")
            );
            state = state.max(Tri::Maybe);
            action.why.push(why.clone());
            services
                .undetermined
                .entry("*".to_owned())
                .or_insert_with(|| vec![why]);
        }
        if state == Tri::Yes && !sure {
            state = Tri::Maybe;
            action.why.push(format!(
                "the `Effect` or `Condition` of {} is not known",
                s.label()
            ));
        }
        if state == Tri::Yes {
            note(
                &mut r.notes,
                WILDCARD_CONTROL,
                format!("every action, by {}", s.label()),
            );
        }
        action.state = action.state.max(state);
    }
    for svc in &services.definite {
        note(
            &mut r.notes,
            WILDCARD_CONTROL,
            format!("every action of `{svc}`"),
        );
    }
    r.set("wildcard_action", action.value("it grants every action"));
    r.set("wildcard_services", services.value("service wildcard"));
}
