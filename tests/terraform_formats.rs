//! Terraform parsing and normalisation: HCL and plan JSON to `Aws::*` resources.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use proptest::prelude::*;
use vouch::error::ProblemKind;
use vouch::formats::{LoadContext, Loaded, load, terraform};
use vouch::model::{Resource, Value};
use vouch::source::SourceFile;

static CTX: std::sync::LazyLock<LoadContext> = std::sync::LazyLock::new(|| LoadContext {
    as_of_days: 20_000,
    ..LoadContext::default()
});

fn fixture(rel: &str, as_path: &str) -> SourceFile {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/terraform")
        .join(rel);
    SourceFile::new(as_path, std::fs::read_to_string(full).unwrap())
}

fn load_files(files: &[SourceFile]) -> Loaded {
    let loaded = load(files, &CTX);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    loaded
}

fn find<'a>(loaded: &'a Loaded, scope: &str, address: &str) -> &'a Resource {
    loaded
        .resources
        .iter()
        .find(|r| r.scope == scope && r.address == address)
        .unwrap_or_else(|| panic!("no {scope}//{address} in {:#?}", loaded.resources))
}

fn s(v: &str) -> Value {
    Value::str(v)
}

#[test]
fn split_and_inline_s3_forms_give_the_same_bucket() {
    let loaded = load_files(&[
        fixture("split/main.tf", "split/main.tf"),
        fixture("inline/main.tf", "inline/main.tf"),
    ]);
    let split = find(&loaded, "split", "aws_s3_bucket.logs");
    let inline = find(&loaded, "inline", "aws_s3_bucket.logs");
    assert_eq!(split.entity_type, "Aws::S3Bucket");
    let expected: vouch::model::Attrs = [
        ("acl", s("log-delivery-write")),
        ("sse_algorithm", s("aws:kms")),
        ("kms_key", s("aws_kms_key.k.arn")),
        ("versioning", Value::Bool(true)),
        ("logging", Value::Bool(true)),
        ("public_access_blocked", Value::Bool(true)),
        ("public_policy", Value::Bool(false)),
    ]
    .into_iter()
    .collect();
    assert_eq!(split.attrs, expected);
    assert_eq!(inline.attrs, expected);
    assert_eq!(split.span.line, 16);
    assert_eq!(split.span.file, "split/main.tf");
}

#[test]
fn absent_settings_take_aws_defaults() {
    let file = SourceFile::new(
        "main.tf",
        r#"
resource "aws_s3_bucket" "bare" {}
resource "aws_db_instance" "db" { engine = "mysql" }
resource "aws_kms_key" "k" {}
resource "aws_rds_cluster" "c" {}
"#,
    );
    let loaded = load_files(&[file]);
    let b = find(&loaded, "", "aws_s3_bucket.bare");
    assert_eq!(b.attrs["sse_algorithm"], s("none"));
    assert_eq!(b.attrs["versioning"], Value::Bool(false));
    assert_eq!(b.attrs["public_access_blocked"], Value::Bool(false));
    assert!(!b.attrs.contains_key("kms_key"));
    let db = find(&loaded, "", "aws_db_instance.db");
    assert_eq!(db.attrs["storage_encrypted"], Value::Bool(false));
    assert_eq!(db.attrs["publicly_accessible"], Value::Bool(false));
    assert_eq!(db.attrs["cluster"], Value::Bool(false));
    assert_eq!(db.attrs["backup_retention_days"], Value::Long(1));
    let k = find(&loaded, "", "aws_kms_key.k");
    assert_eq!(k.attrs["rotation_enabled"], Value::Bool(false));
    assert_eq!(k.attrs["symmetric"], Value::Bool(true));
    assert_eq!(k.attrs["deletion_window_days"], Value::Long(30));
    let c = find(&loaded, "", "aws_rds_cluster.c");
    assert_eq!(c.attrs["cluster"], Value::Bool(true));
    assert_eq!(c.attrs["engine"], s("aurora"));
    assert_eq!(c.attrs["multi_az"], Value::Bool(false));
}

