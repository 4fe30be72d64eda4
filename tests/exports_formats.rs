//! System export parsers: each format recognised by shape from a real-shaped sample, unknown
//! fields tolerated, malformed input a problem at its location, and no panic on any input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use vouch::formats::exports::{AccountStatus, Content, ExportFile, Factor, Format};
use vouch::formats::{LoadContext, Parsed, parse_file};
use vouch::source::SourceFile;

fn ctx() -> LoadContext {
    LoadContext {
        as_of_days: vouch::dates::parse_date("2026-11-25").unwrap(),
        ..LoadContext::default()
    }
}

fn export(path: &str, text: &str) -> std::sync::Arc<ExportFile> {
    match parse_file(&SourceFile::new(path, text), &ctx()) {
        Ok(Parsed::Export(e)) => e,
        Ok(other) => panic!("{path} not read as an export: {:?}", other.kind()),
        Err(ps) => panic!(
            "{path}: {:?}",
            ps.iter().map(|p| &p.message).collect::<Vec<_>>()
        ),
    }
}

fn problems(path: &str, text: &str) -> Vec<vouch::error::Problem> {
    match parse_file(&SourceFile::new(path, text), &ctx()) {
        Err(ps) => ps,
        Ok(p) => panic!("{path} parsed: {:?}", p.kind()),
    }
}

const SCIM_USERS: &str = r#"{
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
  "totalResults": 2, "startIndex": 1, "itemsPerPage": 2,
  "Resources": [
    {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
     "id": "2819c223", "externalId": "bjensen", "userName": "BJensen@example.com",
     "name": {"familyName": "Jensen", "givenName": "Barbara"},
     "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}],
     "active": true,
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"},
     "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z",
              "lastModified": "2026-11-20T04:56:22Z", "version": "W/\"3694e05e9dff591\""}},
    {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
     "id": "c3a2", "userName": "mallory@example.com", "active": false,
     "meta": {"resourceType": "User", "lastModified": "2026-10-01T00:00:00Z"}}
  ]
}"#;

#[test]
fn scim_users_are_read_with_their_offsets_and_newest_date() {
    let e = export("apps/gh.json", SCIM_USERS);
    assert_eq!(e.format, Format::ScimUsers);
    let Content::Accounts(accounts) = &e.content else {
        panic!("not accounts")
    };
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0].login, "bjensen@example.com", "lowercased");
    assert!(accounts[0].emails.contains(&"babs@jensen.org".to_owned()));
    assert_eq!(accounts[0].status, AccountStatus::Active);
    assert_eq!(accounts[1].status, AccountStatus::Suspended);
    assert_eq!(
        e.span(accounts[1].offset).line,
        15,
        "the second user's object"
    );
    assert_eq!(
        e.collected_at,
        vouch::dates::parse_date("2026-11-20"),
        "newest lastModified"
    );
    assert!(e.digest.starts_with("sha256:"));
}

#[test]
fn scim_groups_and_a_declared_application_are_read() {
    let text = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
      "application": "github", "collected_at": "2026-11-24T06:00:00Z",
      "Resources":[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1",
        "displayName":"Admins","members":[{"value":"2819c223","display":"Babs"}]}]}"#;
    let e = export("g.json", text);
    assert_eq!(e.format, Format::ScimGroups);
    assert_eq!(e.application.as_deref(), Some("github"));
    assert_eq!(e.collected_at, vouch::dates::parse_date("2026-11-24"));
    assert!(
        matches!(&e.content, Content::Groups(g) if g[0].0 == "Admins" && g[0].1 == ["2819c223"])
    );
}

#[test]
fn a_malformed_scim_user_is_a_problem_at_the_user() {
    let text = "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\n\"Resources\":[\n{\"userName\":\"a@x.io\"},\n{\"active\":true}\n]}";
    let ps = problems("bad.json", text);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].line, Some(4), "{:?}", ps[0].message);
    assert!(ps[0].message.contains("userName"), "{}", ps[0].message);
    let broken = problems(
        "broken.json",
        "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\n\"Resources\": [",
    );
    assert_eq!(broken[0].line, Some(2));
}

