//! System exports through the real binary: orphan accounts, staleness, contradictions,
//! provenance in results and bundles, the inventory against Terraform, the basis of every
//! result, readiness that counts only what is shown, and organisation controls where there is
//! an organisation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{AS_OF, check_json, results_of, tree, vouch};
use serde_json::Value;

const INVENTORY: &str = r#"
[organization]
name = "acme"

[[identity_provider]]
id = "okta"
sso_enforced = true
mfa = "required"
scim = { enabled = true, deprovision_within_hours = 4 }
session_timeout_minutes = 480

[[application]]
id = "github"
critical_data = true
sso = true
scim = true

[[user]]
id = "maria"
email = "maria@acme.example"
status = "active"
mfa = true

[[user]]
id = "dave"
email = "dave@acme.example"
status = "deprovisioned"
mfa = true
"#;

fn okta_users(dave_status: &str) -> String {
    format!(
        r#"[
  {{"id":"00u1","status":"ACTIVE","lastLogin":"2026-11-24T08:00:00.000Z","lastUpdated":"2026-11-24T06:00:00.000Z",
    "profile":{{"login":"maria@acme.example","email":"maria@acme.example"}}}},
  {{"id":"00u2","status":"{dave_status}","lastUpdated":"2026-10-31T18:00:00.000Z",
    "profile":{{"login":"dave@acme.example","email":"dave@acme.example"}}}}
]"#
    )
}

const FACTORS: &str = r#"[
  {"id":"f1","factorType":"webauthn","status":"ACTIVE","_links":{"user":{"href":"https://acme.okta.com/api/v1/users/00u1"}}}
]"#;

fn scim(accounts: &[(&str, bool)]) -> String {
    let resources: Vec<String> = accounts
        .iter()
        .enumerate()
        .map(|(i, (login, active))| {
            format!(
                r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u{i}","userName":"{login}","active":{active},"meta":{{"resourceType":"User","lastModified":"2026-11-20T00:00:00Z"}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":{},"Resources":[
{}
]}}"#,
        accounts.len(),
        resources.join(",\n")
    )
}

fn config(okta_collected: &str) -> String {
    format!(
        r#"
[exports]
max_export_age_days = {{ default = 7 }}

[[exports.file]]
path = "exports/okta/*.json"
identity_provider = "okta"
collected_at = {okta_collected}

[[exports.file]]
path = "exports/github-users.json"
application = "github"
collected_at = 2026-11-24
"#
    )
}

fn status_of(json: &Value, control: &str, address: &str) -> Value {
    results_of(json, control)
        .into_iter()
        .find(|r| r["resource"]["address"] == address)
        .cloned()
        .unwrap_or_else(|| panic!("no {control} on {address}"))
}