const NO_RETENTION: &str = "`var.retention` has no default and no value is given \
     (terraform.tfvars, *.auto.tfvars, --var-file or --var)";

#[test]
fn a_variable_without_default_is_unknown() {
    let loaded = load_files(&[fixture("split/main.tf", "split/main.tf")]);
    let db = find(&loaded, "split", "aws_db_instance.db");
    assert_eq!(
        db.attrs["backup_retention_days"],
        Value::unknown(NO_RETENTION)
    );
    assert_eq!(db.unknown_attrs(), vec!["backup_retention_days".to_owned()]);
    assert_eq!(db.attrs["storage_encrypted"], Value::Bool(true));
}

#[test]
fn tfvars_that_terraform_loads_set_variables_and_others_leave_them_unknown() {
    let main = fixture("split/main.tf", "split/main.tf");
    let retention = |files: &[SourceFile]| {
        let loaded = load_files(files);
        find(&loaded, "split", "aws_db_instance.db").attrs["backup_retention_days"].clone()
    };
    let vars = |path: &str, days: u32| SourceFile::new(path, format!("retention = {days}\n"));
    // terraform.tfvars, then *.auto.tfvars in name order: the last one wins.
    assert_eq!(
        retention(&[main.clone(), vars("split/terraform.tfvars", 7)]),
        Value::Long(7)
    );
    assert_eq!(
        retention(&[
            main.clone(),
            vars("split/terraform.tfvars", 7),
            vars("split/b.auto.tfvars", 30),
            vars("split/a.auto.tfvars", 14),
        ]),
        Value::Long(30)
    );
    // Another module's values do not apply here.
    assert_eq!(
        retention(&[main.clone(), vars("other/terraform.tfvars", 7)]),
        Value::unknown(NO_RETENTION)
    );
    // A block in a values file is an error, never configuration.
    let bad = load(
        &[
            main.clone(),
            SourceFile::new(
                "split/terraform.tfvars",
                "resource \"aws_s3_bucket\" \"x\" {}\n",
            ),
        ],
        &CTX,
    );
    assert_eq!(bad.problems.len(), 1, "{:?}", bad.problems);
    assert!(bad.problems[0].message.contains("only assigns variables"));
    assert!(!bad.resources.iter().any(|r| r.address == "aws_s3_bucket.x"));
    // `prod.tfvars` applies only with -var-file: vouch cannot know, so the value is unknown,
    // even over an automatic file.
    assert_eq!(
        retention(&[
            main,
            vars("split/terraform.tfvars", 7),
            vars("split/prod.tfvars", 35),
        ]),
        Value::unknown(
            "`var.retention` is set in `split/prod.tfvars`, which applies only when passed with \
         -var-file (pass it with --var-file to use it)"
        )
    );
}

#[test]
fn plan_json_matches_hcl_and_marks_unknowns() {
    let plan = load_files(&[fixture("plan/plan.json", "envs/prod/plan.json")]);
    let hcl = load_files(&[fixture("split/main.tf", "split/main.tf")]);
    let from_plan = find(&plan, "envs/prod/plan.json", "aws_s3_bucket.logs");
    let from_hcl = find(&hcl, "split", "aws_s3_bucket.logs");
    for attr in [
        "acl",
        "sse_algorithm",
        "kms_key",
        "versioning",
        "logging",
        "public_access_blocked",
    ] {
        assert_eq!(from_plan.attrs[attr], from_hcl.attrs[attr], "{attr}");
    }
    // The bucket policy interpolates the bucket's ARN: unknown until apply.
    assert!(from_plan.attrs["public_policy"].is_unknown());
    assert_eq!(from_plan.span.line, 15);

    let key_plan = find(&plan, "envs/prod/plan.json", "aws_kms_key.k");
    let key_hcl = find(&hcl, "split", "aws_kms_key.k");
    assert_eq!(key_plan.attrs, key_hcl.attrs);

    let ebs = find(&plan, "envs/prod/plan.json", "aws_ebs_volume.data");
    assert!(ebs.attrs["encrypted"].is_unknown(), "{:?}", ebs.attrs);
    assert!(!ebs.attrs.contains_key("kms_key"));

    let archive = find(
        &plan,
        "envs/prod/plan.json",
        "module.archive.aws_s3_bucket.this",
    );
    assert_eq!(archive.attrs["versioning"], Value::Bool(false));
    assert_eq!(archive.attrs["sse_algorithm"], s("none"));
}