const OKTA_USERS: &str = r#"[
  {"id":"00u1","status":"ACTIVE","created":"2024-01-01T00:00:00.000Z","lastLogin":"2026-11-24T08:00:00.000Z",
   "lastUpdated":"2026-11-24T06:00:00.000Z","type":{"id":"oty1"},
   "profile":{"login":"Maria@acme.example","email":"maria@acme.example","firstName":"Maria","customAttr":1},
   "credentials":{"provider":{"type":"OKTA"}},"_links":{"self":{"href":"https://acme.okta.com/api/v1/users/00u1"}}},
  {"id":"00u2","status":"DEPROVISIONED","lastLogin":null,"lastUpdated":"2026-10-31T18:00:00.000Z",
   "profile":{"login":"dave@acme.example","email":"dave@acme.example"}},
  {"id":"00u3","status":"LOCKED_OUT","profile":{"login":"tom@acme.example"}},
  {"id":"00u4","status":"SUSPENDED","profile":{"login":"sam@acme.example"}}
]"#;

#[test]
fn okta_users_map_every_status() {
    let e = export("okta/users.json", OKTA_USERS);
    assert_eq!(e.format, Format::OktaUsers);
    let Content::Accounts(a) = &e.content else {
        panic!()
    };
    let status: Vec<_> = a.iter().map(|x| (x.login.as_str(), x.status)).collect();
    assert_eq!(
        status,
        [
            ("maria@acme.example", AccountStatus::Active),
            ("dave@acme.example", AccountStatus::Deprovisioned),
            ("tom@acme.example", AccountStatus::Active),
            ("sam@acme.example", AccountStatus::Suspended),
        ]
    );
    assert_eq!(a[0].last_login, vouch::dates::parse_date("2026-11-24"));
    assert_eq!(e.collected_at, vouch::dates::parse_date("2026-11-24"));
}

#[test]
fn an_unknown_okta_status_is_a_problem_naming_it() {
    let ps = problems(
        "okta.json",
        r#"[{"id":"1","status":"ARCHIVED","profile":{"login":"a@b.c"}}]"#,
    );
    assert!(ps[0].message.contains("`ARCHIVED`"), "{}", ps[0].message);
}

#[test]
fn okta_factors_find_their_user_and_know_phishing_resistance() {
    let text = r#"[
      {"id":"f1","factorType":"webauthn","provider":"FIDO","status":"ACTIVE",
       "_links":{"user":{"href":"https://acme.okta.com/api/v1/users/00u1"}}},
      {"id":"f2","factorType":"push","provider":"OKTA","status":"PENDING_ACTIVATION",
       "_links":{"self":{"href":"https://acme.okta.com/api/v1/users/00u2/factors/f2"}}}
    ]"#;
    let e = export("okta/factors.json", text);
    let Content::Factors(f) = &e.content else {
        panic!()
    };
    assert_eq!(f[0].user_id, "00u1");
    assert_eq!(f[1].user_id, "00u2");
    assert!(f[0].active && !f[1].active);
    assert!(vouch::formats::exports::okta::PHISHING_RESISTANT.contains(&f[0].factor_type.as_str()));
    let ps = problems(
        "f.json",
        r#"[{"id":"f3","factorType":"sms","status":"ACTIVE"}]"#,
    );
    assert!(ps[0].message.contains("which user"), "{}", ps[0].message);
}

#[test]
fn google_users_list_reads_2sv_admin_and_never_logged_in() {
    let text = r#"{"kind":"admin#directory#users","etag":"x","nextPageToken":"t","users":[
      {"kind":"admin#directory#user","id":"1","primaryEmail":"maria@acme.example","isAdmin":true,
       "isEnrolledIn2Sv":true,"isEnforcedIn2Sv":true,"suspended":false,
       "lastLoginTime":"2026-11-24T08:00:00.000Z","thumbnailPhotoUrl":"https://x"},
      {"kind":"admin#directory#user","id":"2","primaryEmail":"new@acme.example","isAdmin":false,
       "isEnrolledIn2Sv":false,"suspended":true,"lastLoginTime":"1970-01-01T00:00:00.000Z"}]}"#;
    let e = export("google.json", text);
    assert_eq!(e.format, Format::GoogleUsers);
    let Content::Accounts(a) = &e.content else {
        panic!()
    };
    assert_eq!(
        a[0].mfa,
        Some(Factor::Other),
        "2SV is never phishing-resistant"
    );
    assert_eq!(a[0].admin, Some(true));
    assert_eq!(a[1].status, AccountStatus::Suspended);
    assert_eq!(a[1].last_login, None, "1970 means never");
}

