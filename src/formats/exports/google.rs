//! Google Workspace Admin SDK Directory API `users.list`
//! (`GET admin/directory/v1/users?customer=my_customer&projection=full`), pages concatenated
//! into one `users` array.
//!
//! Read: `primaryEmail`, `emails[].address`, `suspended`, `archived`, `isAdmin`,
//! `isEnrolledIn2Sv`, `isEnforcedIn2Sv`, `lastLoginTime` (`1970-01-01T00:00:00.000Z` means
//! never). 2-step verification says nothing of the factor's kind: it is never read as
//! phishing-resistant.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{self, Stamp};
use super::{Account, AccountStatus, Content, ExportFile, Factor, Format};
use crate::error::Problem;
use crate::source::SourceFile;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct List<'a> {
    #[serde(borrow, default)]
    users: Vec<&'a RawValue>,
    #[serde(rename = "collected_at")]
    collected_at: Option<Stamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    #[serde(default)]
    id: String,
    primary_email: String,
    #[serde(default)]
    emails: Vec<Email>,
    #[serde(default)]
    suspended: bool,
    #[serde(default)]
    archived: bool,
    is_admin: Option<bool>,
    is_enrolled_in2_sv: Option<bool>,
    is_enforced_in2_sv: Option<bool>,
    last_login_time: Option<Stamp>,
}

#[derive(Deserialize)]
struct Email {
    address: Option<String>,
}

/// Parses a `users.list` response.
pub fn parse(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let list: List<'_> = json::parse(file)?;
    let recs: Vec<(User, usize)> = json::records(file, &list.users, "a Google Workspace user")?;
    let epoch_day = 0;
    let accounts: Vec<Account> = recs
        .iter()
        .map(|(u, offset)| {
            let login = u.primary_email.trim().to_lowercase();
            let mut emails: Vec<String> = u
                .emails
                .iter()
                .filter_map(|e| e.address.as_deref())
                .map(|e| e.trim().to_lowercase())
                .collect();
            emails.push(login.clone());
            emails.sort();
            emails.dedup();
            Account {
                system_id: u.id.clone(),
                login,
                emails,
                status: if u.suspended || u.archived {
                    AccountStatus::Suspended
                } else {
                    AccountStatus::Active
                },
                last_login: u
                    .last_login_time
                    .as_ref()
                    .and_then(Stamp::day)
                    .filter(|d| *d > epoch_day),
                mfa: u
                    .is_enrolled_in2_sv
                    .map(|e| if e { Factor::Other } else { Factor::None }),
                mfa_enforced: u.is_enforced_in2_sv,
                admin: u.is_admin,
                offset: *offset,
            }
        })
        .collect();
    let newest = accounts.iter().filter_map(|a| a.last_login).max();
    let declared = list.collected_at.as_ref().and_then(Stamp::day);
    Ok(ExportFile::new(
        file,
        Format::GoogleUsers,
        Content::Accounts(accounts),
        declared,
        newest,
    ))
}
