//! SCIM 2.0 (RFC 7643/7644) `ListResponse`s of `User` and `Group` resources, as an identity
//! provider or a SaaS application serves them at `GET /scim/v2/Users` and `/Groups`.
//!
//! Read: `userName`, `emails[].value`, `active` (absent means active, RFC 7643 §4.1.1 leaves
//! it to the service; every major provider sends it), `meta.lastModified`; for groups
//! `displayName` and `members[].value`. Which application an export belongs to is declared in
//! `vouch.toml` (`[[exports.file]]`), or a top-level `"application"` the exporting script adds.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{self, Stamp};
use super::{Account, AccountStatus, Content, ExportFile, Format};
use crate::error::Problem;
use crate::source::SourceFile;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct List<'a> {
    schemas: Vec<String>,
    #[serde(rename = "Resources", borrow, default)]
    resources: Vec<&'a RawValue>,
    #[serde(rename = "collected_at")]
    collected_at: Option<Stamp>,
    application: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    #[serde(default)]
    id: String,
    user_name: String,
    #[serde(default)]
    emails: Vec<Email>,
    active: Option<bool>,
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Email {
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    last_modified: Option<Stamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    display_name: String,
    #[serde(default)]
    members: Vec<Member>,
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Member {
    value: String,
}

const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Parses a `ListResponse` of users or groups.
pub fn parse(file: &SourceFile) -> Result<ExportFile, Vec<Problem>> {
    let list: List<'_> = json::parse(file)?;
    if !list.schemas.iter().any(|s| s == LIST_SCHEMA) {
        return Err(json::whole_file(
            file,
            format!(
                "`{}` is not a SCIM ListResponse: `schemas` does not name `{LIST_SCHEMA}`",
                file.path
            ),
            "export `GET /scim/v2/Users` (or `/Groups`) as returned, see docs/sources.md",
        ));
    }
    let groups = file
        .text
        .contains("urn:ietf:params:scim:schemas:core:2.0:Group");
    let (format, content, newest) = if groups {
        let recs: Vec<(Group, usize)> = json::records(file, &list.resources, "a SCIM group")?;
        let newest = json::newest(
            recs.iter()
                .map(|(g, _)| g.meta.as_ref().and_then(|m| m.last_modified.as_ref())),
        );
        let groups = recs
            .into_iter()
            .map(|(g, _)| {
                (
                    g.display_name,
                    g.members.into_iter().map(|m| m.value).collect(),
                )
            })
            .collect();
        (Format::ScimGroups, Content::Groups(groups), newest)
    } else {
        let recs: Vec<(User, usize)> = json::records(file, &list.resources, "a SCIM user")?;
        let newest = json::newest(
            recs.iter()
                .map(|(u, _)| u.meta.as_ref().and_then(|m| m.last_modified.as_ref())),
        );
        let accounts = recs
            .into_iter()
            .map(|(u, offset)| {
                let login = u.user_name.trim().to_lowercase();
                let mut emails: Vec<String> = u
                    .emails
                    .iter()
                    .map(|e| e.value.trim().to_lowercase())
                    .collect();
                emails.push(login.clone());
                emails.sort();
                emails.dedup();
                Account {
                    system_id: u.id,
                    login,
                    emails,
                    status: if u.active.unwrap_or(true) {
                        AccountStatus::Active
                    } else {
                        AccountStatus::Suspended
                    },
                    last_login: None,
                    mfa: None,
                    mfa_enforced: None,
                    admin: None,
                    offset,
                }
            })
            .collect();
        (Format::ScimUsers, Content::Accounts(accounts), newest)
    };
    let declared = list.collected_at.as_ref().and_then(Stamp::day);
    let mut out = ExportFile::new(file, format, content, declared, newest);
    out.application = list.application.filter(|a| !a.trim().is_empty());
    Ok(out)
}