#[test]
fn security_group_rules_are_joined_and_derived() {
    let loaded = load_files(&[fixture("network.tf", "net/network.tf")]);
    let web = find(&loaded, "net", "aws_security_group.web");
    assert_eq!(
        web.attrs["world_open_admin_ports"],
        Value::long_set([22, 23, 3389])
    );
    assert_eq!(web.attrs["world_open_all_ports"], Value::Bool(false));
    assert_eq!(web.attrs["world_ingress"], Value::Bool(true));
    let all = find(&loaded, "net", "aws_security_group.all");
    assert_eq!(all.attrs["world_open_all_ports"], Value::Bool(true));
    assert!(matches!(&all.attrs["world_open_admin_ports"], Value::Set(p) if p.len() > 20));
    // Port 22 from a CIDR not known: only what depends on the CIDR is unknown; that not
    // every port is open is known.
    let unknown = find(&loaded, "net", "aws_security_group.unknown");
    assert_eq!(
        unknown.unknown_attrs(),
        vec![
            "world_ingress".to_owned(),
            "world_open_admin_ports".to_owned()
        ]
    );
    assert_eq!(unknown.attrs["world_open_all_ports"], Value::Bool(false));
    let https = find(&loaded, "net", "aws_lb_listener.https");
    assert_eq!(https.attrs["tls_min_version"], s("1.2"));
    assert_eq!(https.attrs["redirects_to_https"], Value::Bool(false));
    let http = find(&loaded, "net", "aws_lb_listener.http");
    assert_eq!(http.attrs["protocol"], s("HTTP"));
    assert_eq!(http.attrs["redirects_to_https"], Value::Bool(true));
    assert!(!http.attrs.contains_key("tls_min_version"));
}

#[test]
fn iam_resources_from_terraform() {
    let loaded = load_files(&[fixture("identity.tf", "identity.tf")]);
    let deploy = find(&loaded, "", "aws_iam_policy.deploy");
    assert_eq!(deploy.entity_type, "Aws::IamPolicy");
    assert_eq!(
        deploy.attrs["escalation_paths"],
        Value::string_set(["PassRole+EC2"])
    );
    assert_eq!(deploy.attrs["wildcard_services"], Value::string_set(["s3"]));
    assert_eq!(deploy.attrs["full_admin"], Value::Bool(false));
    assert_eq!(deploy.attrs["attached_to_user"], Value::Bool(true));
    let admin = find(&loaded, "", "aws_iam_policy.admin");
    assert_eq!(admin.attrs["full_admin"], Value::Bool(true));
    assert_eq!(admin.attrs["wildcard_action"], Value::Bool(true));
    assert_eq!(admin.attrs["attached_to_user"], Value::Bool(false));

    let ci = find(&loaded, "", "aws_iam_role.ci");
    assert_eq!(
        ci.attrs["trust_external_without_condition"],
        Value::Bool(true)
    );
    assert_eq!(ci.attrs["trust_any_principal"], Value::Bool(false));
    assert_eq!(
        ci.attrs["managed_policies"],
        Value::string_set(["AdministratorAccess", "ReadOnlyAccess"])
    );
    let local = find(&loaded, "", "aws_iam_role.local");
    assert_eq!(
        local.attrs["trust_external_without_condition"],
        Value::Bool(false)
    );

    let alice = find(&loaded, "", "aws_iam_user.alice");
    assert_eq!(alice.attrs["has_access_key"], Value::Bool(true));
    assert!(alice.attrs["access_key_age_days"].is_unknown());
    assert_eq!(alice.attrs["console_access"], Value::Bool(false));
    assert_eq!(alice.attrs["root"], Value::Bool(false));
    assert_eq!(
        alice.attrs["direct_policies"],
        Value::string_set(["aws_iam_policy.deploy", "aws_iam_user_policy.alice_inline"])
    );
    let inline = find(&loaded, "", "aws_iam_user_policy.alice_inline");
    assert_eq!(inline.attrs["attached_to_user"], Value::Bool(true));
    assert_eq!(
        inline.attrs["escalation_paths"],
        Value::string_set(Vec::<String>::new())
    );
}

