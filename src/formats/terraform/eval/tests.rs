//! Unit tests of the evaluator on small configurations.

use std::sync::Arc;

use super::*;
use crate::formats::terraform::parse_hcl;
use crate::source::SourceFile;

fn files(list: &[(&str, &str)]) -> Vec<Arc<TfFile>> {
    list.iter()
        .map(|(p, t)| match parse_hcl(&SourceFile::new(*p, *t)) {
            Ok(f) => Arc::new(f),
            Err(e) => unreachable!("{p}: {:?}", e),
        })
        .collect()
}

fn run(list: &[(&str, &str)]) -> Vec<(String, RootOutput)> {
    let f = files(list);
    let config = Config::new(&f);
    evaluate_roots(&config, &Overrides::default())
}

fn find<'a>(out: &'a RootOutput, address: &str) -> &'a RawResource {
    match out.resources.iter().find(|r| r.address == address) {
        Some(r) => r,
        None => unreachable!(
            "no {address} in {:?}",
            out.resources.iter().map(|r| &r.address).collect::<Vec<_>>()
        ),
    }
}

#[test]
fn a_called_directory_is_evaluated_through_its_caller_with_its_arguments() {
    let roots = run(&[
        (
            "main.tf",
            "variable \"pub\" { default = false }\nresource \"aws_db_instance\" \"db\" { publicly_accessible = var.pub }\noutput \"id\" { value = aws_db_instance.db.id }",
        ),
        (
            "examples/complete/main.tf",
            "module \"db\" {\n source = \"../../\"\n pub = true\n}\nresource \"aws_s3_bucket\" \"b\" { bucket = module.db.id }",
        ),
    ]);
    assert_eq!(
        roots.len(),
        1,
        "the module directory is not a root of its own"
    );
    let (root, out) = &roots[0];
    assert_eq!(root, "examples/complete");
    assert_eq!(out.modules_expanded, 1);
    let db = find(out, "module.db.aws_db_instance.db");
    assert_eq!(db.attrs.get("publicly_accessible"), Some(&Raw::Bool(true)));
    let b = find(out, "aws_s3_bucket.b");
    assert_eq!(
        b.attrs.get("bucket"),
        Some(&Raw::Ref("module.db.aws_db_instance.db.id".into()))
    );
}

#[test]
fn count_and_for_each_make_instances_and_zero_makes_none() {
    let roots = run(&[(
        "main.tf",
        r#"
variable "harden" { default = false }
variable "names" { default = ["a", "b"] }
resource "aws_s3_bucket" "this" {
  count  = 2
  bucket = "logs-${count.index}"
}
resource "aws_s3_bucket_public_access_block" "pab" {
  count  = var.harden ? 1 : 0
  bucket = aws_s3_bucket.this[0].id
}
resource "aws_s3_bucket_versioning" "v" {
  for_each = toset(var.names)
  bucket   = aws_s3_bucket.this[each.key == "a" ? 0 : 1].id
  versioning_configuration { status = "Enabled" }
}
"#,
    )]);
    let out = &roots[0].1;
    assert_eq!(
        find(out, "aws_s3_bucket.this[1]").attrs.get("bucket"),
        Some(&Raw::String("logs-1".into()))
    );
    assert!(
        out.resources
            .iter()
            .all(|r| r.rtype != "aws_s3_bucket_public_access_block")
    );
    assert_eq!(
        find(out, "aws_s3_bucket_versioning.v[\"b\"]")
            .attrs
            .get("bucket"),
        Some(&Raw::Ref("aws_s3_bucket.this[1].id".into()))
    );
}

#[test]
fn an_unknown_count_makes_one_instance_that_may_not_exist() {
    let roots = run(&[(
        "main.tf",
        "variable \"n\" {}\nresource \"aws_s3_bucket\" \"b\" {\n count = var.n\n bucket = \"x\"\n}\nresource \"aws_s3_bucket_versioning\" \"v\" { bucket = aws_s3_bucket.b[0].id }",
    )]);
    let out = &roots[0].1;
    let b = find(out, "aws_s3_bucket.b");
    assert!(
        b.presence.as_deref().is_some_and(|p| p.contains("var.n")),
        "{:?}",
        b.presence
    );
    assert_eq!(
        find(out, "aws_s3_bucket_versioning.v").attrs.get("bucket"),
        Some(&Raw::Ref("aws_s3_bucket.b.id".into())),
        "an index into an unknown count names the representative"
    );
}

