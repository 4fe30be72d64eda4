//! The SaaS inventory parser: derived facts, reference checks, spans, and no panic on any input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use vouch::formats::{LoadContext, load, parse_file};
use vouch::model::{Resource, Value};
use vouch::source::SourceFile;

fn ctx() -> LoadContext {
    LoadContext {
        as_of_days: vouch::dates::parse_date("2026-06-30").unwrap(),
        ..LoadContext::default()
    }
}

fn find<'a>(rs: &'a [Resource], address: &str) -> &'a Resource {
    rs.iter()
        .find(|r| r.address == address && r.entity_type.starts_with("Saas::"))
        .unwrap_or_else(|| panic!("no {address}"))
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Set(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => format!("{other:?}"),
            })
            .collect(),
        other => panic!("not a set: {other:?}"),
    }
}

const TENANCY: &str = r#"
[[tier]]
id = "enterprise"
requires = ["customer_key", "dedicated_database"]

[[tenant]]
id = "globex"
tier = "enterprise"
isolation = "dedicated_database"
residency = ["eu"]
customer_key = "kms-globex"
datastores = ["pg-globex", "pg-shared"]

[[tenant]]
id = "initech"
tier = "enterprise"
isolation = "shard"
residency = ["us"]
datastores = ["pg-shared"]

[[datastore]]
id = "pg-globex"
engine = "postgres"
region = "eu-central-1"
encrypted = true
encryption_key = "kms-globex"
backup = { enabled = true, retention_days = 35, copies = ["eu-west-1", "us-east-1"] }
last_restore_test = 2026-05-01

[[datastore]]
id = "pg-shared"
engine = "postgres"
region = "eu-west-1"
encrypted = true
"#;

#[test]
fn tenancy_facts_are_derived_across_entries() {
    let files = vec![SourceFile::new("tenants.toml", TENANCY)];
    let loaded = load(&files, &ctx());
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let globex = find(&loaded.resources, "tenant:globex");
    assert_eq!(
        strings(&globex.attrs["resources_outside_residency"]),
        vec!["pg-globex/backup:us-east-1"]
    );
    assert_eq!(
        strings(&globex.attrs["resources_without_customer_key"]),
        vec!["pg-shared"]
    );
    assert_eq!(
        strings(&globex.attrs["shared_resources"]),
        vec!["pg-shared"]
    );
    assert_eq!(
        globex.attrs["requires_dedicated_database"],
        Value::Bool(true)
    );
    let shared = find(&loaded.resources, "datastore:pg-shared");
    assert_eq!(shared.attrs["mixes_residency"], Value::Bool(true));
    let pg = find(&loaded.resources, "datastore:pg-globex");
    assert_eq!(pg.attrs["days_since_restore_test"], Value::Long(60));
    assert_eq!(pg.span.line, 21, "the line of its [[datastore]] header");
}

#[test]
fn dangling_references_are_errors_with_spans() {
    let text = "[[tenant]]\nid = \"t\"\ntier = \"free\"\nisolation = \"shared\"\ndatastores = [\"nope\"]\n";
    let loaded = load(&[SourceFile::new("t.toml", text)], &ctx());
    assert_eq!(loaded.problems.len(), 1);
    let p = &loaded.problems[0];
    assert!(p.message.contains("`nope`"), "{}", p.message);
    assert_eq!(p.line, Some(5));
}

#[test]
fn duplicate_ids_across_files_are_errors() {
    let a = SourceFile::new(
        "a.toml",
        "[[integration]]\nid = \"slack\"\napproved = true\n",
    );
    let b = SourceFile::new(
        "b.toml",
        "[[integration]]\nid = \"slack\"\napproved = false\n",
    );
    let loaded = load(&[a, b], &ctx());
    assert!(
        loaded
            .problems
            .iter()
            .any(|p| p.message.contains("declared more than once"))
    );
}

#[test]
fn grants_see_their_holder() {
    let text = r#"
[[user]]
id = "mallory"
status = "deprovisioned"
employment_end = 2026-03-01

[[role]]
id = "admin"
privileged = true

[[grant]]
user = "mallory"
role = "admin"
resource = "aws_account:prod"
approved_by = "mallory"
"#;
    let loaded = load(&[SourceFile::new("p.toml", text)], &ctx());
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let g = loaded
        .resources
        .iter()
        .find(|r| r.entity_type == "Access::Grant")
        .unwrap();
    assert_eq!(g.attrs["holder_status"], Value::str("deprovisioned"));
    assert_eq!(g.attrs["self_approved"], Value::Bool(true));
    assert_eq!(g.attrs["has_expiry"], Value::Bool(false));
    assert_eq!(g.attrs["holder_employment_ended"], Value::Bool(true));
}

#[test]
fn toml_that_is_not_an_inventory_is_unrecognised() {
    let f = SourceFile::new("Cargo.toml", "[package]\nname = \"x\"\n");
    assert!(matches!(
        parse_file(&f, &ctx()),
        Ok(vouch::formats::Parsed::Unrecognised)
    ));
}

#[test]
fn bad_enum_value_points_at_it() {
    let f = SourceFile::new(
        "i.toml",
        "[[identity_provider]]\nid = \"o\"\nsso_enforced = true\nmfa = \"sometimes\"\n",
    );
    let err = parse_file(&f, &ctx()).err().unwrap();
    assert_eq!(err[0].line, Some(4));
    assert!(err[0].message.contains("sometimes"), "{}", err[0].message);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn no_input_panics(text in "(\\[\\[(tenant|user|grant|datastore)\\]\\]\n|[a-z_]{1,12} = (\"[a-z-]{0,8}\"|[0-9]{1,4}|true|\\[\"[a-z]{1,4}\"\\]|2026-0[1-9]-1[0-9])\n|.{0,20}\n){0,20}") {
        let f = SourceFile::new("fuzz.toml", text);
        let _ = load(&[f], &ctx());
    }
}