#[test]
fn entra_users_and_registrations_are_told_apart() {
    let users = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,accountEnabled,signInActivity)",
      "value":[{"id":"1","userPrincipalName":"Maria@acme.example","accountEnabled":true,
        "signInActivity":{"lastSignInDateTime":"2026-11-24T08:00:00Z","lastNonInteractiveSignInDateTime":null}},
       {"id":"2","userPrincipalName":"dave@acme.example","accountEnabled":false}]}"#;
    let e = export("entra-users.json", users);
    assert_eq!(e.format, Format::EntraUsers);
    let Content::Accounts(a) = &e.content else {
        panic!()
    };
    assert_eq!(a[0].login, "maria@acme.example");
    assert_eq!(a[1].status, AccountStatus::Suspended);
    let regs = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails",
      "value":[{"id":"1","userPrincipalName":"maria@acme.example","isAdmin":true,"isMfaRegistered":true,
        "methodsRegistered":["fido2SecurityKey","microsoftAuthenticatorPush"],"lastUpdatedDateTime":"2026-11-24T02:00:00Z"}]}"#;
    let r = export("entra-reg.json", regs);
    assert_eq!(r.format, Format::EntraRegistrations);
    assert!(
        matches!(&r.content, Content::Registrations(x) if x[0].methods.contains(&"fido2securitykey".to_owned()))
    );
    let ps = problems(
        "e.json",
        r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[{"userPrincipalName":"x@y.z"}]}"#,
    );
    assert!(
        ps[0].message.contains("accountEnabled"),
        "{}",
        ps[0].message
    );
}

#[test]
fn github_org_members_and_branch_protection() {
    let org = export(
        "gh/org.json",
        r#"{"login":"acme","id":1,"two_factor_requirement_enabled":false,"updated_at":"2026-11-01T00:00:00Z","plan":{"name":"team"}}"#,
    );
    assert!(matches!(
        org.content,
        Content::GithubOrg {
            two_factor_required: Some(false),
            ..
        }
    ));
    let members = export(
        "gh/members-2fa_disabled.json",
        r#"[{"login":"Octocat","id":1,"type":"User","site_admin":false}]"#,
    );
    assert!(matches!(&members.content, Content::GithubNo2fa(m) if m[0].0 == "octocat"));
    let p = export(
        "gh/protection.json",
        r#"{"url":"https://api.github.com/repos/Acme/Infra/branches/main/protection",
            "required_pull_request_reviews":{"required_approving_review_count":2,"dismiss_stale_reviews":true},
            "required_signatures":{"enabled":true},"enforce_admins":{"enabled":false},"lock_branch":{"enabled":false}}"#,
    );
    let Content::BranchProtection(bp) = &p.content else {
        panic!()
    };
    assert_eq!(
        (bp.repository.as_str(), bp.branch.as_str()),
        ("acme/infra", "main")
    );
    assert_eq!(bp.required_reviews, 2);
    assert!(bp.signed_commits);
    let ps = problems("p.json", r#"{"required_pull_request_reviews":{}}"#);
    assert!(
        ps[0].message.contains("which repository"),
        "{}",
        ps[0].message
    );
}

#[test]
fn aws_backup_jobs_read_cli_v2_and_v1_dates() {
    let backups = r#"{"BackupJobs":[
      {"BackupJobId":"b1","ResourceArn":"arn:aws:rds:eu-central-1:1:db:acme-pg-globex","State":"FAILED",
       "StatusMessage":"Access denied","CreationDate":"2026-11-23T03:00:00.000000+00:00","ResourceType":"RDS"},
      {"BackupJobId":"b2","ResourceArn":"arn:aws:rds:eu-central-1:1:db:acme-pg-globex","State":"COMPLETED",
       "RecoveryPointArn":"arn:aws:rds:eu-central-1:1:snapshot:awsbackup:job-b2","CreationDate":1795574400.123}
    ],"NextToken":null}"#;
    let e = export("backup.json", backups);
    let Content::BackupJobs(j) = &e.content else {
        panic!()
    };
    assert_eq!(j[0].state, "FAILED");
    assert_eq!(j[0].created, vouch::dates::parse_date("2026-11-23"));
    assert!(j[1].created.is_some(), "epoch seconds");
    let restores = r#"{"RestoreJobs":[{"RestoreJobId":"r1","RecoveryPointArn":"arn:x","Status":"COMPLETED",
      "CreationDate":"2026-11-02T09:00:00Z","CompletionDate":"2026-11-02T09:50:00Z","ValidationStatus":"SUCCESSFUL"}]}"#;
    let r = export("restore.json", restores);
    assert!(
        matches!(&r.content, Content::RestoreJobs(x) if x[0].completed == vouch::dates::parse_date("2026-11-02"))
    );
    let ps = problems("b.json", "{\"BackupJobs\":[{\"State\":\"COMPLETED\"}]}");
    assert!(ps[0].message.contains("BackupJobId"), "{}", ps[0].message);
}

