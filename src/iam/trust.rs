//! Who a trust policy (a role's `assume_role_policy`) or a resource policy (a bucket policy) lets
//! in: any principal, another account without an external id, any identity of a public web
//! identity provider; and which principals may assume a role (for the assume-role graph).
//!
//! `Principal: "*"`, `{"AWS": "*"}` and `NotPrincipal` (everyone but the named) are anyone.
//! Only conditions on who calls narrow them ([`condition::who`]); a `Deny` on everyone whose only
//! conditions exclude outsiders (`StringNotEquals aws:PrincipalOrgID`) narrows the whole policy.

use super::catalog::catalog;
use super::condition::{self, Who};
use super::document::{Document, Effect, Principals, Statement};
use super::eval::Tri;
use super::findings::Flag;

/// What a role's trust policy allows.
#[derive(Debug, Clone, Default)]
pub struct TrustFacts {
    pub any_principal: Flag,
    pub external_without_condition: Flag,
    pub federated_without_subject: Flag,
    /// AWS principals (ARNs, account ids, `${ref}`s) that may assume the role without a
    /// narrowing condition, and whether that is certain.
    pub trusted: Vec<(String, Tri)>,
    pub notes: Vec<String>,
}

/// True when the principal element is everyone.
fn anyone(p: &Principals) -> bool {
    p.negated
        || p.anyone
        || p.by_kind
            .get("AWS")
            .is_some_and(|ids| ids.iter().any(|i| i == "*"))
}

/// Whether the statement's actions include assuming a role.
fn assumes(s: &Statement) -> Tri {
    let cat = catalog();
    let names = [
        "sts:AssumeRole",
        "sts:AssumeRoleWithWebIdentity",
        "sts:AssumeRoleWithSAML",
    ];
    let mut matched = false;
    for n in names {
        let lower = n.to_ascii_lowercase();
        let hit = s
            .action
            .items
            .iter()
            .any(|p| super::glob::matches(p.as_bytes(), lower.as_bytes()));
        if hit != s.action.negated {
            matched = true;
        }
    }
    let _ = cat;
    if matched && s.action.is_known() {
        Tri::Yes
    } else if matched || !s.action.is_known() {
        Tri::Maybe
    } else {
        Tri::No
    }
}

/// The statements that let principals in: `Allow`s (an unknown effect counts as possible).
fn allows(doc: &Document) -> impl Iterator<Item = (&Statement, Tri)> {
    doc.statements.iter().filter_map(|s| match s.effect {
        Ok(Effect::Allow) => Some((s, Tri::Yes)),
        Err(_) => Some((s, Tri::Maybe)),
        Ok(Effect::Deny) => None,
    })
}

/// A `Deny` on everyone that only excludes outsiders, if the policy has one.
fn outsider_guard(doc: &Document) -> Option<String> {
    doc.statements.iter().find_map(|s| {
        (s.effect == Ok(Effect::Deny)
            && s.principal
                .as_ref()
                .is_some_and(|p| anyone(p) && !p.negated)
            && s.action.items.iter().any(|a| a == "*" || a.ends_with(":*")))
        .then(|| condition::deny_guard(&s.condition))
        .flatten()
        .map(|g| format!("{} denies everyone else ({g})", s.label()))
    })
}

/// Whether a resource policy lets anyone in (no narrowing condition), with the reasons when
/// that depends on something not known.
pub fn public(doc: &Document) -> Flag {
    let mut f = Flag::default();
    if let Some(why) = &doc.unknown {
        f.state = Tri::Maybe;
        f.why.push(why.clone());
        return f;
    }
    if outsider_guard(doc).is_some() {
        return f;
    }
    for (s, effect) in allows(doc) {
        let Some(p) = &s.principal else { continue };
        let (who, reasons) = principal_open(s, p);
        let state = effect.min(who);
        if state > f.state {
            f.state = state;
        }
        if state == Tri::Maybe {
            f.why.extend(reasons);
        }
    }
    f
}

/// Whether a statement's principal is anyone with nothing narrowing who calls.
fn principal_open(s: &Statement, p: &Principals) -> (Tri, Vec<String>) {
    let mut reasons = Vec::new();
    let mut state = if anyone(p) {
        Tri::Yes
    } else if !p.unknown.is_empty() {
        reasons.push(format!(
            "a principal of {} is not known: {}",
            s.label(),
            p.unknown.join("; ")
        ));
        Tri::Maybe
    } else {
        Tri::No
    };
    match condition::who(&s.condition) {
        Who::Open => {}
        Who::Restricted(_) => state = Tri::No,
        Who::Unknown(why) => {
            if state == Tri::Yes {
                state = Tri::Maybe;
            }
            reasons.push(format!("a condition of {} is not known: {why}", s.label()));
        }
    }
    (state, reasons)
}

/// An AWS account principal's account: `123456789012`, `arn:aws:iam::123456789012:root` (or a
/// user or role of it). `None` for a Terraform reference or anything else.
pub fn account_of(id: &str) -> Option<&str> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        return Some(id);
    }
    let rest = id.strip_prefix("arn:")?;
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    match parts.as_slice() {
        [_, "iam", "", acct, _] if acct.len() == 12 => Some(acct),
        _ => None,
    }
}

/// Public web identity providers: anyone can get a token from them.
const PUBLIC_IDPS: &[&str] = &[
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
    "cognito-identity.amazonaws.com",
];

