//! Conditions that restrict and conditions that do not.
//!
//! A statement is narrowed only by a condition that limits *who* may use it (for trust and
//! resource policies: `aws:PrincipalOrgID`, `aws:SourceArn`, …) or *what* it applies to (for
//! identity policies: `aws:ResourceTag/…`, `iam:PolicyARN`, `iam:PassedToService`, …), with an
//! operator that selects (`StringEquals`, `ArnLike`, `IpAddress`, …, not their `Not` forms, not
//! `…IfExists`, not `ForAllValues:`, which all hold when the key is absent) and values that are
//! not all wildcards. Transport, MFA, time, region or user-agent conditions never make a grant
//! narrower or a public principal private. docs/iam.md has the table.

use super::document::{Condition, Conditions};
use super::glob;

/// What a condition key limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyClass {
    /// The caller: principal, organisation, source resource or network.
    Who,
    /// The resource or request target an identity policy's grant applies to.
    What,
    /// `iam:PassedToService`: which service a role may be passed to.
    PassedToService,
    /// Nothing that narrows a grant or a principal (transport, MFA, time, region, tags sent).
    Neither,
}

/// Global keys that limit who calls (AWS's definition of a non-public policy, S3 User Guide).
const WHO: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalservicename",
    "aws:userid",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:vpcsourceip",
];

/// Global and IAM keys that limit what a grant applies to.
const WHAT: &[&str] = &[
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "iam:policyarn",
    "iam:permissionsboundary",
    "iam:associatedresourcearn",
    "iam:awsservicename",
    "iam:organizationspolicyid",
];

/// Service-specific key names that select resources (`lambda:FunctionArn`, `s3:prefix`,
/// `kms:ViaService`, `secretsmanager:SecretId`, `ec2:ResourceTag/…`).
const WHAT_SUFFIXES: &[&str] = &[
    "arn",
    "arns",
    "id",
    "ids",
    "name",
    "names",
    "prefix",
    "viaservice",
    "calleraccount",
    "leadingkeys",
];

/// The class of a condition key (any case).
pub fn key_class(key: &str) -> KeyClass {
    let k = key.to_ascii_lowercase();
    if k == "iam:passedtoservice" {
        return KeyClass::PassedToService;
    }
    if WHO.contains(&k.as_str()) {
        return KeyClass::Who;
    }
    if WHAT.contains(&k.as_str())
        || k.starts_with("aws:resourcetag/")
        || k.starts_with("iam:resourcetag/")
    {
        return KeyClass::What;
    }
    let Some((service, name)) = k.split_once(':') else {
        return KeyClass::Neither;
    };
    // Every other global, IAM or STS key: transport, MFA, time, region, tags sent, sessions.
    if matches!(service, "aws" | "iam" | "sts") {
        return KeyClass::Neither;
    }
    let base = name.split('/').next().unwrap_or(name);
    if name.contains("resourcetag") || name.contains("existingobjecttag") {
        return KeyClass::What;
    }
    if WHAT_SUFFIXES.iter().any(|s| base.ends_with(s)) {
        KeyClass::What
    } else {
        KeyClass::Neither
    }
}

/// A condition operator, read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Operator {
    /// `ForAllValues:` (holds when the key is absent or empty).
    for_all: bool,
    /// `ForAnyValue:`.
    for_any: bool,
    /// `…IfExists` (holds when the key is absent).
    if_exists: bool,
    /// Lowercase base name (`stringequals`).
    base: String,
}

fn operator(op: &str) -> Operator {
    let lower = op.to_ascii_lowercase();
    let (for_all, for_any, rest) = if let Some(r) = lower.strip_prefix("forallvalues:") {
        (true, false, r)
    } else if let Some(r) = lower.strip_prefix("foranyvalue:") {
        (false, true, r)
    } else {
        (false, false, lower.as_str())
    };
    let (if_exists, base) = match rest.strip_suffix("ifexists") {
        Some(b) => (true, b),
        None => (false, rest),
    };
    Operator {
        for_all,
        for_any,
        if_exists,
        base: base.to_owned(),
    }
}