fn messages(r: &Value) -> String {
    r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn an_account_active_in_an_application_but_deprovisioned_in_the_idp_is_an_orphan() {
    let dir = tree(&[
        ("inventory.toml", INVENTORY),
        ("vouch.toml", &config("2026-11-24")),
        ("exports/okta/users.json", &okta_users("DEPROVISIONED")),
        ("exports/okta/factors.json", FACTORS),
        (
            "exports/github-users.json",
            &scim(&[("maria@acme.example", true), ("dave@acme.example", true)]),
        ),
    ]);
    let (code, json, stderr) = check_json(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    let r = status_of(&json, "scim-orphan-accounts", "application:github");
    assert_eq!(r["status"], "fail");
    assert_eq!(r["basis"], "system_export");
    let m = messages(&r);
    assert!(
        m.contains("`dave@acme.example` is active in `github` (exports/github-users.json:3)")
            && m.contains("deprovisioned in the identity provider (exports/okta/users.json:4)"),
        "{m}"
    );
    assert!(!m.contains("maria"), "{m}");
    // Its provenance: the application export and the directory, with digests and ages.
    let sources = r["sources"].as_array().unwrap();
    let files: Vec<&str> = sources
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"exports/github-users.json"), "{files:?}");
    assert!(files.contains(&"exports/okta/users.json"), "{files:?}");
    assert!(
        files.contains(&"inventory.toml"),
        "the declaration too: {files:?}"
    );
    let gh = sources
        .iter()
        .find(|s| s["file"] == "exports/github-users.json")
        .unwrap();
    assert_eq!(gh["origin"], "imported");
    assert!(gh["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(gh["collected_at"], "2026-11-24");
    assert_eq!(gh["age_days"], 1);
    assert!(gh.get("stale").is_none());
}

#[test]
fn accounts_that_match_the_idp_are_no_orphans() {
    let dir = tree(&[
        ("inventory.toml", INVENTORY),
        ("vouch.toml", &config("2026-11-24")),
        ("exports/okta/users.json", &okta_users("DEPROVISIONED")),
        ("exports/okta/factors.json", FACTORS),
        (
            "exports/github-users.json",
            &scim(&[("maria@acme.example", true), ("dave@acme.example", false)]),
        ),
    ]);
    let (_, json, stderr) = check_json(dir.path(), &[]);
    assert!(json["problems"].as_array().unwrap().is_empty(), "{stderr}");
    let r = status_of(&json, "scim-orphan-accounts", "application:github");
    assert_eq!(r["status"], "pass", "{}", messages(&r));
    assert_eq!(r["basis"], "system_export");
}

#[test]
fn an_account_absent_from_the_idp_or_gone_from_the_hr_roster_is_an_orphan() {
    let dir = tree(&[
        ("inventory.toml", INVENTORY),
        ("vouch.toml", &config("2026-11-24")),
        ("exports/okta/users.json", &okta_users("ACTIVE")),
        (
            "exports/hr.csv",
            "employee_id,email,status,termination_date\nE1,maria@acme.example,Active,\nE2,dave@acme.example,Active,2026-10-31\n",
        ),
        (
            "exports/github-users.json",
            &scim(&[
                ("maria@acme.example", true),
                ("dave@acme.example", true),
                ("ghost@acme.example", true),
            ]),
        ),
    ]);
    let (_, json, _) = check_json(dir.path(), &[]);
    let r = status_of(&json, "scim-orphan-accounts", "application:github");
    let m = messages(&r);
    assert!(
        m.contains("`ghost@acme.example` is active in `github`")
            && m.contains("has no account in the identity provider"),
        "{m}"
    );
    assert!(
        m.contains("`dave@acme.example` is active in `github`")
            && m.contains("left the company on 2026-10-31 per the HR roster (exports/hr.csv:3)"),
        "{m}"
    );
    // The roster is the source of truth for leavers: dave's employment has ended.
    let leaver = status_of(&json, "leavers-deprovisioned", "user:dave");
    assert_eq!(leaver["basis"], "system_export");
}

#[test]
fn an_application_without_an_export_is_undetermined_once_exports_exist() {
    let inv = format!(
        "{INVENTORY}\n[[application]]\nid = \"metabase\"\ncritical_data = true\nsso = true\n"
    );
    let dir = tree(&[
        ("inventory.toml", inv.as_str()),
        ("vouch.toml", &config("2026-11-24")),
        ("exports/okta/users.json", &okta_users("ACTIVE")),
        (
            "exports/github-users.json",
            &scim(&[("maria@acme.example", true)]),
        ),
    ]);
    let (_, json, _) = check_json(dir.path(), &[]);
    let r = status_of(&json, "scim-orphan-accounts", "application:metabase");
    assert_eq!(r["status"], "fail");
    assert_eq!(r["unknown"], serde_json::json!(["orphan_accounts"]));
    assert!(
        messages(&r).contains("no account export of `metabase` is in the tree"),
        "{}",
        messages(&r)
    );
}

#[test]
fn a_scim_export_nobody_declared_fails_the_run_at_its_location() {
    let dir = tree(&[
        ("inventory.toml", INVENTORY),
        ("exports/users.json", &scim(&[("maria@acme.example", true)])),
    ]);
    let (code, json, _) = check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    let p = &json["problems"][0];
    assert_eq!(p["file"], "exports/users.json");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("does not say whose accounts"),
        "{p}"
    );
}

#[test]
fn a_stale_export_fails_the_controls_that_read_it_and_a_fresh_one_passes() {
    let files = |collected: &str| {
        tree(&[
            ("inventory.toml", INVENTORY),
            ("vouch.toml", &config(collected)),
            ("exports/okta/users.json", &okta_users("DEPROVISIONED")),
            ("exports/okta/factors.json", FACTORS),
            (
                "exports/github-users.json",
                &scim(&[("maria@acme.example", true)]),
            ),
        ])
    };
    let fresh = files("2026-11-24");
    let (_, json, _) = check_json(fresh.path(), &[]);
    let r = status_of(&json, "user-mfa-enrolled", "user:maria");
    assert_eq!(
        (r["status"].as_str(), r["basis"].as_str()),
        (Some("pass"), Some("system_export"))
    );

    let stale = files("2026-10-01");
    let (code, json, _) = check_json(stale.path(), &[]);
    assert_eq!(code, 1);
    let r = status_of(&json, "user-mfa-enrolled", "user:maria");
    assert_eq!(r["status"], "fail");
    let m = messages(&r);
    assert!(
        m.contains("stale: the okta_users export `exports/okta/users.json` was taken on 2026-10-01, 55 days ago, over its maximum age of 7 days"),
        "{m}"
    );
    let src = r["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["file"] == "exports/okta/users.json")
        .unwrap();
    assert_eq!(src["stale"], true);
    // A control that reads nothing from the stale export is not touched by it.
    let sso = status_of(&json, "sso-enforced", "identity_provider:okta");
    assert_eq!(sso["status"], "pass");
}

#[test]
fn a_declared_fact_that_contradicts_an_export_is_a_finding_with_both_sides() {
    let inv = INVENTORY.replace(
        "id = \"dave\"\nemail = \"dave@acme.example\"\nstatus = \"deprovisioned\"",
        "id = \"dave\"\nemail = \"dave@acme.example\"\nstatus = \"active\"",
    );
    let dir = tree(&[
        ("inventory.toml", inv.as_str()),
        ("vouch.toml", &config("2026-11-24")),
        ("exports/okta/users.json", &okta_users("DEPROVISIONED")),
    ]);
    let (_, json, _) = check_json(dir.path(), &[]);
    let r = status_of(
        &json,
        "declared-facts-match-exports",
        "identity_provider:okta",
    );
    assert_eq!(r["status"], "fail");
    let m = messages(&r);
    assert!(
        m.contains("user `dave`: `status` is declared `active` (inventory.toml:24) but the okta_users export says `deprovisioned` (exports/okta/users.json:4)"),
        "{m}"
    );
    // The export's value is the one evaluated.
    let dave = status_of(&json, "user-mfa-enrolled", "user:dave");
    assert_eq!(
        dave["status"], "pass",
        "a deprovisioned account needs no factor"
    );

    let agreeing = tree(&[
        ("inventory.toml", INVENTORY),
        ("vouch.toml", &config("2026-11-24")),
        ("exports/okta/users.json", &okta_users("DEPROVISIONED")),
    ]);
    let (_, json, _) = check_json(agreeing.path(), &[]);
    let r = status_of(
        &json,
        "declared-facts-match-exports",
        "identity_provider:okta",
    );
    assert_eq!(r["status"], "pass", "{}", messages(&r));
}

const DATASTORES: &str = r#"
[organization]
name = "acme"

[[datastore]]
id = "pg-globex"
engine = "postgres"
region = "eu-central-1"
encrypted = true
backup = { enabled = true, retention_days = 35, copies = ["eu-west-1"] }
last_restore_test = 2026-11-01
"#;

fn backup_jobs(state: &str) -> String {
    format!(
        r#"{{"BackupJobs":[
{{"BackupJobId":"b-old","ResourceArn":"arn:aws:rds:eu-central-1:1:db:acme-pg-globex","State":"COMPLETED","RecoveryPointArn":"arn:aws:rds:eu-central-1:1:snapshot:awsbackup:job-old","CreationDate":"2026-10-31T03:00:00+00:00"}},
{{"BackupJobId":"b-new","ResourceArn":"arn:aws:rds:eu-central-1:1:db:acme-pg-globex","State":"{state}","StatusMessage":"Access denied","CreationDate":"2026-11-23T03:00:00+00:00"}}
],"collected_at":"2026-11-24T06:00:00Z"}}"#
    )
}