#[test]
fn statuspage_and_pagerduty_incidents() {
    let sp = r#"{"page":{"id":"p","name":"Acme"},"incidents":[{"id":"i1","name":"API down","impact":"major",
      "status":"resolved","created_at":"2026-08-14T13:00:00Z","started_at":"2026-08-14T13:02:00Z",
      "resolved_at":"2026-08-14T13:24:00Z","components":[{"id":"c","name":"API"}],"incident_updates":[],
      "postmortem_body":"pool exhaustion"}]}"#;
    let e = export("sp.json", sp);
    let Content::Incidents(i) = &e.content else {
        panic!()
    };
    assert!(i[0].outage);
    assert_eq!(
        i[0].resolved.zip(i[0].started).map(|(r, s)| r - s),
        Some(22)
    );
    assert_eq!(i[0].postmortem, Some(true));
    let list = r#"[{"id":"i2","name":"Slow","impact":"minor","created_at":"2026-10-02T09:00:00Z","incident_updates":[]}]"#;
    let l = export("sp-list.json", list);
    assert!(matches!(&l.content, Content::Incidents(x) if !x[0].outage));
    let pd = r#"{"incidents":[{"id":"Q1","incident_number":7,"title":"Login failures","status":"resolved",
      "urgency":"high","created_at":"2026-09-12T07:41:00Z","last_status_change_at":"2026-09-12T08:03:00Z",
      "service":{"id":"P","type":"service_reference","summary":"dashboard"}}],"limit":25,"more":false}"#;
    let p = export("pd.json", pd);
    let Content::Incidents(x) = &p.content else {
        panic!()
    };
    assert_eq!(x[0].postmortem, None, "PagerDuty records no postmortem");
    assert_eq!(x[0].components, ["dashboard"]);
    assert_eq!(
        x[0].resolved.zip(x[0].started).map(|(r, s)| r - s),
        Some(22)
    );
}

#[test]
fn hr_roster_csv_is_a_table_with_rows_and_a_bad_row_is_located() {
    let e = export(
        "hr.csv",
        "Employee ID,Work Email,Status\nE1,\"a@x.io\",Active\nE2,\"b, jr@x.io\",Terminated\n",
    );
    let Content::Csv(t) = &e.content else {
        panic!()
    };
    assert_eq!(t.header, ["Employee ID", "Work Email", "Status"]);
    assert_eq!(t.rows[1].fields[1], "b, jr@x.io");
    assert_eq!(t.rows[1].line, 3);
    let ps = problems("hr.csv", "a,b\n1,2\n3\n");
    assert_eq!(ps[0].line, Some(3), "{}", ps[0].message);
}

#[test]
fn json_that_is_none_of_ours_is_unrecognised() {
    for text in [
        r#"{"name":"x","version":"1.0.0"}"#,
        r#"[{"login":"octocat"}]"#,
        r#"{"incidents":[]}"#,
    ] {
        let p = parse_file(&SourceFile::new("misc/package.json", text), &ctx()).unwrap();
        assert!(matches!(p, Parsed::Unrecognised), "{text}");
    }
}

proptest! {
    #[test]
    fn no_input_makes_an_export_parser_panic(body in ".{0,200}", marker in 0usize..9) {
        let markers = [
            "\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"",
            "\"BackupJobs\"", "\"RestoreJobs\"", "admin#directory#users",
            "\"@odata.context\" $metadata#users", "\"factorType\"", "\"incident_updates\"",
            "\"incident_number\"", "\"two_factor_requirement_enabled\"",
        ];
        let text = format!("{{{} {body}", markers[marker]);
        let _ = parse_file(&SourceFile::new("x.json", text.as_str()), &ctx());
        let _ = parse_file(&SourceFile::new("x.csv", body.as_str()), &ctx());
    }
}