#[test]
fn unknowns_stay_with_the_value_they_belong_to() {
    let roots = run(&[(
        "main.tf",
        r#"
variable "vpc_cidr" {}
resource "aws_security_group" "sg" {
  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr, "10.0.0.0/8"]
  }
}
"#,
    )]);
    let sg = find(&roots[0].1, "aws_security_group.sg");
    let Some(Raw::List(ingress)) = sg.attrs.get("ingress") else {
        unreachable!("{:?}", sg.attrs)
    };
    let Some(Raw::Map(rule)) = ingress.first() else {
        unreachable!()
    };
    assert_eq!(rule.get("from_port"), Some(&Raw::Number(5432.into())));
    let Some(Raw::List(cidrs)) = rule.get("cidr_blocks") else {
        unreachable!("{rule:?}")
    };
    assert!(matches!(&cidrs[0], Raw::Unknown(why) if why.contains("var.vpc_cidr")));
    assert_eq!(cidrs[1], Raw::String("10.0.0.0/8".into()));
}

#[test]
fn expressions_locals_for_and_dynamic_blocks_evaluate() {
    let roots = run(&[(
        "main.tf",
        r#"
locals {
  ports = { ssh = 22, pg = 5432 }
  names = [for k, v in local.ports : upper(k) if v > 100]
  merged = merge({ a = 1 }, { b = 2 })
}
resource "aws_security_group" "sg" {
  name = join(",", local.names)
  description = "${length(local.merged)} entries"
  dynamic "ingress" {
    for_each = local.ports
    content {
      from_port = ingress.value
      to_port   = ingress.value
      protocol  = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
  dynamic "egress" {
    for_each = []
    content { from_port = 0 }
  }
}
"#,
    )]);
    let sg = find(&roots[0].1, "aws_security_group.sg");
    assert_eq!(sg.attrs.get("name"), Some(&Raw::String("PG".into())));
    assert_eq!(
        sg.attrs.get("description"),
        Some(&Raw::String("2 entries".into()))
    );
    let Some(Raw::List(ingress)) = sg.attrs.get("ingress") else {
        unreachable!("{:?}", sg.attrs)
    };
    assert_eq!(ingress.len(), 2);
    assert_eq!(sg.attrs.get("egress"), Some(&Raw::List(Vec::new())));
}

#[test]
fn module_calls_with_for_each_and_nested_modules_are_addressed_like_terraform() {
    let roots = run(&[
        (
            "main.tf",
            "module \"a\" {\n source = \"./modules/a\"\n for_each = { x = 1, y = 2 }\n n = each.value\n}",
        ),
        (
            "modules/a/main.tf",
            "variable \"n\" {}\nmodule \"b\" {\n source = \"../b\"\n n = var.n\n}",
        ),
        (
            "modules/b/main.tf",
            "variable \"n\" {}\nresource \"aws_s3_bucket\" \"b\" {\n count = var.n\n bucket = \"b-${var.n}-${count.index}\"\n}",
        ),
        (
            "remote.tf",
            "module \"vpc\" { source = \"terraform-aws-modules/vpc/aws\" }",
        ),
    ]);
    assert_eq!(roots.len(), 1);
    let out = &roots[0].1;
    let b = find(out, "module.a[\"y\"].module.b.aws_s3_bucket.b[1]");
    assert_eq!(b.attrs.get("bucket"), Some(&Raw::String("b-2-1".into())));
    assert_eq!(out.resources.len(), 3);
    assert_eq!(out.modules_expanded, 4);
    assert_eq!(out.not_expanded.len(), 1);
    assert_eq!(out.not_expanded[0].call, "module.vpc");
}

#[test]
fn tfvars_apply_in_terraform_order_and_other_files_are_unknown() {
    let f = files(&[
        (
            "main.tf",
            "variable \"pub\" { default = false }\nvariable \"env\" { default = \"dev\" }\nresource \"aws_db_instance\" \"db\" {\n publicly_accessible = var.pub\n identifier = var.env\n}",
        ),
        ("terraform.tfvars", "pub = true"),
        ("prod.tfvars", "env = \"prod\""),
    ]);
    let config = Config::new(&f);
    let out = Evaluator::new(&config, "", &Overrides::default()).run();
    let db = find(&out, "aws_db_instance.db");
    assert_eq!(db.attrs.get("publicly_accessible"), Some(&Raw::Bool(true)));
    assert!(
        matches!(db.attrs.get("identifier"), Some(Raw::Unknown(why)) if why.contains("prod.tfvars"))
    );
    let prod = f.iter().find(|x| x.path == "prod.tfvars").cloned();
    let overrides = Overrides {
        var_files: prod.into_iter().collect(),
        vars: vec![("pub".into(), "false".into())],
    };
    let out = Evaluator::new(&config, "", &overrides).run();
    let db = find(&out, "aws_db_instance.db");
    assert_eq!(
        db.attrs.get("identifier"),
        Some(&Raw::String("prod".into()))
    );
    assert_eq!(db.attrs.get("publicly_accessible"), Some(&Raw::Bool(false)));
}

#[test]
fn splats_and_legacy_splats_join_to_their_instances() {
    let roots = run(&[(
        "main.tf",
        r#"
resource "aws_security_group" "this" { count = 1 }
locals {
  id = concat(aws_security_group.this.*.id, [""])[0]
  all = aws_security_group.this[*].id
}
resource "aws_security_group_rule" "r" {
  security_group_id = local.id
  type = "ingress"
}
resource "aws_security_group_rule" "s" {
  security_group_id = local.all[0]
  type = "ingress"
}
"#,
    )]);
    let out = &roots[0].1;
    for r in ["aws_security_group_rule.r", "aws_security_group_rule.s"] {
        assert_eq!(
            find(out, r).attrs.get("security_group_id"),
            Some(&Raw::Ref("aws_security_group.this[0].id".into())),
            "{r}"
        );
    }
}

#[test]
fn reference_cycles_are_unknown_not_a_hang() {
    let roots = run(&[(
        "main.tf",
        "locals {\n a = local.b\n b = local.a\n}\nresource \"aws_s3_bucket\" \"b\" { bucket = local.a }",
    )]);
    let b = find(&roots[0].1, "aws_s3_bucket.b");
    assert!(matches!(b.attrs.get("bucket"), Some(Raw::Unknown(_))));
}

#[test]
fn a_repeated_object_key_is_accepted_and_the_later_value_wins_as_in_terraform() {
    let roots = run(&[(
        "main.tf",
        "locals {\n  cfg = {\n    port = 80\n    \"name\" = \"a\"\n    port = 8080\n    \"name\" = \"b\"\n  }\n}\nresource \"aws_lb_listener\" \"l\" {\n  port = local.cfg.port\n  protocol = local.cfg.name\n}\n",
    )]);
    let l = find(&roots[0].1, "aws_lb_listener.l");
    assert_eq!(l.attrs.get("port"), Some(&Raw::Number(8080.into())));
    assert_eq!(l.attrs.get("protocol"), Some(&Raw::String("b".into())));
    assert_eq!(l.span.line, 9, "lines are unchanged by the renaming");
}

#[test]
fn a_comparison_an_unknown_part_cannot_change_is_decided() {
    let roots = run(&[(
        "main.tf",
        r#"
variable "cidr" {}
locals {
  rules = { a = { cidr = var.cidr } }
  kept  = { for k, v in local.rules : k => v if local.rules != null }
}
resource "aws_security_group_rule" "r" {
  for_each          = local.kept
  type              = "ingress"
  cidr_blocks       = [each.value.cidr]
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
  security_group_id = "sg-1"
}
"#,
    )]);
    let r = find(&roots[0].1, "aws_security_group_rule.r[\"a\"]");
    assert!(
        r.presence.is_none(),
        "the map is not null whatever its values"
    );
}

#[test]
fn a_module_that_calls_its_parent_stops_at_the_bounds_with_a_problem() {
    let roots = run(&[
        (
            "main.tf",
            "module \"m\" {\n source = \"./m\"\n for_each = toset([\"a\", \"b\", \"c\"])\n}\nresource \"aws_s3_bucket\" \"b\" {}\n",
        ),
        ("m/main.tf", "module \"up\" {\n source = \"../\"\n}\n"),
    ]);
    let out = &roots[0].1;
    assert!(!out.resources.is_empty());
    assert!(
        out.problems
            .iter()
            .any(|p| p.message.contains("module instances"))
            || out.not_expanded.iter().any(|n| n.reason.contains("nest")),
        "the recursion is cut and said so: {:?} {:?}",
        out.problems,
        out.not_expanded
    );
}