fn restore_jobs(status: &str) -> String {
    format!(
        r#"{{"RestoreJobs":[{{"RestoreJobId":"r1","RecoveryPointArn":"arn:aws:rds:eu-central-1:1:snapshot:awsbackup:job-old","Status":"{status}","CreationDate":"2026-11-01T09:00:00Z","CompletionDate":"2026-11-01T09:50:00Z"}}],"collected_at":"2026-11-24T06:00:00Z"}}"#
    )
}

#[test]
fn the_last_restore_comes_from_a_real_restore_job_and_failed_backups_are_findings() {
    let good = tree(&[
        ("inventory.toml", DATASTORES),
        ("backup/jobs.json", &backup_jobs("COMPLETED")),
        ("backup/restores.json", &restore_jobs("COMPLETED")),
    ]);
    let (_, json, _) = check_json(good.path(), &[]);
    let r = status_of(&json, "restore-tested-recently", "datastore:pg-globex");
    assert_eq!(
        (r["status"].as_str(), r["basis"].as_str()),
        (Some("pass"), Some("system_export"))
    );
    assert_eq!(
        status_of(&json, "backup-jobs-succeed", "datastore:pg-globex")["status"],
        "pass"
    );

    let bad = tree(&[
        ("inventory.toml", DATASTORES),
        ("backup/jobs.json", &backup_jobs("FAILED")),
        ("backup/restores.json", &restore_jobs("FAILED")),
    ]);
    let (_, json, _) = check_json(bad.path(), &[]);
    let r = status_of(&json, "restore-tested-recently", "datastore:pg-globex");
    assert_eq!(
        r["status"], "fail",
        "the typed date does not count once restore jobs are exported"
    );
    assert!(
        messages(&r).contains("restore job `r1` of `pg-globex` failed on 2026-11-01"),
        "{}",
        messages(&r)
    );
    let b = status_of(&json, "backup-jobs-succeed", "datastore:pg-globex");
    assert_eq!(b["status"], "fail");
    assert!(messages(&b).contains("backup job `b-new` of `pg-globex` failed on 2026-11-23: Access denied (backup/jobs.json:3)"), "{}", messages(&b));
    let c = status_of(&json, "declared-facts-match-exports", "datastore:pg-globex");
    assert!(
        messages(&c).contains("no completed restore job of `pg-globex`"),
        "{}",
        messages(&c)
    );
}