#[test]
fn malformed_hcl_is_a_parse_problem_on_its_line() {
    let file = SourceFile::new(
        "bad/main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n  acl = = \"private\"\n}\n",
    );
    let problems = terraform::parse_hcl(&file).unwrap_err();
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(p.kind, ProblemKind::Parse);
    assert_eq!(p.line, Some(3));
    assert!(
        p.message.starts_with("`bad/main.tf` is not valid HCL: "),
        "{}",
        p.message
    );
}

#[test]
fn malformed_plan_shape_is_a_problem() {
    let text = r#"{"format_version": "1.2", "planned_values": [1, 2], "resource_changes": {}}"#;
    let file = SourceFile::new("plan.json", text);
    let loaded = load(&[file], &CTX);
    assert!(loaded.resources.is_empty());
    assert_eq!(loaded.problems.len(), 2, "{:?}", loaded.problems);
    assert!(loaded.problems.iter().all(|p| p.kind == ProblemKind::Parse));
    assert!(
        loaded
            .problems
            .iter()
            .any(|p| p.message.contains("`planned_values` must be an object"))
    );
}

proptest! {
    #[test]
    fn parse_hcl_never_panics(text in "\\PC{0,200}") {
        let file = SourceFile::new("fuzz.tf", text);
        if let Ok(tf) = terraform::parse_hcl(&file) {
            let _ = terraform::evaluate(vec![std::sync::Arc::new(tf)], &terraform::Overrides::default(), None);
        }
    }

    #[test]
    fn parse_hcl_never_panics_on_resource_like_input(
        body in "[a-z_ =\\[\\]{}\"0-9.\\n${}*-]{0,200}"
    ) {
        let text = format!("resource \"aws_s3_bucket\" \"b\" {{\n{body}\n}}\nresource \"aws_security_group\" \"g\" {{\n{body}\n}}");
        let file = SourceFile::new("fuzz.tf", text);
        if let Ok(tf) = terraform::parse_hcl(&file) {
            let _ = terraform::evaluate(vec![std::sync::Arc::new(tf)], &terraform::Overrides::default(), None);
        }
    }

    #[test]
    fn parse_plan_never_panics(text in "\\PC{0,200}") {
        let file = SourceFile::new("plan.json", format!("{{\"format_version\":\"1\",\"planned_values\":{text}}}"));
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&file.text) {
            let _ = terraform::parse_plan(&file, &v, None);
        }
    }
}

