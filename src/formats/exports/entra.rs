//! Microsoft Entra ID through Microsoft Graph: `GET /v1.0/users?$select=id,userPrincipalName,
//! mail,accountEnabled,signInActivity` and `GET /v1.0/reports/authenticationMethods/
//! userRegistrationDetails`, each with its `value` pages concatenated.
//!
//! Users: `userPrincipalName`, `mail`, `otherMails`, `accountEnabled`,
//! `signInActivity.lastSignInDateTime`. Registrations: `userPrincipalName`, `isMfaRegistered`,
//! `isAdmin`, `methodsRegistered`; `fido2SecurityKey`, `passKeyDeviceBound`,
//! `passKeyDeviceBoundAuthenticator`, `windowsHelloForBusiness` and the `x509Certificate…`
//! methods are phishing-resistant.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{self, Stamp};
use super::{Account, AccountStatus, Content, ExportFile, Format, Registration};
use crate::error::Problem;
use crate::source::SourceFile;

/// Entra authentication methods that resist phishing.
pub const PHISHING_RESISTANT: &[&str] = &[
    "fido2securitykey",
    "passkeydevicebound",
    "passkeydeviceboundauthenticator",
    "passkeydeviceboundwindowshello",
    "windowshelloforbusiness",
    "x509certificatemultifactor",
    "x509certificatesinglefactor",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct List<'a> {
    #[serde(borrow, default)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "collected_at")]
    collected_at: Option<Stamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    #[serde(default)]
    id: String,
    user_principal_name: String,
    mail: Option<String>,
    #[serde(default)]
    other_mails: Vec<String>,
    account_enabled: Option<bool>,
    sign_in_activity: Option<SignIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    last_sign_in_date_time: Option<Stamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reg {
    user_principal_name: String,
    #[serde(default)]
    is_mfa_registered: bool,
    is_admin: Option<bool>,
    #[serde(default)]
    methods_registered: Vec<String>,
    last_updated_date_time: Option<Stamp>,
}

/// Parses a Graph `users` response.
pub fn parse_users(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let list: List<'_> = json::parse(file)?;
    let recs: Vec<(User, usize)> = json::records(file, &list.value, "an Entra user")?;
    let mut problems = Vec::new();
    let mut accounts = Vec::with_capacity(recs.len());
    for (u, offset) in &recs {
        let Some(enabled) = u.account_enabled else {
            problems.push(
                Problem::parse(
                    &file.path,
                    &file.text,
                    *offset,
                    0,
                    format!(
                        "`{}`: Entra user `{}` has no `accountEnabled`",
                        file.path, u.user_principal_name
                    ),
                    "this user",
                )
                .with_help("add `accountEnabled` to the `$select` of the Graph request"),
            );
            continue;
        };
        let login = u.user_principal_name.trim().to_lowercase();
        let mut emails: Vec<String> = u
            .mail
            .iter()
            .chain(u.other_mails.iter())
            .map(|e| e.trim().to_lowercase())
            .collect();
        emails.push(login.clone());
        emails.sort();
        emails.dedup();
        accounts.push(Account {
            system_id: u.id.clone(),
            login,
            emails,
            status: if enabled {
                AccountStatus::Active
            } else {
                AccountStatus::Suspended
            },
            last_login: u
                .sign_in_activity
                .as_ref()
                .and_then(|s| s.last_sign_in_date_time.as_ref())
                .and_then(Stamp::day),
            mfa: None,
            mfa_enforced: None,
            admin: None,
            offset: *offset,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let newest = accounts.iter().filter_map(|a| a.last_login).max();
    let declared = list.collected_at.as_ref().and_then(Stamp::day);
    Ok(ExportFile::new(
        file,
        Format::EntraUsers,
        Content::Accounts(accounts),
        declared,
        newest,
    ))
}

/// Parses a Graph `userRegistrationDetails` response.
pub fn parse_registrations(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let list: List<'_> = json::parse(file)?;
    let recs: Vec<(Reg, usize)> = json::records(file, &list.value, "an Entra registration detail")?;
    let newest = json::newest(recs.iter().map(|(r, _)| r.last_updated_date_time.as_ref()));
    let regs = recs
        .into_iter()
        .map(|(r, offset)| Registration {
            login: r.user_principal_name.trim().to_lowercase(),
            mfa_registered: r.is_mfa_registered,
            methods: r
                .methods_registered
                .iter()
                .map(|m| m.to_ascii_lowercase())
                .collect(),
            admin: r.is_admin,
            offset,
        })
        .collect();
    let declared = list.collected_at.as_ref().and_then(Stamp::day);
    Ok(ExportFile::new(
        file,
        Format::EntraRegistrations,
        Content::Registrations(regs),
        declared,
        newest,
    ))
}