/// How an operator selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sense {
    /// Equality or match: the key must be one of the values.
    Positive,
    /// `Not…`: the key must be none of the values.
    Negative,
    /// `Null` and comparisons that do not select a set of callers or targets.
    Other,
}

fn sense(base: &str) -> Sense {
    match base {
        "stringequals"
        | "stringequalsignorecase"
        | "stringlike"
        | "arnequals"
        | "arnlike"
        | "ipaddress"
        | "numericequals"
        | "binaryequals"
        | "bool"
        | "dateequals" => Sense::Positive,
        "stringnotequals"
        | "stringnotequalsignorecase"
        | "stringnotlike"
        | "arnnotequals"
        | "arnnotlike"
        | "notipaddress"
        | "numericnotequals"
        | "datenotequals" => Sense::Negative,
        _ => Sense::Other,
    }
}

/// True when the values select something narrower than everything.
fn narrowing(values: &[String]) -> bool {
    values.is_empty()
        || !values
            .iter()
            .any(|v| v.bytes().all(|b| b == b'*') || v == "0.0.0.0/0" || v == "::/0")
}

/// The services a role may be passed to under `iam:PassedToService` conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceSet {
    /// Only services matching one of these patterns (lowercase).
    Only(Vec<String>),
    /// Every service except those matching these patterns.
    AllBut(Vec<String>),
}

impl ServiceSet {
    /// True when `service` (`ec2.amazonaws.com`) is in the set.
    pub fn allows(&self, service: &str) -> bool {
        let hit = |ps: &[String]| {
            ps.iter()
                .any(|p| glob::matches(p.as_bytes(), service.as_bytes()))
        };
        match self {
            ServiceSet::Only(ps) => hit(ps),
            ServiceSet::AllBut(ps) => !hit(ps),
        }
    }

    fn and(self, other: ServiceSet) -> ServiceSet {
        match (self, other) {
            (ServiceSet::Only(a), ServiceSet::Only(b)) => ServiceSet::Only(
                a.into_iter()
                    .filter(|x| {
                        b.iter()
                            .any(|y| glob::intersects(x.as_bytes(), y.as_bytes()))
                    })
                    .collect(),
            ),
            (ServiceSet::Only(a), ServiceSet::AllBut(b))
            | (ServiceSet::AllBut(b), ServiceSet::Only(a)) => ServiceSet::Only(
                a.into_iter()
                    .filter(|x| !b.iter().any(|y| glob::matches(y.as_bytes(), x.as_bytes())))
                    .collect(),
            ),
            (ServiceSet::AllBut(mut a), ServiceSet::AllBut(b)) => {
                a.extend(b);
                ServiceSet::AllBut(a)
            }
        }
    }
}

/// What the conditions of an identity policy's `Allow` statement leave of its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Nothing narrows it.
    Open,
    /// A condition limits it to some resources or targets (the reason says which).
    Scoped(String),
    /// Only `iam:PassRole`, and only to these services (other actions of the statement do not
    /// apply: the key is absent from their requests).
    PassedTo(ServiceSet),
    /// Whether a condition narrows it is not known (the reason says why).
    Unknown(String),
    /// A time condition that can no longer hold: the grant has ended (the reason says when).
    Ended(String),
}

/// The days before the run's date a time condition's date must lie for the condition to be
/// past for certain: a date is read to the day, and a written time zone shifts it by up to 14
/// hours.
const PAST_MARGIN_DAYS: i64 = 2;

/// The longest a session token lives (federation and `GetSessionToken`: 36 hours), in days,
/// rounded up: a token issued before that can no longer sign a request.
const TOKEN_LIFETIME_DAYS: i64 = 2;

/// A date or time as IAM writes them (`2026-06-30`, `2026-06-30T23:59:59Z`, epoch seconds), as
/// days since 1970-01-01.
fn condition_day(value: &str) -> Option<i64> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse::<i64>().ok().map(|secs| secs.div_euclid(86_400));
    }
    crate::dates::parse_date(v.get(..10)?)
}

