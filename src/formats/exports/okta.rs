//! Okta: the Users API (`GET /api/v1/users`, an array of users) and the Factors API
//! (`GET /api/v1/users/{id}/factors`, concatenated for every user into one array).
//!
//! Users: `id`, `status` (`ACTIVE`, `RECOVERY`, `PASSWORD_EXPIRED`, `LOCKED_OUT`, `STAGED` and
//! `PROVISIONED` are accounts that exist and can be used or activated; `SUSPENDED`;
//! `DEPROVISIONED`), `profile.login`, `profile.email`, `lastLogin`, `lastUpdated`.
//! Factors: `factorType`, `status`, and the user from `_links.user.href` (or `_links.self`).
//! `webauthn`, `u2f` and `signed_nonce` (Okta FastPass) are phishing-resistant.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{self, Stamp};
use super::{Account, AccountStatus, Content, ExportFile, FactorRecord, Format};
use crate::error::Problem;
use crate::source::SourceFile;

/// Okta factor types that resist phishing (bound to the origin or the device).
pub const PHISHING_RESISTANT: &[&str] = &["webauthn", "u2f", "signed_nonce"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    id: String,
    status: String,
    profile: Profile,
    last_login: Option<Stamp>,
    last_updated: Option<Stamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    login: String,
    email: Option<String>,
    second_email: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Factor {
    factor_type: String,
    status: String,
    last_updated: Option<Stamp>,
    #[serde(rename = "_links")]
    links: Option<Links>,
    /// Added by export scripts that do not keep `_links`.
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct Links {
    user: Option<Href>,
    #[serde(rename = "self")]
    this: Option<Href>,
}

#[derive(Deserialize)]
struct Href {
    href: String,
}

fn status_of(s: &str) -> Option<AccountStatus> {
    match s.to_ascii_uppercase().as_str() {
        "ACTIVE" | "RECOVERY" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "STAGED" | "PROVISIONED" => {
            Some(AccountStatus::Active)
        }
        "SUSPENDED" => Some(AccountStatus::Suspended),
        "DEPROVISIONED" => Some(AccountStatus::Deprovisioned),
        _ => None,
    }
}

/// Parses a Users API array.
pub fn parse_users(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let raws: Vec<&RawValue> = json::parse(file)?;
    let recs: Vec<(User, usize)> = json::records(file, &raws, "an Okta user")?;
    let mut problems = Vec::new();
    let mut accounts = Vec::with_capacity(recs.len());
    for (u, offset) in &recs {
        let Some(status) = status_of(&u.status) else {
            problems.push(Problem::parse(
                &file.path,
                &file.text,
                *offset,
                0,
                format!("`{}`: Okta user `{}` has status `{}`, which the Users API does not define", file.path, u.profile.login, u.status),
                "this user",
            ).with_help("Okta statuses: ACTIVE, STAGED, PROVISIONED, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT, SUSPENDED, DEPROVISIONED"));
            continue;
        };
        let login = u.profile.login.trim().to_lowercase();
        let mut emails: Vec<String> = [
            Some(&u.profile.login),
            u.profile.email.as_ref(),
            u.profile.second_email.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
        emails.sort();
        emails.dedup();
        accounts.push(Account {
            system_id: u.id.clone(),
            login,
            emails,
            status,
            last_login: u.last_login.as_ref().and_then(Stamp::day),
            mfa: None,
            mfa_enforced: None,
            admin: None,
            offset: *offset,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let newest = json::newest(recs.iter().map(|(u, _)| u.last_updated.as_ref()));
    Ok(ExportFile::new(
        file,
        Format::OktaUsers,
        Content::Accounts(accounts),
        None,
        newest,
    ))
}

/// The user id in an Okta API link (`…/api/v1/users/{id}` or `…/users/{id}/factors/{f}`).
fn user_of(href: &str) -> Option<String> {
    let rest = href.split("/users/").nth(1)?;
    let id = rest.split(['/', '?']).next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

/// Parses a Factors API array (every user's factors in one array).
pub fn parse_factors(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let raws: Vec<&RawValue> = json::parse(file)?;
    let recs: Vec<(Factor, usize)> = json::records(file, &raws, "an Okta factor")?;
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(recs.len());
    for (f, offset) in &recs {
        let user = f.user_id.clone().or_else(|| {
            f.links.as_ref().and_then(|l| {
                l.user
                    .as_ref()
                    .and_then(|h| user_of(&h.href))
                    .or_else(|| l.this.as_ref().and_then(|h| user_of(&h.href)))
            })
        });
        let Some(user_id) = user else {
            problems.push(Problem::parse(
                &file.path,
                &file.text,
                *offset,
                0,
                format!("`{}`: an Okta factor does not say which user it belongs to", file.path),
                "this factor",
            ).with_help("keep the factor's `_links` as the API returns them, or add `\"userId\"` to each factor"));
            continue;
        };
        out.push(FactorRecord {
            user_id,
            factor_type: f.factor_type.to_ascii_lowercase(),
            active: f.status.eq_ignore_ascii_case("ACTIVE"),
            offset: *offset,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let newest = json::newest(recs.iter().map(|(f, _)| f.last_updated.as_ref()));
    Ok(ExportFile::new(
        file,
        Format::OktaFactors,
        Content::Factors(out),
        None,
        newest,
    ))
}
