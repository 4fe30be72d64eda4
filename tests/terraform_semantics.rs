//! Terraform read as Terraform evaluates it: module calls, instances, references, values files,
//! scoped unknowns, children on their own, and the files Terraform reads — each shape both
//! ways (a violation is found, the compliant form passes, an undetermined one says so), through
//! the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{check_json, tree, vouch};
use serde_json::Value;

/// The result of `control` on the resource at `address` (optionally in `scope`).
fn result<'a>(json: &'a Value, control: &str, address: &str) -> &'a Value {
    json["results"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|r| r["control"] == control && r["resource"]["address"] == address)
        })
        .unwrap_or_else(|| {
            let have: Vec<String> = json["results"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|r| r["control"] == control)
                        .map(|r| format!("{} {}", r["resource"]["address"], r["status"]))
                        .collect()
                })
                .unwrap_or_default();
            panic!("no `{control}` result on `{address}`; have {have:?}\n{json:#}")
        })
}

fn status(json: &Value, control: &str, address: &str) -> String {
    result(json, control, address)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn addresses(json: &Value, control: &str) -> Vec<String> {
    json["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["control"] == control)
                .filter_map(|r| r["resource"]["address"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

const DB_MODULE: &str = r#"
variable "pub" {
  type    = bool
  default = false
}
resource "aws_db_instance" "db" {
  engine              = "postgres"
  publicly_accessible = var.pub
  storage_encrypted   = true
}
output "id" { value = aws_db_instance.db.id }
"#;

#[test]
fn a_module_call_passes_its_arguments_and_the_module_is_not_evaluated_alone() {
    let public = tree(&[
        ("modules/db/main.tf", DB_MODULE),
        (
            "envs/prod/main.tf",
            "module \"db\" {\n  source = \"../../modules/db\"\n  pub    = true\n}\n",
        ),
    ]);
    let (code, json, _) = check_json(public.path(), &["--control", "rds-not-public"]);
    assert_eq!(code, 1, "{json:#}");
    let r = result(&json, "rds-not-public", "module.db.aws_db_instance.db");
    assert_eq!(r["status"], "fail");
    assert_eq!(r["determined"], true);
    assert_eq!(r["resource"]["scope"], "envs/prod");
    assert_eq!(r["resource"]["file"], "modules/db/main.tf");
    assert_eq!(
        addresses(&json, "rds-not-public"),
        vec!["module.db.aws_db_instance.db"],
        "the called module is evaluated only through its caller"
    );
    assert_eq!(json["summary"]["terraform"]["modules_expanded"], 1);

    let private = tree(&[
        ("modules/db/main.tf", DB_MODULE),
        (
            "envs/prod/main.tf",
            "module \"db\" {\n  source = \"../../modules/db\"\n}\n",
        ),
    ]);
    let (code, json, _) = check_json(private.path(), &["--control", "rds-not-public"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(
        status(&json, "rds-not-public", "module.db.aws_db_instance.db"),
        "pass"
    );
}

#[test]
fn module_calls_with_for_each_expand_per_key_and_remote_sources_are_listed() {
    let dir = tree(&[
        ("modules/db/main.tf", DB_MODULE),
        (
            "main.tf",
            r#"
module "db" {
  source   = "./modules/db"
  for_each = { internal = false, partner = true }
  pub      = each.value
}
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
}
"#,
        ),
    ]);
    let (_, json, _) = check_json(dir.path(), &["--control", "rds-not-public"]);
    assert_eq!(
        status(
            &json,
            "rds-not-public",
            "module.db[\"partner\"].aws_db_instance.db"
        ),
        "fail"
    );
    assert_eq!(
        status(
            &json,
            "rds-not-public",
            "module.db[\"internal\"].aws_db_instance.db"
        ),
        "pass"
    );
    let not = &json["summary"]["terraform"]["modules_not_expanded"];
    assert_eq!(not[0]["call"], "module.vpc", "{json:#}");
    assert!(
        not[0]["reason"]
            .as_str()
            .unwrap()
            .contains("terraform init")
    );
}

#[test]
fn indexed_and_each_references_join_split_resources_to_their_bucket() {
    let dir = tree(&[(
        "main.tf",
        r#"
variable "names" { default = ["logs", "data"] }
resource "aws_s3_bucket" "this" {
  count  = 1
  bucket = "acme-logs"
}
resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this[0].id
  versioning_configuration { status = "Enabled" }
}
resource "aws_s3_bucket" "each" {
  for_each = toset(var.names)
  bucket   = "acme-${each.key}"
}
resource "aws_s3_bucket_versioning" "each" {
  for_each = aws_s3_bucket.each
  bucket   = each.value.id
  versioning_configuration { status = each.key == "logs" ? "Enabled" : "Suspended" }
}
"#,
    )]);
    let (_, json, _) = check_json(dir.path(), &["--control", "s3-versioning"]);
    assert_eq!(
        status(&json, "s3-versioning", "aws_s3_bucket.this[0]"),
        "pass"
    );
    assert_eq!(
        status(&json, "s3-versioning", "aws_s3_bucket.each[\"logs\"]"),
        "pass"
    );
    let data = result(&json, "s3-versioning", "aws_s3_bucket.each[\"data\"]");
    assert_eq!(data["status"], "fail");
    assert_eq!(data["determined"], true);
}

#[test]
fn two_resources_sharing_an_unknown_variable_join_and_a_different_one_does_not() {
    let dir = tree(&[(
        "main.tf",
        r#"
variable "name" {}
variable "other" {}
resource "aws_s3_bucket" "b" { bucket = var.name }
resource "aws_s3_bucket_versioning" "v" {
  bucket = var.name
  versioning_configuration { status = "Enabled" }
}
resource "aws_s3_bucket" "c" { bucket = "${var.name}-copy" }
resource "aws_s3_bucket_versioning" "w" {
  bucket = var.other
  versioning_configuration { status = "Enabled" }
}
"#,
    )]);
    let (_, json, _) = check_json(dir.path(), &["--control", "s3-versioning"]);
    assert_eq!(status(&json, "s3-versioning", "aws_s3_bucket.b"), "pass");
    let c = result(&json, "s3-versioning", "aws_s3_bucket.c");
    assert_eq!(
        c["status"], "fail",
        "a different name does not borrow b's versioning"
    );
    assert_eq!(c["determined"], true);
}

#[test]
fn two_resources_sharing_a_variable_name_join() {
    let dir = tree(&[(
        "main.tf",
        r#"
variable "name" { default = "acme-audit" }
resource "aws_s3_bucket" "b" { bucket = var.name }
resource "aws_s3_bucket_versioning" "v" {
  bucket = var.name
  versioning_configuration { status = "Enabled" }
}
"#,
    )]);
    let (_, json, _) = check_json(dir.path(), &["--control", "s3-versioning"]);
    assert_eq!(status(&json, "s3-versioning", "aws_s3_bucket.b"), "pass");
}

#[test]
fn a_block_with_count_zero_does_not_exist_and_an_unknown_count_is_undetermined() {
    let config = |harden: &str| {
        format!(
            r#"
variable "harden" {harden}
resource "aws_s3_bucket" "b" {{ bucket = "acme" }}
resource "aws_s3_bucket_public_access_block" "b" {{
  count                   = var.harden ? 1 : 0
  bucket                  = aws_s3_bucket.b.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}}
"#
        )
    };
    let off = tree(&[("main.tf", &config("{ default = false }"))]);
    let (_, json, _) = check_json(off.path(), &["--control", "s3-public-access-block"]);
    let r = result(&json, "s3-public-access-block", "aws_s3_bucket.b");
    assert_eq!(r["status"], "fail", "count = 0 creates no block");
    assert_eq!(r["determined"], true);

    let on = tree(&[("main.tf", &config("{ default = true }"))]);
    let (_, json, _) = check_json(on.path(), &["--control", "s3-public-access-block"]);
    assert_eq!(
        status(&json, "s3-public-access-block", "aws_s3_bucket.b"),
        "pass"
    );

    let unknown = tree(&[("main.tf", &config("{}"))]);
    let (_, json, _) = check_json(unknown.path(), &["--control", "s3-public-access-block"]);
    let r = result(&json, "s3-public-access-block", "aws_s3_bucket.b");
    assert_eq!(r["status"], "fail", "fails closed");
    assert_eq!(r["determined"], false);
    assert_eq!(r["unknown"], serde_json::json!(["public_access_blocked"]));
    assert!(
        r["messages"][0].as_str().unwrap().contains("var.harden"),
        "{r:#}"
    );
}

#[test]
fn tfvars_var_files_and_vars_set_root_variables_as_terraform_does() {
    let files = [
        (
            "main.tf",
            "variable \"pub\" { default = false }\nresource \"aws_db_instance\" \"db\" {\n  publicly_accessible = var.pub\n  storage_encrypted = true\n}\n",
        ),
        ("terraform.tfvars", "pub = true\n"),
        ("private.tfvars", "pub = false\n"),
    ];
    let dir = tree(&files);
    let (_, json, _) = check_json(dir.path(), &["--control", "rds-not-public"]);
    let r = result(&json, "rds-not-public", "aws_db_instance.db");
    assert_eq!(
        r["status"], "fail",
        "a file passed with -var-file only is unknown, not applied"
    );
    assert_eq!(r["determined"], false, "{r:#}");

    let auto_only = tree(&files[..2]);
    let (_, json, _) = check_json(auto_only.path(), &["--control", "rds-not-public"]);
    let r = result(&json, "rds-not-public", "aws_db_instance.db");
    assert_eq!(
        (r["status"].as_str(), r["determined"].as_bool()),
        (Some("fail"), Some(true))
    );

    let var_file = dir.path().join("private.tfvars");
    let (_, json, _) = check_json(
        dir.path(),
        &[
            "--control",
            "rds-not-public",
            "--var-file",
            var_file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        status(&json, "rds-not-public", "aws_db_instance.db"),
        "pass"
    );

    let (_, json, _) = check_json(
        auto_only.path(),
        &["--control", "rds-not-public", "--var", "pub=false"],
    );
    assert_eq!(
        status(&json, "rds-not-public", "aws_db_instance.db"),
        "pass"
    );

    let configured = tree(&[
        files[0],
        files[1],
        files[2],
        (
            "vouch.toml",
            "[terraform]\nvar_files = [\"private.tfvars\"]\n",
        ),
    ]);
    let (_, json, _) = check_json(configured.path(), &["--control", "rds-not-public"]);
    assert_eq!(
        status(&json, "rds-not-public", "aws_db_instance.db"),
        "pass"
    );
}

#[test]
fn an_unknown_cidr_makes_only_the_ports_it_covers_undetermined() {
    let dir = tree(&[(
        "main.tf",
        r#"
variable "vpc_cidr" {}
resource "aws_security_group" "db" {
  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }
}
resource "aws_security_group" "web" {
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }
}
resource "aws_security_group" "ssh" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0", var.vpc_cidr]
  }
}
"#,
    )]);
    let (_, json, _) = check_json(dir.path(), &["--control", "sg-no-world-admin-ports"]);
    let db = result(&json, "sg-no-world-admin-ports", "aws_security_group.db");
    assert_eq!(db["status"], "fail");
    assert_eq!(db["determined"], false);
    assert_eq!(db["unknown"], serde_json::json!(["world_open_admin_ports"]));
    let msg = db["messages"].to_string();
    assert!(
        msg.contains("5432") && msg.contains("var.vpc_cidr"),
        "{msg}"
    );
    assert!(
        !msg.contains("every port"),
        "never asserts what is not known: {msg}"
    );
    assert_eq!(
        status(&json, "sg-no-world-admin-ports", "aws_security_group.web"),
        "pass",
        "port 443 is no administration port, whatever the CIDR"
    );
    let ssh = result(&json, "sg-no-world-admin-ports", "aws_security_group.ssh");
    assert_eq!(
        (ssh["status"].as_str(), ssh["determined"].as_bool()),
        (Some("fail"), Some(true))
    );
}

#[test]
fn children_whose_parent_is_outside_the_configuration_are_evaluated_on_their_own() {
    let dir = tree(&[(
        "main.tf",
        r#"
variable "sg_id" {}
variable "bucket" {}
variable "cluster" {}
resource "aws_security_group_rule" "ssh" {
  type              = "ingress"
  security_group_id = var.sg_id
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}
resource "aws_vpc_security_group_ingress_rule" "rdp" {
  security_group_id = var.sg_id
  from_port         = 3389
  to_port           = 3389
  ip_protocol       = "tcp"
  cidr_ipv4         = "0.0.0.0/0"
}
resource "aws_security_group_rule" "https" {
  type              = "ingress"
  security_group_id = var.sg_id
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}
resource "aws_s3_bucket_public_access_block" "external" {
  bucket                  = var.bucket
  block_public_acls       = false
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
resource "aws_rds_cluster_instance" "member" {
  cluster_identifier  = var.cluster
  instance_class      = "db.r6g.large"
  engine              = "aurora-postgresql"
  publicly_accessible = true
}
"#,
    )]);
    let (_, json, _) = check_json(dir.path(), &[]);
    for (control, address, expected) in [
        (
            "sg-no-world-admin-ports",
            "aws_security_group_rule.ssh",
            "fail",
        ),
        (
            "sg-no-world-admin-ports",
            "aws_vpc_security_group_ingress_rule.rdp",
            "fail",
        ),
        (
            "sg-no-world-admin-ports",
            "aws_security_group_rule.https",
            "pass",
        ),
        (
            "s3-public-access-block",
            "aws_s3_bucket_public_access_block.external",
            "fail",
        ),
        ("rds-not-public", "aws_rds_cluster_instance.member", "fail"),
    ] {
        assert_eq!(
            status(&json, control, address),
            expected,
            "{control} on {address}"
        );
    }
    assert!(
        addresses(&json, "s3-versioning")
            .iter()
            .all(|a| a != "aws_s3_bucket_public_access_block.external"),
        "controls that read nothing the child sets do not apply to it"
    );
}

#[test]
fn json_configuration_bom_and_dot_files_are_read_as_terraform_reads_them() {
    let dir = tree(&[
        (
            "main.tf.json",
            r#"{"resource": {"aws_db_instance": {"json": {"publicly_accessible": true, "storage_encrypted": true}}}}"#,
        ),
        (
            "bom.tf",
            "\u{feff}resource \"aws_db_instance\" \"bom\" {\n  publicly_accessible = true\n}\n",
        ),
        (
            ".example.tf",
            "resource \"aws_db_instance\" \"ignored\" {\n  publicly_accessible = true\n}\n",
        ),
    ]);
    let (code, json, stderr) = check_json(dir.path(), &["--control", "rds-not-public"]);
    assert_eq!(code, 1, "{stderr}\n{json:#}");
    assert_eq!(
        status(&json, "rds-not-public", "aws_db_instance.json"),
        "fail"
    );
    assert_eq!(
        status(&json, "rds-not-public", "aws_db_instance.bom"),
        "fail"
    );
    assert!(
        !addresses(&json, "rds-not-public").contains(&"aws_db_instance.ignored".to_owned()),
        "dot-files are not configuration"
    );
}

#[test]
fn a_file_that_cannot_be_decoded_or_is_too_big_fails_the_run_naming_it() {
    let dir = tree(&[("main.tf", "resource \"aws_s3_bucket\" \"b\" {}\n")]);
    std::fs::write(
        dir.path().join("latin1.tf"),
        b"# caf\xe9\nresource \"aws_s3_bucket\" \"c\" {}\n",
    )
    .unwrap();
    let (code, json, _) = check_json(dir.path(), &[]);
    assert_eq!(code, 2, "{json:#}");
    let problems = json["problems"].to_string();
    assert!(
        problems.contains("latin1.tf") && problems.contains("UTF-8"),
        "{problems}"
    );

    let big = tree(&[
        ("vouch.toml", "[check]\nmax_file_mb = 1\n"),
        ("big.tf", &format!("# {}\n", "x".repeat(1_100_000))),
    ]);
    let (code, json, _) = check_json(big.path(), &[]);
    assert_eq!(code, 2);
    assert!(json["problems"].to_string().contains("big.tf"));
}

#[test]
fn a_utf16_plan_written_by_powershell_is_decoded() {
    let plan = r#"{"format_version":"1.2","planned_values":{"root_module":{"resources":[{"address":"aws_db_instance.p","mode":"managed","type":"aws_db_instance","name":"p","values":{"publicly_accessible":true,"storage_encrypted":true}}]}}}"#;
    let mut bytes = vec![0xFF, 0xFE];
    for u in plan.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let dir = tree(&[]);
    std::fs::write(dir.path().join("plan.json"), bytes).unwrap();
    let (code, json, stderr) = check_json(dir.path(), &["--control", "rds-not-public"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(status(&json, "rds-not-public", "aws_db_instance.p"), "fail");
}

#[test]
fn blocks_with_the_wrong_number_of_labels_are_errors_at_the_block() {
    let dir = tree(&[(
        "main.tf",
        "resource \"aws_s3_bucket\" {\n}\nresource \"aws_s3_bucket\" \"a\" \"b\" {}\n",
    )]);
    let (code, json, _) = check_json(dir.path(), &[]);
    assert_eq!(code, 2);
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0]["line"], 1);
    assert_eq!(problems[1]["line"], 3);
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("two labels")
    );
}

#[test]
fn a_gateway_load_balancer_listener_is_not_plain_http() {
    let dir = tree(&[(
        "main.tf",
        r#"
resource "aws_lb" "gw" { load_balancer_type = "gateway" }
resource "aws_lb_listener" "gw" {
  load_balancer_arn = aws_lb.gw.arn
  default_action { type = "forward" }
}
resource "aws_lb" "app" {}
resource "aws_lb_listener" "app" {
  load_balancer_arn = aws_lb.app.arn
  port              = 80
  default_action { type = "forward" }
}
"#,
    )]);
    let (_, json, _) = check_json(dir.path(), &["--control", "lb-https-listeners"]);
    assert_eq!(
        status(&json, "lb-https-listeners", "aws_lb_listener.gw"),
        "pass"
    );
    assert_eq!(
        status(&json, "lb-https-listeners", "aws_lb_listener.app"),
        "fail"
    );
}

#[test]
fn only_real_s3_algorithms_count_as_encryption() {
    let bucket = |name: &str, alg: &str| {
        format!(
            "resource \"aws_s3_bucket\" \"{name}\" {{}}\nresource \"aws_s3_bucket_server_side_encryption_configuration\" \"{name}\" {{\n  bucket = aws_s3_bucket.{name}.id\n  rule {{\n    apply_server_side_encryption_by_default {{ sse_algorithm = \"{alg}\" }}\n  }}\n}}\n"
        )
    };
    let text = [
        bucket("aes", "AES256"),
        bucket("dsse", "aws:kms:dsse"),
        bucket("typo", "AES-256"),
    ]
    .concat();
    let dir = tree(&[("main.tf", &text)]);
    let (_, json, _) = check_json(dir.path(), &["--control", "s3-encryption-at-rest"]);
    assert_eq!(
        status(&json, "s3-encryption-at-rest", "aws_s3_bucket.aes"),
        "pass"
    );
    assert_eq!(
        status(&json, "s3-encryption-at-rest", "aws_s3_bucket.dsse"),
        "pass"
    );
    assert_eq!(
        status(&json, "s3-encryption-at-rest", "aws_s3_bucket.typo"),
        "fail"
    );
}

#[test]
fn an_empty_dynamic_condition_is_no_condition_and_no_unknown() {
    let dir = tree(&[(
        "main.tf",
        r#"
variable "conditions" { default = [] }
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
    dynamic "condition" {
      for_each = var.conditions
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }
}
resource "aws_iam_role" "flow_logs" {
  assume_role_policy = data.aws_iam_policy_document.trust.json
}
"#,
    )]);
    let (_, json, stderr) = check_json(dir.path(), &[]);
    let role: Vec<&Value> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["resource"]["address"] == "aws_iam_role.flow_logs" && r["status"] == "fail")
        .collect();
    assert!(
        role.is_empty(),
        "a service trust is not a public trust: {role:#?}\n{stderr}"
    );
}