/// Why a statement's conditions can no longer all hold on or after `as_of_days`: a
/// `DateLessThan` (or `…Equals`) on `aws:CurrentTime` whose every date is past, or on
/// `aws:TokenIssueTime` whose every date is older than any session token still alive (a
/// time-bound grant that has ended). `None` when that is not certain.
pub fn ended(c: &Conditions, as_of_days: i64) -> Option<String> {
    if c.unknown.is_some() {
        return None;
    }
    c.list.iter().find_map(|cond| {
        let op = operator(&cond.operator);
        if op.for_all
            || op.for_any
            || !matches!(op.base.as_str(), "datelessthan" | "datelessthanequals")
            || cond.unknown.is_some()
            || cond.values.is_empty()
        {
            return None;
        }
        let key = cond.key.to_ascii_lowercase();
        let margin = match key.as_str() {
            "aws:currenttime" | "aws:epochtime" => PAST_MARGIN_DAYS,
            // Without `IfExists`: a request signed with a long-term key has no token issue time,
            // and the condition fails for it as well.
            "aws:tokenissuetime" if !op.if_exists => PAST_MARGIN_DAYS + TOKEN_LIFETIME_DAYS,
            _ => return None,
        };
        let days: Option<Vec<i64>> = cond.values.iter().map(|v| condition_day(v)).collect();
        let latest = days?.into_iter().max()?;
        (latest + margin <= as_of_days).then(|| {
            format!(
                "its condition `{}` on `{}` ended on {} (before {})",
                cond.operator,
                cond.key,
                crate::dates::format_days(latest),
                crate::dates::format_days(as_of_days)
            )
        })
    })
}

/// Reads the conditions of an identity policy's `Allow` statement, as of a date (days since
/// 1970-01-01) when one is given: a time window that has ended by then grants nothing.
pub fn grant(c: &Conditions, as_of_days: Option<i64>) -> Grant {
    if let Some(why) = as_of_days.and_then(|d| ended(c, d)) {
        return Grant::Ended(why);
    }
    let mut unknown = c.unknown.clone();
    let mut passed: Option<ServiceSet> = None;
    for cond in &c.list {
        let op = operator(&cond.operator);
        let class = key_class(&cond.key);
        if class == KeyClass::Neither || class == KeyClass::Who || op.if_exists || op.for_all {
            continue;
        }
        let s = sense(&op.base);
        if let Some(why) = &cond.unknown {
            if s != Sense::Other {
                unknown.get_or_insert_with(|| {
                    format!("the values of `{}` are not known: {why}", cond.key)
                });
            }
            continue;
        }
        match (class, s) {
            (KeyClass::PassedToService, Sense::Positive) if narrowing(&cond.values) => {
                let set = ServiceSet::Only(lower(&cond.values));
                passed = Some(match passed {
                    Some(p) => p.and(set),
                    None => set,
                });
            }
            (KeyClass::PassedToService, Sense::Negative) => {
                let set = ServiceSet::AllBut(lower(&cond.values));
                passed = Some(match passed {
                    Some(p) => p.and(set),
                    None => set,
                });
            }
            (KeyClass::What, Sense::Positive | Sense::Other) if narrowing(&cond.values) => {
                return Grant::Scoped(describe(cond));
            }
            _ => {}
        }
    }
    match (unknown, passed) {
        (Some(why), _) => Grant::Unknown(why),
        (None, Some(set)) => Grant::PassedTo(set),
        (None, None) => Grant::Open,
    }
}

/// What the conditions of a trust or resource policy's `Allow` statement leave of its
/// principals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Nothing narrows who may use it.
    Open,
    /// A condition limits the callers (the reason says how).
    Restricted(String),
    Unknown(String),
}