/// Random Terraform expressions over every construct the evaluator knows, referring to each
/// other (cycles included), to modules that call their own parent, and to instances.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("1".to_owned()),
        Just("-3".to_owned()),
        Just("\"s\"".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        (0..3u8).prop_map(|n| format!("var.v{n}")),
        (0..3u8).prop_map(|n| format!("local.l{n}")),
        (0..2u8).prop_map(|n| format!("aws_s3_bucket.b{n}")),
        (0..2u8).prop_map(|n| format!("aws_s3_bucket.b{n}[0].bucket")),
        (0..2u8).prop_map(|n| format!("module.m{n}")),
        Just("module.m0.out".to_owned()),
        Just("count.index".to_owned()),
        Just("each.value".to_owned()),
        Just("path.module".to_owned()),
    ];
    leaf.prop_recursive(4, 40, 3, |inner| {
        let f = prop::sample::select(vec![
            "length",
            "concat",
            "merge",
            "lookup",
            "flatten",
            "toset",
            "keys",
            "values",
            "jsonencode",
            "jsondecode",
            "format",
            "join",
            "element",
            "coalesce",
            "try",
            "can",
            "range",
            "zipmap",
            "one",
            "max",
            "sort",
            "distinct",
            "compact",
            "replace",
            "split",
        ]);
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{ k = {a}, j = {b} }}")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("({a} ? {b} : {c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} == {b})")),
            inner.clone().prop_map(|a| format!("!{a}")),
            (f, inner.clone(), inner.clone()).prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
            inner.clone().prop_map(|a| format!("[for x in {a} : x]")),
            inner
                .clone()
                .prop_map(|a| format!("{{ for k, v in {a} : k => v... }}")),
            inner
                .clone()
                .prop_map(|a| format!("\"${{{a}}}-%{{ if {a} }}y%{{ endif }}\"")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a})[{b}]")),
            inner.clone().prop_map(|a| format!("({a})[*].k")),
            inner.prop_map(|a| format!("({a}).k")),
        ]
    })
}

fn configuration() -> impl Strategy<Value = (String, String)> {
    prop::collection::vec(expression(), 12).prop_map(|e| {
        let root = format!(
            r#"
variable "v0" {{ default = {e0} }}
variable "v1" {{}}
variable "v2" {{ default = [1, 2] }}
locals {{
  l0 = {e1}
  l1 = {e2}
  l2 = {e3}
}}
resource "aws_s3_bucket" "b0" {{
  count  = {e4}
  bucket = {e5}
}}
resource "aws_s3_bucket" "b1" {{
  for_each = {e6}
  bucket   = {e7}
  dynamic "logging" {{
    for_each = {e8}
    content {{ target_bucket = logging.value }}
  }}
}}
module "m0" {{
  source   = "./m"
  for_each = {e9}
  v0       = {e10}
}}
module "m1" {{
  source = "./m"
  count  = {e11}
}}
output "out" {{ value = local.l0 }}
"#,
            e0 = e[0], e1 = e[1], e2 = e[2], e3 = e[3], e4 = e[4], e5 = e[5], e6 = e[6],
            e7 = e[7], e8 = e[8], e9 = e[9], e10 = e[10], e11 = e[11],
        );
        // The module calls a module of its own (the bound on self-recursion has a test of its
        // own: here it would make every case expand the maximum number of instances).
        let module = format!(
            "variable \"v0\" {{}}\nlocals {{ l0 = {} }}\nresource \"aws_security_group\" \"g\" {{ name = local.l0 }}\nmodule \"m0\" {{\n  source = \"./leaf\"\n  v1 = var.v0\n}}\noutput \"out\" {{ value = module.m0 }}\n",
            e[1]
        );
        (root, module)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn evaluating_any_configuration_terminates_without_panicking((root, module) in configuration()) {
        let leaf = "variable \"v1\" { default = null }\noutput \"out\" { value = var.v1 }\n".to_owned();
        let files: Vec<std::sync::Arc<terraform::TfFile>> =
            [("main.tf", root), ("m/main.tf", module), ("m/leaf/main.tf", leaf)]
            .into_iter()
            .filter_map(|(p, t)| terraform::parse_hcl(&SourceFile::new(p, t)).ok())
            .map(std::sync::Arc::new)
            .collect();
        let _ = terraform::evaluate(files, &terraform::Overrides::default(), None);
    }
}