const TF: &str = r#"
resource "aws_kms_key" "data" {
  enable_key_rotation = true
}

resource "aws_kms_key" "globex" {
  enable_key_rotation = true
}

resource "aws_db_instance" "globex" {
  engine            = "postgres"
  storage_encrypted = ENCRYPTED
  kms_key_id        = aws_kms_key.KEY.arn
}

resource "aws_db_instance" "shared" {
  engine            = "postgres"
  storage_encrypted = true
  kms_key_id        = aws_kms_key.data.arn
}
"#;

const TENANT: &str = r#"
[organization]
name = "acme"

[[tenant]]
id = "globex"
tier = "enterprise"
isolation = "dedicated_database"
residency = ["eu"]
customer_key = "kms-globex"
datastores = ["pg-globex"]

[[datastore]]
id = "pg-globex"
engine = "postgres"
region = "eu-central-1"
encrypted = true
encryption_key = "kms-globex"
"#;

#[test]
fn the_inventory_must_agree_with_terraform_on_encryption_key_and_dedication() {
    let consistent = tree(&[
        ("inventory.toml", TENANT),
        (
            "main.tf",
            &TF.replace("ENCRYPTED", "true").replace("KEY", "globex"),
        ),
    ]);
    let (_, json, _) = check_json(consistent.path(), &[]);
    for address in ["datastore:pg-globex", "tenant:globex"] {
        let r = status_of(&json, "inventory-matches-infrastructure", address);
        assert_eq!(r["status"], "pass", "{address}: {}", messages(&r));
    }

    let drifted = tree(&[
        ("inventory.toml", TENANT),
        (
            "main.tf",
            &TF.replace("ENCRYPTED", "false").replace("KEY", "data"),
        ),
    ]);
    let (_, json, _) = check_json(drifted.path(), &[]);
    let ds = status_of(
        &json,
        "inventory-matches-infrastructure",
        "datastore:pg-globex",
    );
    assert_eq!(ds["status"], "fail");
    let m = messages(&ds);
    assert!(m.contains("encryption: the inventory declares `pg-globex` encrypted (inventory.toml:13) but Terraform `aws_db_instance.globex` (main.tf:10) is not encrypted"), "{m}");
    assert!(m.contains("key: the inventory declares `pg-globex` encrypted with `kms-globex` (inventory.toml:13) but Terraform `aws_db_instance.globex` (main.tf:10) uses `aws_kms_key.data` (main.tf:2)"), "{m}");
    let t = status_of(&json, "inventory-matches-infrastructure", "tenant:globex");
    assert_eq!(t["status"], "fail");
    assert!(
        messages(&t).contains("dedication: tenant `globex` has its own key `kms-globex` (inventory.toml:5) but its data in Terraform is encrypted with `aws_kms_key.data` (main.tf:2), which also encrypts `aws_db_instance.shared`"),
        "{}",
        messages(&t)
    );
}