/// Reads the conditions of an `Allow` statement that names principals.
pub fn who(c: &Conditions) -> Who {
    let mut unknown = c.unknown.clone();
    for cond in &c.list {
        let op = operator(&cond.operator);
        if key_class(&cond.key) != KeyClass::Who || op.if_exists || op.for_all {
            continue;
        }
        let s = sense(&op.base);
        if let Some(why) = &cond.unknown {
            if s == Sense::Positive {
                unknown.get_or_insert_with(|| {
                    format!("the values of `{}` are not known: {why}", cond.key)
                });
            }
            continue;
        }
        if s == Sense::Positive && narrowing(&cond.values) {
            return Who::Restricted(describe(cond));
        }
    }
    match unknown {
        Some(why) => Who::Unknown(why),
        None => Who::Open,
    }
}

/// For a `Deny` statement on every principal: the callers it leaves, when its only conditions
/// exclude everyone outside a set (`StringNotEquals aws:PrincipalOrgID`, `NotIpAddress
/// aws:SourceIp`): then the policy's `Allow`s reach only that set.
pub fn deny_guard(c: &Conditions) -> Option<String> {
    if c.unknown.is_some() || c.list.is_empty() {
        return None;
    }
    let mut guard = None;
    for cond in &c.list {
        let op = operator(&cond.operator);
        if key_class(&cond.key) != KeyClass::Who
            || op.for_all
            || sense(&op.base) != Sense::Negative
            || cond.unknown.is_some()
            || !narrowing(&cond.values)
        {
            return None;
        }
        guard.get_or_insert_with(|| describe(cond));
    }
    guard
}

/// True when the statement requires a fixed `sts:ExternalId` (a `StringLike` with a wildcard
/// value does not count). `Err` when its value is not known and it matters.
pub fn external_id(c: &Conditions) -> Result<bool, String> {
    let mut unknown = None;
    for cond in &c.list {
        let op = operator(&cond.operator);
        if !cond.key.eq_ignore_ascii_case("sts:externalid") || op.if_exists || op.for_all {
            continue;
        }
        match (op.base.as_str(), &cond.unknown) {
            ("stringequals" | "stringequalsignorecase", _) => return Ok(true),
            ("stringlike", None) if narrowing(&cond.values) => return Ok(true),
            ("stringlike", Some(why)) => {
                unknown = Some(format!("the value of `sts:ExternalId` is not known: {why}"));
            }
            _ => {}
        }
    }
    match unknown {
        Some(why) => Err(why),
        None => Ok(false),
    }
}

/// True when some condition fixes a federated identity's subject (`<provider>:sub`, or an
/// identity pool with `cognito-identity.amazonaws.com:aud`) to values that are not wildcards.
pub fn federated_subject(c: &Conditions, cognito: bool) -> Result<bool, String> {
    let mut unknown = c.unknown.clone();
    for cond in &c.list {
        let op = operator(&cond.operator);
        let k = cond.key.to_ascii_lowercase();
        let relevant = if cognito {
            k == "cognito-identity.amazonaws.com:aud"
        } else {
            k.ends_with(":sub")
        };
        if !relevant || op.if_exists || op.for_all || sense(&op.base) != Sense::Positive {
            continue;
        }
        match &cond.unknown {
            None if narrowing(&cond.values) => return Ok(true),
            None => {}
            Some(why) => {
                unknown = Some(format!("the values of `{}` are not known: {why}", cond.key))
            }
        }
    }
    match unknown {
        Some(why) => Err(why),
        None => Ok(false),
    }
}

fn lower(values: &[String]) -> Vec<String> {
    values.iter().map(|v| v.to_ascii_lowercase()).collect()
}