#[test]
fn the_human_report_lists_modules_not_expanded_and_marks_undetermined_findings() {
    let dir = tree(&[(
        "main.tf",
        "variable \"pub\" {}\nresource \"aws_db_instance\" \"db\" {\n  publicly_accessible = var.pub\n  storage_encrypted = true\n}\nmodule \"vpc\" { source = \"git::https://example.test/vpc.git\" }\n",
    )]);
    let out = vouch()
        .args([
            "check",
            "--as-of",
            common::AS_OF,
            "--control",
            "rds-not-public",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not expanded: module.vpc"), "{text}");
    assert!(text.contains("undetermined"), "{text}");
}

#[test]
fn modules_installed_by_terraform_init_are_expanded_and_nothing_else_there_is_read() {
    let dir = tree(&[
        (
            "main.tf",
            "module \"db\" {\n  source  = \"terraform-aws-modules/rds/aws\"\n  version = \"6.0.0\"\n  pub     = true\n}\n",
        ),
        (
            ".terraform/modules/modules.json",
            r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"db","Source":"registry.terraform.io/terraform-aws-modules/rds/aws","Version":"6.0.0","Dir":".terraform/modules/db"}]}"#,
        ),
        (".terraform/modules/db/main.tf", DB_MODULE),
        (
            ".terraform/modules/db/examples/public/main.tf",
            "resource \"aws_db_instance\" \"example\" { publicly_accessible = true }\n",
        ),
        (
            ".terraform/modules/db/deploy/pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - name: x\n    image: x\n    securityContext: {privileged: true}\n",
        ),
        (
            ".terraform/providers/registry/aws/main.tf",
            "resource \"aws_s3_bucket\" \"provider\" {}\n",
        ),
    ]);
    let (code, json, stderr) = check_json(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}\n{json:#}");
    assert_eq!(
        status(&json, "rds-not-public", "module.db.aws_db_instance.db"),
        "fail"
    );
    let all: Vec<String> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["resource"]["address"].as_str().map(str::to_owned))
        .collect();
    for never in ["aws_db_instance.example", "aws_s3_bucket.provider"] {
        assert!(
            !all.contains(&never.to_owned()),
            "{never} is not part of the configuration"
        );
    }
    assert!(
        all.iter().all(|a| !a.starts_with("k8s:")),
        "an installed module's manifests are not the project's"
    );
    assert_eq!(
        json["summary"]["terraform"]["modules_not_expanded"],
        serde_json::json!([])
    );
}

