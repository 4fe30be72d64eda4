//! AWS IAM policy documents: standalone JSON files and documents inline in Terraform.
//!
//! [`analyse`] derives the facts controls read (full admin, wildcards, privilege-escalation
//! paths); [`trust`] reads a role's trust policy; [`public_principal`] tells whether a resource
//! policy lets anyone in. Action matching is case-insensitive with `*` and `?` wildcards, and an
//! unconditional `Deny` on every resource removes what it names.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::error::Problem;
use crate::model::{Resource, Span, Value};
use crate::source::SourceFile;

/// Known IAM privilege-escalation paths (Rhino Security Labs): each opens when every action in
/// it is allowed. Named by their actions joined with `+`.
pub const ESCALATION_PATHS: &[&[&str]] = &[
    &["iam:CreatePolicyVersion"],
    &["iam:SetDefaultPolicyVersion"],
    &["iam:PassRole", "ec2:RunInstances"],
    &[
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:InvokeFunction",
    ],
    &["iam:PassRole", "cloudformation:CreateStack"],
    &["iam:PassRole", "glue:CreateDevEndpoint"],
    &["iam:CreateAccessKey"],
    &["iam:CreateLoginProfile"],
    &["iam:UpdateLoginProfile"],
    &["iam:AttachUserPolicy"],
    &["iam:AttachGroupPolicy"],
    &["iam:AttachRolePolicy"],
    &["iam:PutUserPolicy"],
    &["iam:PutGroupPolicy"],
    &["iam:PutRolePolicy"],
    &["iam:AddUserToGroup"],
    &["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"],
    &["lambda:UpdateFunctionCode"],
];

/// What a policy document grants, as the `Aws::IamPolicy` attributes need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyFacts {
    /// An Allow with Action `*` (or `*:*`) on Resource `*`.
    pub full_admin: bool,
    /// Some Allow has Action `*`.
    pub wildcard_action: bool,
    /// Services granted as `svc:*`, lowercase.
    pub wildcard_services: BTreeSet<String>,
    /// Escalation paths the document opens.
    pub escalation_paths: BTreeSet<String>,
}

/// What a role's trust policy lets assume it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustFacts {
    /// An Allow for principal `*` (or `{"AWS": "*"}`) without a Condition.
    pub any_principal: bool,
    /// An Allow for an AWS account principal without an `sts:ExternalId` condition.
    pub external_without_condition: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

/// One statement, read.
#[derive(Debug)]
struct Statement<'a> {
    effect: Effect,
    /// `Action` patterns, lowercase (`None` when the statement uses `NotAction`).
    actions: Option<Vec<String>>,
    not_actions: Vec<String>,
    /// `Resource` entries (empty when absent or `NotResource`).
    resources: Vec<String>,
    principal: Option<&'a Json>,
    condition: Option<&'a Json>,
}

/// Reads a policy document (or a JSON string holding one).
fn statements(doc: &Json) -> Result<Vec<Statement<'_>>, String> {
    let obj = doc
        .as_object()
        .ok_or_else(|| "the policy document is not a JSON object".to_owned())?;
    let list: Vec<&Json> = match obj.get("Statement") {
        Some(Json::Array(a)) => a.iter().collect(),
        Some(s @ Json::Object(_)) => vec![s],
        Some(_) => return Err("`Statement` must be an object or an array of objects".to_owned()),
        None => return Err("the policy document has no `Statement`".to_owned()),
    };
    list.into_iter().map(statement).collect()
}

fn statement(s: &Json) -> Result<Statement<'_>, String> {
    let s = s
        .as_object()
        .ok_or_else(|| "`Statement` must be an object or an array of objects".to_owned())?;
    let effect = match s.get("Effect").and_then(Json::as_str) {
        Some(e) if e.eq_ignore_ascii_case("allow") => Effect::Allow,
        Some(e) if e.eq_ignore_ascii_case("deny") => Effect::Deny,
        Some(e) => return Err(format!("`Effect` must be `Allow` or `Deny`, not `{e}`")),
        None => return Err("a statement has no `Effect`".to_owned()),
    };
    let lower = |key: &str| -> Result<Option<Vec<String>>, String> {
        string_list(s.get(key), key)
            .map(|o| o.map(|v| v.into_iter().map(|a| a.to_ascii_lowercase()).collect()))
    };
    let actions = lower("Action")?;
    let not_actions = lower("NotAction")?;
    if actions.is_none() && not_actions.is_none() {
        return Err("a statement has neither `Action` nor `NotAction`".to_owned());
    }
    Ok(Statement {
        effect,
        actions,
        not_actions: not_actions.unwrap_or_default(),
        resources: string_list(s.get("Resource"), "Resource")?.unwrap_or_default(),
        principal: s.get("Principal"),
        condition: s
            .get("Condition")
            .filter(|c| c.as_object().is_none_or(|o| !o.is_empty())),
    })
}

fn string_list(v: Option<&Json>, key: &str) -> Result<Option<Vec<String>>, String> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Json::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("`{key}` must be a string or an array of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(format!("`{key}` must be a string or an array of strings")),
    }
}

/// Case-insensitive glob match with `*` (any run) and `?` (one character); `pattern` and
/// `action` are already lowercase.
fn glob(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.as_bytes(), action.as_bytes());
    let (mut pi, mut ai) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ai < a.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some(pi);
                mark = ai;
                pi += 1;
            }
            Some(c) if *c == b'?' || *c == a[ai] => {
                pi += 1;
                ai += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ai = mark;
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == b'*'))
}