fn describe(c: &Condition) -> String {
    let shown: Vec<&str> = c.values.iter().take(3).map(String::as_str).collect();
    let more = if c.values.len() > 3 { ", …" } else { "" };
    format!("`{}` {} `{}`{more}", c.key, c.operator, shown.join("`, `"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conds(list: &[(&str, &str, &[&str])]) -> Conditions {
        Conditions {
            list: list
                .iter()
                .map(|(op, key, values)| Condition {
                    operator: (*op).to_owned(),
                    key: (*key).to_owned(),
                    values: values.iter().map(|v| (*v).to_owned()).collect(),
                    unknown: None,
                })
                .collect(),
            unknown: None,
        }
    }

    #[test]
    fn keys() {
        assert_eq!(key_class("aws:SecureTransport"), KeyClass::Neither);
        assert_eq!(key_class("aws:MultiFactorAuthPresent"), KeyClass::Neither);
        assert_eq!(key_class("aws:PrincipalOrgID"), KeyClass::Who);
        assert_eq!(key_class("aws:ResourceTag/team"), KeyClass::What);
        assert_eq!(key_class("lambda:FunctionArn"), KeyClass::What);
        assert_eq!(key_class("ec2:ResourceTag/env"), KeyClass::What);
        assert_eq!(key_class("ec2:InstanceType"), KeyClass::Neither);
        assert_eq!(key_class("aws:RequestTag/x"), KeyClass::Neither);
        assert_eq!(key_class("iam:PassedToService"), KeyClass::PassedToService);
    }

    #[test]
    fn grants() {
        assert_eq!(
            grant(
                &conds(&[("Bool", "aws:MultiFactorAuthPresent", &["true"])]),
                None
            ),
            Grant::Open
        );
        assert!(matches!(
            grant(
                &conds(&[("StringEquals", "aws:ResourceTag/team", &["a"])]),
                None
            ),
            Grant::Scoped(_)
        ));
        assert_eq!(
            grant(
                &conds(&[("StringLike", "aws:ResourceTag/team", &["*"])]),
                None
            ),
            Grant::Open
        );
        assert_eq!(
            grant(
                &conds(&[("StringEqualsIfExists", "aws:ResourceTag/team", &["a"])]),
                None
            ),
            Grant::Open
        );
        let g = grant(
            &conds(&[(
                "StringEquals",
                "iam:PassedToService",
                &["ec2.amazonaws.com"],
            )]),
            None,
        );
        assert!(
            matches!(&g, Grant::PassedTo(s) if s.allows("ec2.amazonaws.com") && !s.allows("cloudformation.amazonaws.com"))
        );
        let g = grant(
            &conds(&[(
                "StringNotEquals",
                "iam:PassedToService",
                &["lambda.amazonaws.com"],
            )]),
            None,
        );
        assert!(
            matches!(&g, Grant::PassedTo(s) if s.allows("ec2.amazonaws.com") && !s.allows("lambda.amazonaws.com"))
        );
    }

    #[test]
    fn who_narrows() {
        assert_eq!(
            who(&conds(&[("Bool", "aws:SecureTransport", &["true"])])),
            Who::Open
        );
        assert!(matches!(
            who(&conds(&[("StringEquals", "aws:PrincipalOrgID", &["o-1"])])),
            Who::Restricted(_)
        ));
        assert_eq!(
            who(&conds(&[(
                "StringNotEquals",
                "aws:PrincipalOrgID",
                &["o-1"]
            )])),
            Who::Open
        );
        assert_eq!(
            who(&conds(&[("IpAddress", "aws:SourceIp", &["0.0.0.0/0"])])),
            Who::Open
        );
        assert!(
            deny_guard(&conds(&[(
                "StringNotEquals",
                "aws:PrincipalOrgID",
                &["o-1"]
            )]))
            .is_some()
        );
        assert!(deny_guard(&conds(&[("Bool", "aws:SecureTransport", &["false"])])).is_none());
    }

    #[test]
    fn external_ids() {
        assert_eq!(
            external_id(&conds(&[("StringEquals", "sts:ExternalId", &["x"])])),
            Ok(true)
        );
        assert_eq!(
            external_id(&conds(&[("StringLike", "sts:ExternalId", &["*"])])),
            Ok(false)
        );
        assert_eq!(
            external_id(&conds(&[("Bool", "aws:SecureTransport", &["true"])])),
            Ok(false)
        );
    }
}