#[test]
fn policy_documents_merge_their_sources_and_overrides_as_the_provider_does() {
    let dir = tree(&[(
        "main.tf",
        r#"
variable "extra_documents" {
  type    = list(string)
  default = []
}
data "aws_iam_policy_document" "admin" {
  statement {
    sid       = "All"
    actions   = ["*"]
    resources = ["*"]
  }
}
# The admin statement merged in from a source document.
data "aws_iam_policy_document" "merged" {
  source_policy_documents = concat([data.aws_iam_policy_document.admin.json], var.extra_documents)
  statement {
    sid       = "Read"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::reports/*"]
  }
}
resource "aws_iam_policy" "merged" {
  policy = data.aws_iam_policy_document.merged.json
}
# The same sid in the document's own statement replaces the source's.
data "aws_iam_policy_document" "narrowed" {
  source_policy_documents = [data.aws_iam_policy_document.admin.json]
  statement {
    sid       = "All"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::reports/*"]
  }
}
resource "aws_iam_policy" "narrowed" {
  policy = data.aws_iam_policy_document.narrowed.json
}
# An override document's statement with the same sid wins over the document's own.
data "aws_iam_policy_document" "overridden" {
  statement {
    sid       = "All"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::reports/*"]
  }
  override_policy_documents = [jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "All", Effect = "Allow", Action = "*", Resource = "*" }]
  })]
}
resource "aws_iam_policy" "overridden" {
  policy = data.aws_iam_policy_document.overridden.json
}
# A source vouch cannot know leaves the document undetermined, never admin.
variable "unknown_documents" {
  type = list(string)
}
data "aws_iam_policy_document" "unknown" {
  source_policy_documents = var.unknown_documents
  statement {
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
}
resource "aws_iam_policy" "unknown" {
  policy = data.aws_iam_policy_document.unknown.json
}
"#,
    )]);
    let (_, json, _) = check_json(dir.path(), &["--control", "iam-no-full-admin-policies"]);
    let control = "iam-no-full-admin-policies";
    assert_eq!(status(&json, control, "aws_iam_policy.merged"), "fail");
    assert_eq!(
        result(&json, control, "aws_iam_policy.merged")["determined"],
        true
    );
    assert_eq!(status(&json, control, "aws_iam_policy.narrowed"), "pass");
    assert_eq!(status(&json, control, "aws_iam_policy.overridden"), "fail");
    assert_eq!(
        result(&json, control, "aws_iam_policy.overridden")["determined"],
        true
    );
    let unknown = result(&json, control, "aws_iam_policy.unknown");
    assert_eq!(unknown["status"], "fail");
    assert_eq!(unknown["determined"], false, "{unknown:#}");
    assert!(
        unknown["messages"]
            .to_string()
            .contains("source_policy_documents"),
        "{unknown:#}"
    );
}

#[test]
fn a_copy_of_an_aws_managed_policy_reads_its_document_whatever_the_partition() {
    let dir = tree(&[(
        "main.tf",
        r#"
data "aws_partition" "current" {}
data "aws_iam_policy" "admin" {
  arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AdministratorAccess"
}
data "aws_iam_policy" "eni" {
  arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaENIManagementAccess"
}
resource "aws_iam_role" "fn" {
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}
resource "aws_iam_role_policy" "admin" {
  role   = aws_iam_role.fn.name
  policy = data.aws_iam_policy.admin.policy
}
resource "aws_iam_role_policy" "eni" {
  role   = aws_iam_role.fn.name
  policy = data.aws_iam_policy.eni.policy
}
"#,
    )]);
    let (_, json, _) = check_json(dir.path(), &["--control", "iam-no-full-admin-policies"]);
    let control = "iam-no-full-admin-policies";
    assert_eq!(status(&json, control, "aws_iam_role_policy.admin"), "fail");
    assert_eq!(
        result(&json, control, "aws_iam_role_policy.admin")["determined"],
        true
    );
    assert_eq!(status(&json, control, "aws_iam_role_policy.eni"), "pass");
}

#[test]
fn a_jsonencode_policy_with_one_unknown_arn_keeps_every_other_part() {
    let dir = tree(&[(
        "main.tf",
        r#"
variable "key_arn" {
  type = string
}
resource "aws_iam_policy" "encryption" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]
      Resource = var.key_arn
    }]
  })
}
resource "aws_iam_policy" "admin" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*", Condition = { StringEquals = { "aws:PrincipalTag/team" = var.key_arn } } }]
  })
}
"#,
    )]);
    let (_, json, _) = check_json(
        dir.path(),
        &[
            "--control",
            "iam-no-full-admin-policies",
            "--control",
            "iam-no-wildcard-actions",
        ],
    );
    // Only the resource is unknown: the actions alone show it is no administrator.
    for control in ["iam-no-full-admin-policies", "iam-no-wildcard-actions"] {
        assert_eq!(
            status(&json, control, "aws_iam_policy.encryption"),
            "pass",
            "{control}"
        );
    }
    // Every action with an unknown condition value: the wildcard is certain.
    let wildcard = result(&json, "iam-no-wildcard-actions", "aws_iam_policy.admin");
    assert_eq!(wildcard["status"], "fail");
    assert_eq!(wildcard["determined"], true, "{wildcard:#}");
}

/// `vouch check`'s human report of `dir`.
fn human_check(dir: &std::path::Path) -> String {
    let out = vouch()
        .args(["check", "--as-of", common::AS_OF])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn resources_no_control_reads_are_counted_never_silent() {
    let dir = tree(&[(
        "main.tf",
        r#"
resource "aws_cloudfront_distribution" "cdn" {
  enabled = true
}
resource "aws_cloudfront_distribution" "assets" {
  enabled = true
}
resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}
data "aws_caller_identity" "current" {}
"#,
    )]);
    let (_, json, _) = check_json(dir.path(), &[]);
    let not_covered = &json["summary"]["terraform"]["types_not_covered"];
    assert_eq!(
        not_covered["aws_cloudfront_distribution"], 2,
        "{not_covered}"
    );
    // Read types and data sources are not listed.
    assert!(not_covered.get("aws_s3_bucket").is_none(), "{not_covered}");
    assert!(
        not_covered.get("aws_caller_identity").is_none(),
        "{not_covered}"
    );
    let text = human_check(dir.path());
    assert!(
        text.contains("2 resources of 1 type(s) no control reads")
            && text.contains("aws_cloudfront_distribution (2)"),
        "{text}"
    );
}

/// A plan's resources of types no control reads are counted like a configuration's: a run on
/// plans alone says what it did not evaluate instead of looking complete.
#[test]
fn plan_resources_no_control_reads_are_counted_never_silent() {
    let plan = r#"{"format_version":"1.2","planned_values":{"root_module":{
      "resources":[
        {"address":"aws_db_instance.p","mode":"managed","type":"aws_db_instance","name":"p","values":{"publicly_accessible":false,"storage_encrypted":true}},
        {"address":"data.aws_caller_identity.me","mode":"data","type":"aws_caller_identity","name":"me","values":{}}
      ],
      "child_modules":[{"address":"module.cdn","resources":[
        {"address":"module.cdn.aws_cloudfront_distribution.a","mode":"managed","type":"aws_cloudfront_distribution","name":"a","values":{"enabled":true}},
        {"address":"module.cdn.aws_cloudfront_distribution.b","mode":"managed","type":"aws_cloudfront_distribution","name":"b","values":{"enabled":true}}
      ]}]}}}"#;
    let dir = tree(&[("plan.json", plan)]);
    let (_, json, stderr) = check_json(dir.path(), &[]);
    let tf = &json["summary"]["terraform"];
    assert_eq!(tf["plans"], 1, "{stderr} {tf}");
    assert_eq!(
        tf["types_not_covered"],
        serde_json::json!({"aws_cloudfront_distribution": 2}),
        "read types and data sources are not listed: {tf}"
    );
    let text = human_check(dir.path());
    assert!(
        text.contains("terraform: 0 roots, 1 plan, ")
            && text.contains("2 resources of 1 type(s) no control reads"),
        "{text}"
    );
}
