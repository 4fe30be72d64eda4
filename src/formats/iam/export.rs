//! `aws iam get-account-authorization-details` output: users (with groups, inline and attached
//! policies, permissions boundary), groups, roles (with trust policies) and managed policies
//! (their default version). Addresses are ARNs; inline policies are `<principal ARN>#<name>`.
//!
//! A managed policy attached to a principal is resolved from the export's `Policies`, then from
//! vouch's table of AWS managed policies; one that is in neither is unknown, and every fact it
//! could change is undetermined (the notes say how to export it).

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value as Json;

use super::{decode, spans};
use crate::error::Problem;
use crate::iam::document::{self, Origin};
use crate::iam::eval::{Compiled, compile_on};
use crate::iam::managed;
use crate::iam::principals::{self, Kind, Principal};
use crate::lines::LineIndex;
use crate::model::{Resource, Span, Value};
use crate::source::SourceFile;

struct Ctx<'a> {
    file: &'a SourceFile,
    /// The run's date: a grant whose time window has ended grants nothing.
    as_of_days: Option<i64>,
    lines: LineIndex,
    problems: Vec<Problem>,
    truncated: bool,
}

impl Ctx<'_> {
    fn span(&self, offset: usize) -> Span {
        self.lines.span(&self.file.path, &self.file.text, offset, 0)
    }

    /// A problem in the entry at `offset`.
    fn problem_at(&self, offset: usize, message: String) -> Problem {
        Problem::parse(&self.file.path, &self.file.text, offset, 0, message, "in this entry")
            .with_help("the file is read as `aws iam get-account-authorization-details` output (see docs/iam.md)")
    }
}

fn text<'a>(v: &'a Json, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Json::as_str)
}