#[test]
fn an_explicit_terraform_link_to_nothing_is_a_problem() {
    let inv = TENANT.replace(
        "encryption_key = \"kms-globex\"",
        "encryption_key = \"kms-globex\"\nterraform = \"aws_db_instance.globexx\"",
    );
    let dir = tree(&[
        ("inventory.toml", inv.as_str()),
        (
            "main.tf",
            &TF.replace("ENCRYPTED", "true").replace("KEY", "globex"),
        ),
    ]);
    let (code, json, _) = check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        json["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no Terraform resource `aws_db_instance.globexx`"),
        "{}",
        json["problems"]
    );
}

const ATTESTATIONS_ONLY: &str = r#"
[[attestation]]
control = "information-security-policy"
owner = "ciso"
evidence = "https://example.invalid/trust-me"
date = 2026-01-10
expires = 2027-01-10

[[attestation]]
control = "risk-assessment"
owner = "ciso"
evidence = "https://example.invalid/trust-me"
date = 2026-01-10
expires = 2027-01-10
"#;

#[test]
fn an_attestation_only_inventory_cannot_look_ready_and_check_says_so() {
    let dir = tree(&[("inventory.toml", ATTESTATIONS_ONLY)]);
    let out = vouch()
        .args(["roadmap"])
        .arg(dir.path())
        .args(["--as-of", AS_OF, "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    for fw in ["soc2", "iso27001", "hipaa"] {
        let r = &json["readiness"][fw];
        assert_eq!(r["percent"], 0, "{fw}: {r}");
        assert!(
            r["met"].as_u64().unwrap() > 0,
            "{fw}: the attested requirements are met, but not shown"
        );
        assert_eq!(
            r["by_basis"]["attestation_unverified"], r["met"],
            "{fw}: {r}"
        );
        assert_eq!(r["by_basis"]["configuration"], 0);
    }
    let human = vouch()
        .arg("check")
        .arg(dir.path())
        .args(["--as-of", AS_OF])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("nothing was verified: every result rests on declarations or on attestations without evidence files"), "{text}");
}

#[test]
fn an_attestation_with_an_evidence_file_counts_and_is_bundled() {
    let inv = ATTESTATIONS_ONLY.replacen(
        "evidence = \"https://example.invalid/trust-me\"",
        "evidence = \"policy v4\"\nevidence_file = \"evidence/policy.pdf\"",
        1,
    );
    let dir = tree(&[
        ("inventory.toml", inv.as_str()),
        ("evidence/policy.pdf", "%PDF-1.7 signed policy"),
    ]);
    let (_, json, _) = check_json(dir.path(), &[]);
    let r = &results_of(&json, "information-security-policy")[0];
    assert_eq!(r["basis"], "attestation");
    assert!(
        r["attestation"]["evidence_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(
        results_of(&json, "risk-assessment")[0]["basis"],
        "attestation_unverified"
    );

    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("b");
    let o = vouch()
        .args(["evidence", "bundle"])
        .arg(dir.path())
        .arg("--out")
        .arg(&bundle)
        .args(["--as-of", AS_OF, "--collected-at", "2026-11-25T10:00:00Z"])
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read(bundle.join("inputs/evidence/policy.pdf")).unwrap(),
        b"%PDF-1.7 signed policy"
    );

    let missing = tree(&[("inventory.toml", inv.as_str())]);
    let (code, json, _) = check_json(missing.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        json["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("names evidence file `evidence/policy.pdf`"),
        "{}",
        json["problems"]
    );
}

#[test]
fn exports_are_bundled_with_their_provenance() {
    let dir = tree(&[
        ("inventory.toml", INVENTORY),
        ("vouch.toml", &config("2026-11-24")),
        ("exports/okta/users.json", &okta_users("ACTIVE")),
        (
            "exports/github-users.json",
            &scim(&[("maria@acme.example", true)]),
        ),
    ]);
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("b");
    let o = vouch()
        .args(["evidence", "bundle"])
        .arg(dir.path())
        .arg("--out")
        .arg(&bundle)
        .args(["--as-of", AS_OF, "--collected-at", "2026-11-25T10:00:00Z"])
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(bundle.join("inputs/exports/okta/users.json").is_file());
    let a: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("assessment.json")).unwrap()).unwrap();
    assert_eq!(a["files"]["exports/okta/users.json"], "system_export");
    let orphan = results_of(&a, "scim-orphan-accounts");
    assert!(
        orphan[0]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["file"] == "exports/okta/users.json" && s["digest"].as_str().is_some())
    );
}

