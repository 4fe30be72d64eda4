//! System exports: facts imported from the systems of record instead of typed by hand.
//!
//! Each format is recognised by its shape wherever it sits in the tree (see docs/sources.md
//! for the command or API call that produces each): SCIM 2.0 `ListResponse`s ([`scim`]), Okta
//! users and factors ([`okta`]), Google Workspace `users.list` ([`google`]), Microsoft Graph
//! `users` and `userRegistrationDetails` ([`entra`]), an HR roster CSV ([`hr`]), GitHub
//! organisation settings, members without 2FA and branch protection ([`github`]), AWS Backup
//! jobs ([`aws_backup`]), Statuspage ([`statuspage`]) and PagerDuty ([`pagerduty`]) incidents.
//!
//! Parsing is per file and knows nothing of the inventory; unknown fields are tolerated (real
//! APIs add them), a malformed export is a problem at its location. [`apply`] then joins the
//! exports with the inventory resources: it imports facts (each attribute remembers its
//! source), compares identity providers and the HR roster with every application's accounts,
//! ages every export against `max_export_age_days` ([`settings`]), and records where a declared
//! value contradicts an export.

pub mod apply;
pub mod aws_backup;
pub mod entra;
pub mod github;
pub mod google;
pub mod hr;
pub mod json;
pub mod okta;
pub mod pagerduty;
pub mod scim;
pub mod settings;
pub mod statuspage;
pub mod time;

use std::sync::Arc;

use serde::Serialize;

use crate::error::Problem;
use crate::source::SourceFile;

pub use settings::Settings;

/// The kinds of export, as `max_export_age_days` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Scim,
    Okta,
    GoogleWorkspace,
    Entra,
    HrRoster,
    Github,
    AwsBackup,
    Statuspage,
    Pagerduty,
}

impl Kind {
    /// Every kind, for validation of `max_export_age_days`.
    pub const ALL: [Kind; 9] = [
        Kind::Scim,
        Kind::Okta,
        Kind::GoogleWorkspace,
        Kind::Entra,
        Kind::HrRoster,
        Kind::Github,
        Kind::AwsBackup,
        Kind::Statuspage,
        Kind::Pagerduty,
    ];

    /// The name `vouch.toml` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Scim => "scim",
            Kind::Okta => "okta",
            Kind::GoogleWorkspace => "google_workspace",
            Kind::Entra => "entra",
            Kind::HrRoster => "hr_roster",
            Kind::Github => "github",
            Kind::AwsBackup => "aws_backup",
            Kind::Statuspage => "statuspage",
            Kind::Pagerduty => "pagerduty",
        }
    }
}

/// An account's state in the system that exported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Suspended,
    Deprovisioned,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
            AccountStatus::Deprovisioned => "deprovisioned",
        }
    }
}

/// The strongest second factor known for an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    None,
    Other,
    PhishingResistant,
}

/// One account of a directory or application export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The system's own id (Okta `00u…`, SCIM `id`), for joins within one system.
    pub system_id: String,
    /// The sign-in name, lowercased (SCIM `userName`, Okta `profile.login`, Google
    /// `primaryEmail`, Entra `userPrincipalName`).
    pub login: String,
    /// Every e-mail address of the account, lowercased (the login included).
    pub emails: Vec<String>,
    pub status: AccountStatus,
    /// Day of the last sign-in (`None`: never, or not in the export).
    pub last_login: Option<i64>,
    /// MFA enrolment, when the export says (Google `isEnrolledIn2Sv`).
    pub mfa: Option<Factor>,
    /// MFA enforced for this account (Google `isEnforcedIn2Sv`).
    pub mfa_enforced: Option<bool>,
    pub admin: Option<bool>,
    /// Byte offset of the account's object in the file.
    pub offset: usize,
}

/// One enrolled factor (Okta Factors API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorRecord {
    /// The Okta user id the factor belongs to.
    pub user_id: String,
    pub factor_type: String,
    pub active: bool,
    pub offset: usize,
}

/// One user's authentication-method registration (Entra `userRegistrationDetails`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub login: String,
    pub mfa_registered: bool,
    pub methods: Vec<String>,
    pub admin: Option<bool>,
    pub offset: usize,
}

/// One person of the HR roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employee {
    pub employee_id: String,
    pub email: String,
    /// Employed on the run's date (status says so and no termination date has passed).
    pub status: String,
    pub termination: Option<i64>,
    pub line: u32,
    pub offset: usize,
}

/// One AWS Backup job (`list-backup-jobs`) or restore job (`list-restore-jobs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupJob {
    pub job_id: String,
    /// The protected resource (backup jobs), or the resource the recovery point was taken
    /// from when the restore job names it.
    pub resource_arn: Option<String>,
    pub recovery_point_arn: Option<String>,
    /// `COMPLETED`, `FAILED`, `ABORTED`, `EXPIRED`, `PARTIAL`, `RUNNING`, …
    pub state: String,
    pub message: Option<String>,
    /// Day the job was created, and (restores) completed.
    pub created: Option<i64>,
    pub completed: Option<i64>,
    pub offset: usize,
}

