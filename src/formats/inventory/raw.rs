//! The inventory file as written by hand: serde structs with `deny_unknown_fields` and spans.
//!
//! Every kind is an array of tables (`[[tenant]]`), except `[organization]`. The meaning of each
//! field is documented in docs/inventory.md; keep the two in step.

use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

/// Top-level keys that make a TOML file an inventory.
pub const KINDS: &[&str] = &[
    "organization",
    "identity_provider",
    "application",
    "tier",
    "tenant",
    "datastore",
    "search_cluster",
    "service",
    "incident",
    "integration",
    "audit_log",
    "repository",
    "user",
    "group",
    "role",
    "grant",
    "separation_of_duties",
    "attestation",
    "resource",
    "key",
];

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawInventory {
    pub organization: Option<Spanned<RawOrganization>>,
    #[serde(default)]
    pub identity_provider: Vec<Spanned<RawIdentityProvider>>,
    #[serde(default)]
    pub application: Vec<Spanned<RawApplication>>,
    #[serde(default)]
    pub tier: Vec<Spanned<RawTier>>,
    #[serde(default)]
    pub tenant: Vec<Spanned<RawTenant>>,
    #[serde(default)]
    pub datastore: Vec<Spanned<RawDatastore>>,
    #[serde(default)]
    pub search_cluster: Vec<Spanned<RawSearchCluster>>,
    #[serde(default)]
    pub service: Vec<Spanned<RawService>>,
    #[serde(default)]
    pub incident: Vec<Spanned<RawIncident>>,
    #[serde(default)]
    pub integration: Vec<Spanned<RawIntegration>>,
    #[serde(default)]
    pub audit_log: Vec<Spanned<RawAuditLog>>,
    #[serde(default)]
    pub repository: Vec<Spanned<RawRepository>>,
    #[serde(default)]
    pub user: Vec<Spanned<RawUser>>,
    #[serde(default)]
    pub group: Vec<Spanned<RawGroup>>,
    #[serde(default)]
    pub role: Vec<Spanned<RawRole>>,
    #[serde(default)]
    pub grant: Vec<Spanned<RawGrant>>,
    #[serde(default)]
    pub separation_of_duties: Vec<Spanned<RawSeparation>>,
    #[serde(default)]
    pub attestation: Vec<Spanned<RawAttestation>>,
    #[serde(default)]
    pub resource: Vec<Spanned<RawResource>>,
    #[serde(default)]
    pub key: Vec<Spanned<RawKey>>,
}

/// An encryption key the inventory names (`encryption_key`, `customer_key`), linked to its
/// Terraform resource so that the keys Terraform uses can be compared with the inventory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    pub id: String,
    /// The Terraform address (`aws_kms_key.globex`); default: the match rule of
    /// docs/inventory.md.
    pub terraform: Option<Spanned<String>>,
}

/// Something access is granted on that no other kind declares (an AWS account, a console).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResource {
    /// `<kind>:<name>`, as grants name it (`aws_account:prod`).
    pub id: String,
    #[serde(default = "unknown_text")]
    pub environment: String,
    #[serde(default = "unknown_text")]
    pub classification: String,
    #[serde(default)]
    pub tenants: Vec<String>,
}

fn unknown_text() -> String {
    "unknown".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrganization {
    pub name: String,
    pub last_access_review: Option<Datetime>,
    #[serde(default)]
    pub dr_plan: bool,
    pub last_dr_exercise: Option<Datetime>,
    #[serde(default)]
    pub break_glass_monitored: bool,
    /// Bound for "inactive account" findings (days, default 90).
    pub inactive_after_days: Option<i64>,
    /// Bound for "unused grant" findings (days, default 90).
    pub unused_after_days: Option<i64>,
}

/// MFA strength, weakest first.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Mfa {
    Off,
    Optional,
    Required,
    PhishingResistant,
}