#[test]
fn a_terraform_only_repository_reports_organisation_controls_once_and_exits_clean() {
    let dir = tree(&[(
        "main.tf",
        "resource \"aws_kms_key\" \"k\" {\n  enable_key_rotation = true\n}\n",
    )]);
    let (code, json, stderr) = check_json(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let n = &json["not_evaluated"];
    let controls = n["controls"].as_array().unwrap();
    assert!(
        controls.iter().any(|c| c == "penetration-test"),
        "manual controls: {n}"
    );
    assert!(
        controls.iter().any(|c| c == "scim-orphan-accounts"),
        "inventory-only controls: {n}"
    );
    assert!(
        results_of(&json, "penetration-test").is_empty(),
        "no result per manual control"
    );
    assert!(n["help"].as_str().unwrap().contains("[organization]"));
    let human = vouch()
        .arg("check")
        .arg(dir.path())
        .args(["--as-of", AS_OF])
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(0));
    let text = String::from_utf8_lossy(&human.stdout);
    assert_eq!(
        text.matches("organisation controls were not evaluated")
            .count(),
        1,
        "{text}"
    );
    assert!(results_of(&json, "kms-key-rotation")[0]["basis"] == "configuration");
}

#[test]
fn the_same_exports_give_byte_identical_json() {
    let dir = tree(&[
        ("inventory.toml", INVENTORY),
        ("vouch.toml", &config("2026-11-24")),
        ("exports/okta/users.json", &okta_users("DEPROVISIONED")),
        ("exports/okta/factors.json", FACTORS),
        (
            "exports/github-users.json",
            &scim(&[("dave@acme.example", true), ("maria@acme.example", true)]),
        ),
    ]);
    let run = || {
        vouch()
            .arg("check")
            .arg(dir.path())
            .args(["--as-of", AS_OF, "--format", "json"])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run(), run());
}

#[test]
fn the_roadmap_lists_the_exports_it_rests_on_with_their_age() {
    let dir = tree(&[
        ("inventory.toml", INVENTORY),
        ("vouch.toml", &config("2026-10-01")),
        ("exports/okta/users.json", &okta_users("DEPROVISIONED")),
        ("exports/okta/factors.json", FACTORS),
        (
            "exports/github-users.json",
            &scim(&[("maria@acme.example", true)]),
        ),
    ]);
    let out = vouch()
        .arg("roadmap")
        .arg(dir.path())
        .args(["--as-of", AS_OF, "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let exports = json["exports"].as_array().unwrap();
    let okta = exports
        .iter()
        .find(|e| e["file"] == "exports/okta/users.json")
        .unwrap();
    assert_eq!(
        (okta["age_days"].as_i64(), okta["stale"].as_bool()),
        (Some(55), Some(true))
    );
    let gh = exports
        .iter()
        .find(|e| e["file"] == "exports/github-users.json")
        .unwrap();
    assert!(gh.get("stale").is_none() && gh["digest"].as_str().unwrap().starts_with("sha256:"));
    let text = vouch()
        .arg("roadmap")
        .arg(dir.path())
        .args(["--as-of", AS_OF])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("exports/okta/users.json (okta_users): taken 2026-10-01, 55 days old — stale: export it again"), "{text}");
}