/// One incident of a status page or an incident-response tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    pub id: String,
    pub title: String,
    /// Services or components it affected (names as the tool spells them).
    pub components: Vec<String>,
    /// Minutes since the epoch when it started and was resolved.
    pub started: Option<i64>,
    pub resolved: Option<i64>,
    /// True when it took a component down (Statuspage impact `major`/`critical`, PagerDuty
    /// urgency `high`); partial degradations do not count against uptime.
    pub outage: bool,
    /// A postmortem or cause is recorded (`None`: the export cannot say).
    pub postmortem: Option<bool>,
    pub cause: Option<String>,
    pub offset: usize,
}

/// GitHub branch protection of one branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchProtection {
    /// `owner/name`.
    pub repository: String,
    pub branch: String,
    pub required_reviews: i64,
    pub signed_commits: bool,
    pub enforce_admins: bool,
}

/// What an export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A directory or application's accounts (SCIM users, Okta users, Google, Entra users).
    Accounts(Vec<Account>),
    /// SCIM groups: (display name, member ids).
    Groups(Vec<(String, Vec<String>)>),
    Factors(Vec<FactorRecord>),
    Registrations(Vec<Registration>),
    /// The HR roster, before its columns are mapped (mapping needs `vouch.toml`).
    Csv(hr::Table),
    GithubOrg {
        login: String,
        two_factor_required: Option<bool>,
    },
    /// Members of a GitHub organisation with two-factor authentication disabled.
    GithubNo2fa(Vec<(String, usize)>),
    BranchProtection(BranchProtection),
    BackupJobs(Vec<BackupJob>),
    RestoreJobs(Vec<BackupJob>),
    Incidents(Vec<IncidentRecord>),
}

/// The format of an export (finer than [`Kind`]: a kind can have several files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    ScimUsers,
    ScimGroups,
    OktaUsers,
    OktaFactors,
    GoogleUsers,
    EntraUsers,
    EntraRegistrations,
    HrRoster,
    GithubOrganization,
    GithubMembersWithout2fa,
    GithubBranchProtection,
    AwsBackupJobs,
    AwsRestoreJobs,
    StatuspageIncidents,
    PagerdutyIncidents,
}

impl Format {
    /// The kind whose maximum age applies.
    pub fn kind(self) -> Kind {
        match self {
            Format::ScimUsers | Format::ScimGroups => Kind::Scim,
            Format::OktaUsers | Format::OktaFactors => Kind::Okta,
            Format::GoogleUsers => Kind::GoogleWorkspace,
            Format::EntraUsers | Format::EntraRegistrations => Kind::Entra,
            Format::HrRoster => Kind::HrRoster,
            Format::GithubOrganization
            | Format::GithubMembersWithout2fa
            | Format::GithubBranchProtection => Kind::Github,
            Format::AwsBackupJobs | Format::AwsRestoreJobs => Kind::AwsBackup,
            Format::StatuspageIncidents => Kind::Statuspage,
            Format::PagerdutyIncidents => Kind::Pagerduty,
        }
    }

    /// The name results and `vouch.toml` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::ScimUsers => "scim_users",
            Format::ScimGroups => "scim_groups",
            Format::OktaUsers => "okta_users",
            Format::OktaFactors => "okta_factors",
            Format::GoogleUsers => "google_users",
            Format::EntraUsers => "entra_users",
            Format::EntraRegistrations => "entra_registrations",
            Format::HrRoster => "hr_roster",
            Format::GithubOrganization => "github_organization",
            Format::GithubMembersWithout2fa => "github_members_without_2fa",
            Format::GithubBranchProtection => "github_branch_protection",
            Format::AwsBackupJobs => "aws_backup_jobs",
            Format::AwsRestoreJobs => "aws_restore_jobs",
            Format::StatuspageIncidents => "statuspage_incidents",
            Format::PagerdutyIncidents => "pagerduty_incidents",
        }
    }

    /// The format named `s` in `vouch.toml`.
    pub fn parse(s: &str) -> Option<Format> {
        FORMATS.iter().copied().find(|f| f.as_str() == s)
    }
}

/// Every format.
pub const FORMATS: [Format; 15] = [
    Format::ScimUsers,
    Format::ScimGroups,
    Format::OktaUsers,
    Format::OktaFactors,
    Format::GoogleUsers,
    Format::EntraUsers,
    Format::EntraRegistrations,
    Format::HrRoster,
    Format::GithubOrganization,
    Format::GithubMembersWithout2fa,
    Format::GithubBranchProtection,
    Format::AwsBackupJobs,
    Format::AwsRestoreJobs,
    Format::StatuspageIncidents,
    Format::PagerdutyIncidents,
];

/// One parsed export file.
#[derive(Debug, Clone)]
pub struct ExportFile {
    pub path: String,
    pub text: Arc<str>,
    /// `sha256:` of the file's bytes.
    pub digest: String,
    pub format: Format,
    /// When the export was taken, from the file itself: a top-level `collected_at`, or else
    /// the newest timestamp among its records (a lower bound of the export time, so the age
    /// computed from it is never too young). `None`: the file holds no date.
    pub collected_at: Option<i64>,
    /// How `collected_at` was found (`collected_at`, `newest record`).
    pub collected_from: &'static str,
    pub content: Content,
    /// The application the export belongs to, when the file says (a top-level
    /// `"application"`); `vouch.toml` can declare it too.
    pub application: Option<String>,
    /// Line starts, for spans of records.
    pub lines: crate::lines::LineIndex,
}