impl Mfa {
    pub fn as_str(self) -> &'static str {
        match self {
            Mfa::Off => "off",
            Mfa::Optional => "optional",
            Mfa::Required => "required",
            Mfa::PhishingResistant => "phishing_resistant",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdentityProvider {
    pub id: String,
    pub sso_enforced: bool,
    pub mfa: Mfa,
    /// MFA for administrators; defaults to `mfa`.
    pub admin_mfa: Option<Mfa>,
    #[serde(default)]
    pub scim: RawScim,
    pub session_timeout_minutes: Option<i64>,
    #[serde(default)]
    pub local_password_login: bool,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawScim {
    #[serde(default)]
    pub enabled: bool,
    pub deprovision_within_hours: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApplication {
    pub id: String,
    #[serde(default)]
    pub critical_data: bool,
    #[serde(default)]
    pub sso: bool,
    #[serde(default)]
    pub scim: bool,
}

/// Tenant isolation level, weakest first.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    Shared,
    Shard,
    DedicatedDatabase,
    DedicatedAccount,
}

impl Isolation {
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::Shared => "shared",
            Isolation::Shard => "shard",
            Isolation::DedicatedDatabase => "dedicated_database",
            Isolation::DedicatedAccount => "dedicated_account",
        }
    }
}

/// A tenant obligation a contract may carry.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    CustomerKey,
    DedicatedDatabase,
    DedicatedAccount,
    UptimeReporting,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTier {
    pub id: String,
    #[serde(default)]
    pub requires: Vec<Requirement>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    pub id: String,
    pub tier: Spanned<String>,
    pub isolation: Isolation,
    pub shard: Option<String>,
    pub region: Option<String>,
    #[serde(default)]
    pub residency: Vec<String>,
    pub customer_key: Option<String>,
    /// Obligations on top of the tier's.
    #[serde(default)]
    pub requires: Vec<Requirement>,
    pub cloud_account: Option<String>,
    #[serde(default = "empty_list")]
    pub datastores: Spanned<Vec<String>>,
    #[serde(default = "empty_list")]
    pub search_clusters: Spanned<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatastore {
    pub id: String,
    pub engine: String,
    #[serde(default = "production")]
    pub environment: String,
    pub region: String,
    pub encrypted: bool,
    pub encryption_key: Option<String>,
    #[serde(default)]
    pub public: bool,
    pub cloud_account: Option<String>,
    /// public | internal | confidential | customer_data | phi (default customer_data).
    #[serde(default = "customer_data")]
    pub classification: String,
    #[serde(default)]
    pub backup: RawBackup,
    pub last_restore_test: Option<Datetime>,
    /// Its Terraform resource (`aws_db_instance.globex`); default: the match rule of
    /// docs/inventory.md.
    pub terraform: Option<Spanned<String>>,
}

fn customer_data() -> String {
    "customer_data".to_owned()
}

fn empty_list() -> Spanned<Vec<String>> {
    Spanned::new(0..0, Vec::new())
}

fn production() -> String {
    "production".to_owned()
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawBackup {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub retention_days: i64,
    /// Regions holding a copy of the backups.
    #[serde(default)]
    pub copies: Vec<String>,
    /// Defaults to the datastore's own encryption.
    pub encrypted: Option<bool>,
    /// Defaults to the datastore's own key.
    pub encryption_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSearchCluster {
    pub id: String,
    pub region: String,
    #[serde(default = "production")]
    pub environment: String,
    pub encrypted: bool,
    pub encryption_key: Option<String>,
    #[serde(default)]
    pub public: bool,
    pub cloud_account: Option<String>,
    /// Its Terraform resource (`aws_opensearch_domain.globex`); default: the match rule.
    pub terraform: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub id: String,
    #[serde(default)]
    pub customer_facing: bool,
    #[serde(default = "production")]
    pub environment: String,
    /// The monitor that measures its uptime (a name, e.g. "pingdom:api"); absent = none.
    pub uptime_monitor: Option<String>,
    /// The availability objective, e.g. "99.9".
    pub slo: Option<String>,
    pub tls_min_version: Option<String>,
    /// Tenants that receive a per-tenant uptime report from this service.
    #[serde(default)]
    pub tenant_uptime_reports: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIncident {
    pub id: String,
    pub service: Spanned<String>,
    pub started: Option<Datetime>,
    #[serde(default)]
    pub downtime_minutes: i64,
    pub cause: Option<String>,
    #[serde(default)]
    pub postmortem: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntegration {
    pub id: String,
    pub approved: bool,
    #[serde(default = "other")]
    pub category: String,
    #[serde(default)]
    pub data_access: Vec<String>,
    #[serde(default)]
    pub baa_signed: bool,
}

fn other() -> String {
    "other".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuditLog {
    pub id: String,
    pub source: String,
    /// The SIEM the logs are exported to; absent = not exported.
    pub siem: Option<String>,
    pub retention_days: i64,
    #[serde(default)]
    pub immutable: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRepository {
    pub id: String,
    #[serde(default)]
    pub infrastructure: bool,
    #[serde(default)]
    pub protected_default_branch: bool,
    #[serde(default)]
    pub required_reviews: i64,
    #[serde(default)]
    pub signed_commits: bool,
}

/// Identity-provider status of an account.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Suspended,
    Deprovisioned,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Suspended => "suspended",
            UserStatus::Deprovisioned => "deprovisioned",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUser {
    pub id: String,
    pub email: Option<String>,
    pub status: UserStatus,
    pub employment_end: Option<Datetime>,
    pub last_login: Option<Datetime>,
    #[serde(default)]
    pub mfa: bool,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub break_glass: bool,
    pub region: Option<String>,
    /// Tenants whose support rotation this person is on.
    #[serde(default)]
    pub support_rotation: Vec<String>,
    #[serde(default = "empty_list")]
    pub groups: Spanned<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub id: String,
    /// Groups this group is nested in.
    #[serde(default = "empty_list")]
    pub member_of: Spanned<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    pub id: String,
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub actions: Vec<String>,
    /// Resource kinds it applies to (`datastore`, `aws_account`, …).
    #[serde(default)]
    pub resource_kinds: Vec<String>,
    /// The access level a grant of this role gives (`read`, `write` or `admin`), as access
    /// requests ask for it. Default: `admin` when privileged, `write` when an action changes
    /// something (write, deploy, delete, ddl, grant, `*`, …), else `read`.
    pub access: Option<AccessLevel>,
    /// Approval authority: a grant of this role lets its holder approve access to what the
    /// grant names (and, unless `access` says otherwise, gives no data access itself).
    #[serde(default)]
    pub approves: bool,
}

/// The access level of a role.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    Read,
    Write,
    Admin,
}

impl AccessLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::Read => "read",
            AccessLevel::Write => "write",
            AccessLevel::Admin => "admin",
        }
    }
}

impl RawRole {
    /// The access level a grant of this role gives.
    pub fn level(&self) -> AccessLevel {
        const CHANGES: &[&str] = &[
            "write", "deploy", "delete", "update", "create", "put", "ddl", "grant", "admin",
            "approve", "exec", "*",
        ];
        self.access.unwrap_or_else(|| {
            if self.privileged {
                AccessLevel::Admin
            } else if self
                .actions
                .iter()
                .any(|a| CHANGES.iter().any(|c| a.to_ascii_lowercase().contains(c)))
            {
                AccessLevel::Write
            } else {
                AccessLevel::Read
            }
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrant {
    pub id: Option<String>,
    pub user: Option<Spanned<String>>,
    pub group: Option<Spanned<String>>,
    pub role: Spanned<String>,
    /// What the role is granted on (`datastore:pg-globex`, `aws_account:prod`, `*`).
    pub resource: String,
    pub approved_by: Option<String>,
    pub ticket: Option<String>,
    pub since: Option<Datetime>,
    pub until: Option<Datetime>,
    pub last_used: Option<Datetime>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSeparation {
    /// Roles that one person must not hold together.
    pub roles: Spanned<Vec<String>>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawAttestation {
    /// The manual control attested.
    pub control: String,
    pub owner: String,
    /// Where the evidence lives (a document URL, a ticket).
    pub evidence: String,
    /// The evidence as a file in the tree (relative to the scanned root): its digest is
    /// recorded and the file is included in evidence bundles, so the attestation counts as
    /// shown.
    pub evidence_file: Option<String>,
    pub date: Datetime,
    pub expires: Datetime,
}