impl Statement<'_> {
    /// True when the statement's action clause covers `action` (lowercase).
    fn covers(&self, action: &str) -> bool {
        match &self.actions {
            Some(patterns) => patterns.iter().any(|p| glob(p, action)),
            None => !self.not_actions.iter().any(|p| glob(p, action)),
        }
    }

    fn on_every_resource(&self) -> bool {
        self.resources.iter().any(|r| r == "*")
    }
}

/// True when some Allow covers `action` and no unconditional Deny on `*` removes it.
fn allowed(stmts: &[Statement<'_>], action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    stmts
        .iter()
        .any(|s| s.effect == Effect::Allow && s.covers(&action))
        && !stmts.iter().any(|s| {
            s.effect == Effect::Deny
                && s.condition.is_none()
                && s.on_every_resource()
                && s.covers(&action)
        })
}

/// Derives the facts of a policy document.
pub fn analyse(doc: &Json) -> Result<PolicyFacts, String> {
    let stmts = statements(doc)?;
    let mut facts = PolicyFacts::default();
    for s in stmts.iter().filter(|s| s.effect == Effect::Allow) {
        let Some(actions) = &s.actions else { continue };
        let star = actions.iter().any(|a| a == "*" || a == "*:*");
        facts.wildcard_action |= star;
        facts.full_admin |= star && s.on_every_resource();
        for a in actions {
            if let Some(svc) = a.strip_suffix(":*")
                && !svc.is_empty()
                && svc != "*"
            {
                facts.wildcard_services.insert(svc.to_owned());
            }
        }
    }
    for path in ESCALATION_PATHS {
        if path.iter().all(|a| allowed(&stmts, a)) {
            facts.escalation_paths.insert(path.join("+"));
        }
    }
    Ok(facts)
}

/// Sets the derived `Aws::IamPolicy` attributes from the facts.
pub fn apply_facts(facts: &PolicyFacts, r: &mut Resource) {
    r.set("full_admin", Value::Bool(facts.full_admin));
    r.set("wildcard_action", Value::Bool(facts.wildcard_action));
    r.set(
        "wildcard_services",
        Value::string_set(facts.wildcard_services.iter().cloned()),
    );
    r.set(
        "escalation_paths",
        Value::string_set(facts.escalation_paths.iter().cloned()),
    );
}

/// Marks every derived `Aws::IamPolicy` attribute unknown (the document is not known).
pub fn unknown_facts(r: &mut Resource, reason: &str) {
    for a in [
        "full_admin",
        "wildcard_action",
        "wildcard_services",
        "escalation_paths",
    ] {
        r.set(a, Value::unknown(reason));
    }
}

/// True when the principal is everyone: `"*"` or `{"AWS": "*"}` (or a list holding `"*"`).
fn is_anyone(principal: &Json) -> bool {
    match principal {
        Json::String(s) => s == "*",
        Json::Object(o) => o.get("AWS").is_some_and(|aws| match aws {
            Json::String(s) => s == "*",
            Json::Array(a) => a.iter().any(|x| x.as_str() == Some("*")),
            _ => false,
        }),
        _ => false,
    }
}

/// True when an Allow statement lets any principal in without a Condition (a public resource
/// policy).
pub fn public_principal(doc: &Json) -> Result<bool, String> {
    Ok(statements(doc)?.iter().any(|s| {
        s.effect == Effect::Allow && s.condition.is_none() && s.principal.is_some_and(is_anyone)
    }))
}

/// Reads a role's trust policy.
///
/// Every AWS account principal (an account id or an `arn:aws:iam::<account>:…` ARN) counts as
/// another account, since a static file does not know the role's own account; a principal
/// built from `aws_caller_identity` is the same account. A condition on `sts:ExternalId`
/// satisfies the external-id requirement.
pub fn trust(doc: &Json) -> Result<TrustFacts, String> {
    let mut facts = TrustFacts::default();
    for s in statements(doc)?
        .iter()
        .filter(|s| s.effect == Effect::Allow)
    {
        let Some(p) = s.principal else { continue };
        if is_anyone(p) {
            facts.any_principal |= s.condition.is_none();
            continue;
        }
        let accounts = p
            .get("AWS")
            .map(|aws| match aws {
                Json::String(x) => vec![x.as_str()],
                Json::Array(a) => a.iter().filter_map(Json::as_str).collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        let external = accounts.iter().any(|a| !a.contains("aws_caller_identity"));
        let has_external_id = s.condition.is_some_and(|c| {
            c.to_string()
                .to_ascii_lowercase()
                .contains("sts:externalid")
        });
        facts.external_without_condition |= external && !has_external_id;
    }
    Ok(facts)
}

/// Reads a standalone IAM policy document file.
pub fn parse_file(file: &SourceFile, doc: &Json) -> Result<Vec<Resource>, Vec<Problem>> {
    match analyse(doc) {
        Ok(facts) => {
            let mut r = Resource::new(
                "Aws::IamPolicy",
                format!("iam:{}", file.path),
                Span::file_start(&file.path),
            );
            apply_facts(&facts, &mut r);
            r.set("attached_to_user", Value::Bool(false));
            Ok(vec![r])
        }
        Err(why) => {
            let offset = file.text.find("\"Statement\"").unwrap_or(0);
            Err(vec![Problem::parse(
                &file.path,
                &file.text,
                offset,
                "\"Statement\"".len(),
                format!("`{}` is not a valid IAM policy: {why}", file.path),
                "in this statement",
            )])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("iam:pass*", "iam:passrole"));
        assert!(glob("*", "iam:passrole"));
        assert!(glob("iam:*role", "iam:passrole"));
        assert!(glob("iam:p?ssrole", "iam:passrole"));
        assert!(!glob("iam:pass", "iam:passrole"));
        assert!(!glob("s3:*", "iam:passrole"));
    }
}