impl ExportFile {
    /// An export of `file`: `declared` is the file's own `collected_at`, `newest` the newest
    /// record timestamp (used when nothing is declared).
    pub fn new(
        file: &SourceFile,
        format: Format,
        content: Content,
        declared: Option<i64>,
        newest: Option<i64>,
    ) -> Self {
        ExportFile {
            path: file.path.clone(),
            text: Arc::clone(&file.text),
            digest: digest(&file.text),
            format,
            collected_at: declared.or(newest),
            collected_from: if declared.is_some() {
                "collected_at"
            } else {
                "newest record"
            },
            content,
            application: None,
            lines: crate::lines::LineIndex::new(&file.text),
        }
    }

    /// A span at `offset` in this file.
    pub fn span(&self, offset: usize) -> crate::model::Span {
        self.lines.span(&self.path, &self.text, offset, 0)
    }

    /// `path:line` of `offset`, for messages.
    pub fn at(&self, offset: usize) -> String {
        format!("{}:{}", self.path, self.span(offset).line)
    }
}

/// The `sha256:` digest of a text.
pub fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

/// Recognises and parses a JSON export; `Ok(None)` when the file is none of ours.
pub fn parse_json(file: &SourceFile) -> Result<Option<ExportFile>, Vec<Problem>> {
    let Some(format) = recognise(file) else {
        return Ok(None);
    };
    let parsed = match format {
        Format::ScimUsers | Format::ScimGroups => scim::parse(file),
        Format::OktaUsers => okta::parse_users(file),
        Format::OktaFactors => okta::parse_factors(file),
        Format::GoogleUsers => google::parse(file),
        Format::EntraUsers => entra::parse_users(file),
        Format::EntraRegistrations => entra::parse_registrations(file),
        Format::GithubOrganization => github::parse_org(file),
        Format::GithubMembersWithout2fa => github::parse_members(file),
        Format::GithubBranchProtection => github::parse_protection(file),
        Format::AwsBackupJobs => aws_backup::parse_backup_jobs(file),
        Format::AwsRestoreJobs => aws_backup::parse_restore_jobs(file),
        Format::StatuspageIncidents => statuspage::parse(file),
        Format::PagerdutyIncidents => pagerduty::parse(file),
        Format::HrRoster => return Ok(None),
    }?;
    Ok(Some(parsed))
}

/// Recognises a CSV file as a candidate HR roster (its columns are mapped later, with the
/// settings of `vouch.toml`).
pub fn parse_csv(file: &SourceFile) -> Result<Option<ExportFile>, Vec<Problem>> {
    let table = hr::read_table(file)?;
    Ok(Some(ExportFile::new(
        file,
        Format::HrRoster,
        Content::Csv(table),
        None,
        None,
    )))
}

/// The format of a JSON file, from cheap markers of each shape (confirmed when parsed).
fn recognise(file: &SourceFile) -> Option<Format> {
    let t = &*file.text;
    let name = file.file_name().to_ascii_lowercase();
    if t.contains("urn:ietf:params:scim:api:messages:2.0:ListResponse") {
        return Some(
            if t.contains("urn:ietf:params:scim:schemas:core:2.0:Group") {
                Format::ScimGroups
            } else {
                Format::ScimUsers
            },
        );
    }
    if t.contains("\"BackupJobs\"") {
        return Some(Format::AwsBackupJobs);
    }
    if t.contains("\"RestoreJobs\"") {
        return Some(Format::AwsRestoreJobs);
    }
    if t.contains("admin#directory#users") {
        return Some(Format::GoogleUsers);
    }
    if t.contains("\"@odata.context\"") {
        if t.contains("userRegistrationDetails") {
            return Some(Format::EntraRegistrations);
        }
        if t.contains("$metadata#users") {
            return Some(Format::EntraUsers);
        }
    }
    if t.contains("\"factorType\"") {
        return Some(Format::OktaFactors);
    }
    if t.contains("\"incident_updates\"") {
        return Some(Format::StatuspageIncidents);
    }
    if t.contains("\"incident_number\"") {
        return Some(Format::PagerdutyIncidents);
    }
    if t.contains("\"required_pull_request_reviews\"") || t.contains("/protection\"") {
        return Some(Format::GithubBranchProtection);
    }
    if t.contains("\"two_factor_requirement_enabled\"") {
        return Some(Format::GithubOrganization);
    }
    if (name.contains("2fa_disabled") || name.contains("2fa-disabled")) && t.contains("\"login\"") {
        return Some(Format::GithubMembersWithout2fa);
    }
    if t.trim_start().starts_with('[')
        && t.contains("\"profile\"")
        && t.contains("\"login\"")
        && t.contains("\"status\"")
    {
        return Some(Format::OktaUsers);
    }
    None
}