fn list<'a>(v: &'a Json, key: &str) -> &'a [Json] {
    v.get(key)
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The account of an ARN (`arn:aws:iam::123456789012:role/x` → `123456789012`).
fn account(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

/// Reads an export.
pub fn parse(
    file: &SourceFile,
    v: &Json,
    as_of_days: Option<i64>,
) -> Result<Vec<Resource>, Vec<Problem>> {
    let mut cx = Ctx {
        file,
        as_of_days,
        lines: LineIndex::new(&file.text),
        problems: Vec::new(),
        truncated: v.get("IsTruncated").and_then(Json::as_bool) == Some(true),
    };
    let mut out = Vec::new();
    // Managed policies: their default version.
    let mut managed: BTreeMap<String, Arc<Compiled>> = BTreeMap::new();
    let offsets = spans::top_level(&file.text, "Policies");
    // Each policy is read and compiled on its own, in parallel; merged in the export's order.
    let read: Vec<ManagedRead> = list(v, "Policies")
        .par_iter()
        .enumerate()
        .map(|(i, p)| managed_policy(&cx, p, offsets.get(i).copied().unwrap_or(0)))
        .collect();
    for m in read {
        match m {
            ManagedRead::Problem(p) => cx.problems.push(p),
            ManagedRead::Policy {
                arn,
                compiled,
                resource,
            } => {
                out.extend(resource);
                managed.insert(arn, compiled);
            }
        }
    }
    let resolve = |arn: &str, truncated: bool| -> Arc<Compiled> {
        if let Some(c) = managed.get(arn) {
            return c.clone();
        }
        if let Some(c) = managed::by_arn(arn) {
            return c;
        }
        let why = if managed::managed_path(arn).is_some() {
            format!(
                "AWS managed policy `{arn}` is not in the export nor in vouch's table (export it with `aws iam get-account-authorization-details --filter AWSManagedPolicy`)"
            )
        } else if truncated {
            format!(
                "policy `{arn}` is not in the export (the export is truncated: `IsTruncated` is true)"
            )
        } else {
            format!("policy `{arn}` is not in the export")
        };
        principals::unknown_policy(managed::managed_name(arn).unwrap_or(arn), &why)
    };
    let mut list_of = Vec::new();
    for (key, kind) in [
        ("GroupDetailList", Kind::Group),
        ("UserDetailList", Kind::User),
        ("RoleDetailList", Kind::Role),
    ] {
        let offsets = spans::top_level(&file.text, key);
        let read: Vec<(Option<Principal>, Vec<Resource>, Vec<Problem>)> = list(v, key)
            .par_iter()
            .enumerate()
            .map(|(i, e)| {
                let at = offsets.get(i).copied().unwrap_or(0);
                let (mut inline, mut problems) = (Vec::new(), Vec::new());
                let p = principal(&cx, e, kind, at, &resolve, &mut inline, &mut problems);
                (p, inline, problems)
            })
            .collect();
        for (p, inline, problems) in read {
            list_of.extend(p);
            out.extend(inline);
            cx.problems.extend(problems);
        }
    }
    out.extend(principals::resources(list_of));
    for r in &mut out {
        file.path.clone_into(&mut r.scope);
    }
    if cx.problems.is_empty() {
        Ok(out)
    } else {
        Err(cx.problems)
    }
}

/// A managed policy of the export, read and compiled.
enum ManagedRead {
    Problem(Problem),
    Policy {
        arn: String,
        compiled: Arc<Compiled>,
        /// The policy as a resource, for a customer-managed policy (AWS managed ones are
        /// vouch's table's concern, not the account's).
        resource: Option<Resource>,
    },
}

/// Reads one entry of `Policies`: its default version, compiled.
fn managed_policy(cx: &Ctx<'_>, p: &Json, at: usize) -> ManagedRead {
    let file = cx.file;
    let Some(arn) = text(p, "Arn") else {
        return ManagedRead::Problem(cx.problem_at(
            at,
            format!("`{}`: a managed policy has no `Arn`", file.path),
        ));
    };
    let default = text(p, "DefaultVersionId");
    let version = list(p, "PolicyVersionList").iter().find(|pv| {
        pv.get("IsDefaultVersion").and_then(Json::as_bool) == Some(true)
            || (default.is_some() && text(pv, "VersionId") == default)
    });
    let line = cx.span(at).line;
    let origin = Origin {
        policy: arn.to_owned(),
        file: file.path.clone(),
        line,
    };
    let doc = match version.and_then(|pv| pv.get("Document")) {
        None => Err(format!(
            "the default version of `{arn}` is not in the export"
        )),
        Some(d) => decode(d).and_then(|d| document::read(&d, &origin, &[])),
    };
    let name = managed::managed_name(arn).unwrap_or(arn).to_owned();
    let aws_managed = managed::managed_path(arn).is_some();
    match doc {
        Ok(d) => {
            let c = Arc::new(compile_on(&name, &d, cx.as_of_days));
            let resource = (!aws_managed).then(|| {
                let mut r = Resource::new("Aws::IamPolicy", arn.to_owned(), cx.span(at));
                principals::policy_facts(&mut r, &d, &c);
                r.set("attached_to_user", Value::Bool(false));
                r
            });
            ManagedRead::Policy {
                arn: arn.to_owned(),
                compiled: c,
                resource,
            }
        }
        Err(why) => ManagedRead::Problem(cx.problem_at(
            at,
            format!(
                "`{}`: managed policy `{arn}` is not valid: {why}",
                file.path
            ),
        )),
    }
}

/// One user, group or role.
fn principal(
    cx: &Ctx<'_>,
    e: &Json,
    kind: Kind,
    at: usize,
    resolve: &(impl Fn(&str, bool) -> Arc<Compiled> + Sync),
    out: &mut Vec<Resource>,
    problems: &mut Vec<Problem>,
) -> Option<Principal> {
    let (name_key, inline_key) = match kind {
        Kind::User => ("UserName", "UserPolicyList"),
        Kind::Group => ("GroupName", "GroupPolicyList"),
        Kind::Role => ("RoleName", "RolePolicyList"),
    };
    let (Some(name), Some(arn)) = (text(e, name_key), text(e, "Arn")) else {
        problems.push(cx.problem_at(
            at,
            format!(
                "`{}`: an entry of the export has no `{name_key}` or `Arn`",
                cx.file.path
            ),
        ));
        return None;
    };
    let span = cx.span(at);
    let mut r = Resource::new(kind.entity_type(), arn.to_owned(), span.clone());
    if kind != Kind::Group {
        r.set("name", Value::str(name));
    }
    let mut p = Principal::new(
        kind,
        Resource::new(kind.entity_type(), String::new(), span.clone()),
    );
    p.keys = vec![arn.to_owned(), format!("{}:{name}", kind_word(kind))];
    p.account = account(arn);
    let mut direct: Vec<String> = Vec::new();
    // Inline policies: entities of their own, held by the principal.
    for ip in list(e, inline_key) {
        let Some(pname) = text(ip, "PolicyName") else {
            continue;
        };
        let address = format!("{arn}#{pname}");
        let origin = Origin {
            policy: address.clone(),
            file: cx.file.path.clone(),
            line: span.line,
        };
        match ip
            .get("PolicyDocument")
            .ok_or_else(|| "it has no `PolicyDocument`".to_owned())
            .and_then(decode)
            .and_then(|d| document::read(&d, &origin, &[]))
        {
            Ok(d) => {
                let c = Arc::new(compile_on(&format!("{name}#{pname}"), &d, cx.as_of_days));
                let mut pr = Resource::new("Aws::IamPolicy", address, span.clone());
                principals::policy_facts(&mut pr, &d, &c);
                pr.set("attached_to_user", Value::Bool(kind == Kind::User));
                out.push(pr);
                p.policies.push(c);
                direct.push(pname.to_owned());
            }
            Err(why) => problems.push(cx.problem_at(
                at,
                format!(
                    "`{}`: inline policy `{pname}` of `{arn}` is not valid: {why}",
                    cx.file.path
                ),
            )),
        }
    }
    let mut aws_managed = Vec::new();
    for mp in list(e, "AttachedManagedPolicies") {
        let Some(parn) = text(mp, "PolicyArn") else {
            continue;
        };
        p.policies.push(resolve(parn, cx.truncated));
        direct.push(text(mp, "PolicyName").unwrap_or(parn).to_owned());
        if let Some(n) = managed::managed_name(parn) {
            aws_managed.push(n.to_owned());
        }
    }
    if let Some(b) = e
        .pointer("/PermissionsBoundary/PermissionsBoundaryArn")
        .and_then(Json::as_str)
    {
        p.boundary = Some(Ok(resolve(b, cx.truncated)));
    }
    match kind {
        Kind::User => {
            p.groups = Ok(list(e, "GroupList")
                .iter()
                .filter_map(Json::as_str)
                .map(|g| format!("group:{g}"))
                .collect());
            r.set("root", Value::Bool(false));
            let why = "the authorization-details export does not list access keys, passwords or MFA devices (add the credential report: docs/iam.md)";
            r.set("has_access_key", Value::unknown(why));
            r.set("console_access", Value::unknown(why));
            r.set("mfa", Value::unknown(why));
            r.set("direct_policies", Value::string_set(direct));
        }
        Kind::Role => {
            r.set("managed_policies", Value::string_set(aws_managed));
            let origin = Origin {
                policy: format!("{arn} trust policy"),
                file: cx.file.path.clone(),
                line: span.line,
            };
            p.trust = Some(
                match e
                    .get("AssumeRolePolicyDocument")
                    .ok_or_else(|| "the role has no `AssumeRolePolicyDocument`".to_owned())
                    .and_then(decode)
                    .and_then(|d| document::read(&d, &origin, &[]))
                {
                    Ok(d) => d.without_ended_allows(cx.as_of_days),
                    Err(why) => {
                        problems.push(cx.problem_at(
                            at,
                            format!(
                                "`{}`: the trust policy of `{arn}` is not valid: {why}",
                                cx.file.path
                            ),
                        ));
                        document::Document::unknown(origin, why)
                    }
                },
            );
        }
        Kind::Group => {}
    }
    set_tags(e, &mut r);
    p.resource = r;
    Some(p)
}

fn kind_word(k: Kind) -> &'static str {
    match k {
        Kind::User => "user",
        Kind::Group => "group",
        Kind::Role => "role",
    }
}

/// Keeps `vouch:person` (the explicit link to an inventory person) from the tags.
fn set_tags(e: &Json, r: &mut Resource) {
    for t in list(e, "Tags") {
        if text(t, "Key") == Some(crate::iam::people::PERSON_TAG)
            && let Some(v) = text(t, "Value")
        {
            r.set("person", Value::str(v));
        }
    }
}