/// Reads a role's trust policy. `own_account` is the role's account when known (exports);
/// otherwise every literal account counts as another account, and a Terraform reference
/// (`${aws_iam_user.x.arn}`, `${data.aws_caller_identity.current…}`) as this account.
pub fn trust(doc: &Document, own_account: Option<&str>) -> TrustFacts {
    let mut t = TrustFacts::default();
    if let Some(why) = &doc.unknown {
        for f in [
            &mut t.any_principal,
            &mut t.external_without_condition,
            &mut t.federated_without_subject,
        ] {
            f.state = Tri::Maybe;
            f.why.push(why.clone());
        }
        return t;
    }
    let guard = outsider_guard(doc);
    for (s, effect) in allows(doc) {
        let Some(p) = &s.principal else { continue };
        let base = effect.min(assumes(s));
        if base == Tri::No {
            continue;
        }
        // Anyone.
        if guard.is_none() {
            let (open, reasons) = principal_open(s, p);
            let st = base.min(open);
            raise(&mut t.any_principal, st, reasons);
            if st == Tri::Yes {
                t.notes
                    .push(format!("{} lets any principal assume the role", s.label()));
            }
        }
        // Another account without an external id.
        let who = condition::who(&s.condition);
        for id in p.by_kind.get("AWS").into_iter().flatten() {
            let external = match (account_of(id), own_account) {
                (Some(a), Some(own)) => a != own,
                (Some(_), None) => true,
                (None, _) => false,
            };
            let st = if matches!(who, Who::Restricted(_)) {
                Tri::No
            } else {
                base
            };
            if external {
                let ext = match condition::external_id(&s.condition) {
                    Ok(true) => Tri::No,
                    Ok(false) => st,
                    Err(why) => {
                        raise(
                            &mut t.external_without_condition,
                            st.min(Tri::Maybe),
                            vec![why],
                        );
                        Tri::No
                    }
                };
                raise(&mut t.external_without_condition, ext, Vec::new());
                if ext == Tri::Yes {
                    t.notes.push(format!(
                        "{} trusts `{id}` without an `sts:ExternalId` condition",
                        s.label()
                    ));
                }
            }
            if id != "*" && st != Tri::No {
                let certain = if matches!(who, Who::Unknown(_)) {
                    Tri::Maybe
                } else {
                    st
                };
                t.trusted.push((id.clone(), certain));
            }
        }
        // A web identity provider without a subject condition.
        for id in p.by_kind.get("Federated").into_iter().flatten() {
            let lower = id.to_ascii_lowercase();
            if lower.contains(":saml-provider/") {
                continue;
            }
            let cognito = lower == "cognito-identity.amazonaws.com";
            let oidc = lower.contains(":oidc-provider/")
                || lower.contains("openid_connect_provider")
                || PUBLIC_IDPS.contains(&lower.as_str());
            if !oidc && !cognito {
                continue;
            }
            let st = match condition::federated_subject(&s.condition, cognito) {
                Ok(true) => Tri::No,
                Ok(false) => base,
                Err(why) => {
                    raise(
                        &mut t.federated_without_subject,
                        base.min(Tri::Maybe),
                        vec![why],
                    );
                    Tri::No
                }
            };
            raise(&mut t.federated_without_subject, st, Vec::new());
            if st == Tri::Yes {
                t.notes.push(format!(
                    "{} trusts every identity of `{id}` (no condition fixes the subject)",
                    s.label()
                ));
            }
        }
        if !p.unknown.is_empty() {
            let why = format!(
                "a principal of {} is not known: {}",
                s.label(),
                p.unknown.join("; ")
            );
            raise(
                &mut t.external_without_condition,
                base.min(Tri::Maybe),
                vec![why.clone()],
            );
            raise(
                &mut t.federated_without_subject,
                base.min(Tri::Maybe),
                vec![why],
            );
        }
    }
    t
}

fn raise(f: &mut Flag, state: Tri, why: Vec<String>) {
    if state > f.state {
        f.state = state;
    }
    if state == Tri::Maybe {
        f.why.extend(why);
    }
}

#[cfg(test)]
mod tests {
    use super::super::document::{Origin, read};
    use super::*;
    use serde_json::json;

    fn doc(v: serde_json::Value) -> Document {
        read(&v, &Origin::default(), &[]).unwrap_or_default()
    }

    #[test]
    fn public_policies() {
        let open = |v| public(&doc(v)).state;
        assert_eq!(
            open(
                json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}})
            ),
            Tri::Yes
        );
        assert_eq!(
            open(
                json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}}}})
            ),
            Tri::Yes
        );
        assert_eq!(
            open(
                json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}})
            ),
            Tri::No
        );
        assert_eq!(
            open(
                json!({"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:GetObject", "Resource": "*"}})
            ),
            Tri::Yes
        );
        assert_eq!(
            open(json!({"Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}}
            ]})),
            Tri::No
        );
    }

    #[test]
    fn trust_policies() {
        let t = trust(
            &doc(
                json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"sts:ExternalId": "*"}}}}),
            ),
            None,
        );
        assert_eq!(t.any_principal.state, Tri::Yes);
        let t = trust(
            &doc(
                json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
            "Action": "sts:AssumeRole", "Condition": {"StringLike": {"sts:ExternalId": "*"}}}}),
            ),
            Some("111122223333"),
        );
        assert_eq!(t.external_without_condition.state, Tri::Yes);
        let t = trust(
            &doc(
                json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/x"},
            "Action": "sts:AssumeRole"}}),
            ),
            Some("111122223333"),
        );
        assert_eq!(t.external_without_condition.state, Tri::No);
        assert_eq!(
            t.trusted,
            vec![("arn:aws:iam::111122223333:role/x".to_owned(), Tri::Yes)]
        );
        let t = trust(
            &doc(json!({"Statement": {"Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}})),
            None,
        );
        assert_eq!(t.federated_without_subject.state, Tri::Yes);
        let t = trust(
            &doc(json!({"Statement": {"Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:*"}}}})),
            None,
        );
        assert_eq!(t.federated_without_subject.state, Tri::No);
    }
}
