//! Deterministic generator of synthetic Terraform corpora for the benchmark.
//!
//! `cargo run --release --example gen-corpus -- modules <calls> <dir>` writes a module-heavy
//! corpus instead: one module of five resources (a bucket with its versioning and public access
//! block, a security group and a database) called `calls` times from root files, each call with
//! `for_each` over two keys, so `calls` × 2 module instances and `calls` × 10 resource instances.
//!
//! `cargo run --release --example gen-corpus -- <resources> <dir>` writes about `resources`
//! Terraform resource blocks in files of 25 blocks each (the shape of the reference corpus:
//! 10,000 resources in ~400 files), mixing S3 buckets with their split encryption, versioning
//! and public-access-block resources, security groups, RDS instances, KMS keys, EBS volumes,
//! CloudTrail trails and IAM policies, with about one resource in ten non-compliant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_macros)]

use std::fmt::Write as _;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("modules") {
        let calls: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000);
        let dir = std::path::PathBuf::from(args.get(3).map_or("corpus-modules", String::as_str));
        modules(calls, &dir);
        return;
    }
    let total: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let dir = std::path::PathBuf::from(args.get(2).map_or("corpus", String::as_str));
    std::fs::create_dir_all(&dir).unwrap();
    let per_file = 25;
    let mut written = 0;
    let mut file_no = 0;
    let mut i = 0usize;
    while written < total {
        let mut text = String::new();
        let mut in_file = 0;
        while in_file < per_file && written < total {
            let bad = i % 10 == 7;
            let n = written;
            let blocks = match i % 7 {
                0 => {
                    let _ = write!(
                        text,
                        r#"resource "aws_s3_bucket" "b{n}" {{
  bucket = "acme-bucket-{n}"
}}

resource "aws_s3_bucket_server_side_encryption_configuration" "b{n}" {{
  bucket = aws_s3_bucket.b{n}.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm = "{alg}"
    }}
  }}
}}

resource "aws_s3_bucket_versioning" "b{n}" {{
  bucket = aws_s3_bucket.b{n}.id
  versioning_configuration {{
    status = "{ver}"
  }}
}}

resource "aws_s3_bucket_public_access_block" "b{n}" {{
  bucket                  = aws_s3_bucket.b{n}.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = {pab}
}}

"#,
                        alg = if bad { "AES256" } else { "aws:kms" },
                        ver = if bad { "Suspended" } else { "Enabled" },
                        pab = !bad,
                    );
                    4
                }
                1 => {
                    let _ = write!(
                        text,
                        r#"resource "aws_security_group" "sg{n}" {{
  name = "sg-{n}"
  ingress {{
    from_port   = {port}
    to_port     = {port}
    protocol    = "tcp"
    cidr_blocks = ["{cidr}"]
  }}
  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}

"#,
                        port = if bad { 22 } else { 443 },
                        cidr = if bad { "0.0.0.0/0" } else { "10.0.0.0/8" },
                    );
                    1
                }
                2 => {
                    let _ = write!(
                        text,
                        r#"resource "aws_db_instance" "db{n}" {{
  identifier              = "db-{n}"
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  storage_encrypted       = {enc}
  publicly_accessible     = false
  backup_retention_period = 14
  deletion_protection     = true
  multi_az                = true
}}

"#,
                        enc = !bad
                    );
                    1
                }
                3 => {
                    let _ = write!(
                        text,
                        "resource \"aws_kms_key\" \"k{n}\" {{\n  description         = \"key {n}\"\n  enable_key_rotation = {rot}\n}}\n\n",
                        rot = !bad
                    );
                    1
                }
                4 => {
                    let _ = write!(
                        text,
                        "resource \"aws_ebs_volume\" \"v{n}\" {{\n  availability_zone = \"eu-west-1a\"\n  size              = 40\n  encrypted         = {enc}\n}}\n\n",
                        enc = !bad
                    );
                    1
                }
                5 => {
                    let _ = write!(
                        text,
                        r#"resource "aws_cloudtrail" "t{n}" {{
  name                          = "trail-{n}"
  s3_bucket_name                = "acme-trail-logs"
  is_multi_region_trail         = true
  enable_log_file_validation    = {val}
  kms_key_id                    = aws_kms_key.trail.arn
}}

"#,
                        val = !bad
                    );
                    1
                }
                _ => {
                    let _ = write!(
                        text,
                        r#"resource "aws_iam_policy" "p{n}" {{
  name = "policy-{n}"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = ["{action}"]
      Resource = "*"
    }}]
  }})
}}

"#,
                        action = if bad { "*" } else { "s3:GetObject" }
                    );
                    1
                }
            };
            written += blocks;
            in_file += blocks;
            i += 1;
        }
        std::fs::write(dir.join(format!("main_{file_no:04}.tf")), text).unwrap();
        file_no += 1;
    }
    println!(
        "wrote {written} resources in {file_no} files to {}",
        dir.display()
    );
}

/// The module-heavy corpus: `calls` module calls with `for_each`, about one instance in ten
/// non-compliant through its arguments.
fn modules(calls: usize, dir: &std::path::Path) {
    let module = dir.join("modules/service");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("main.tf"),
        r#"variable "name" {}
variable "public" { default = false }
variable "versioned" { default = true }
variable "admin_cidr" { default = "10.0.0.0/8" }

locals {
  bucket_name = "acme-${var.name}"
  tags        = { service = var.name, managed = "terraform" }
}

resource "aws_s3_bucket" "this" {
  bucket = local.bucket_name
  tags   = local.tags
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = var.versioned ? "Enabled" : "Suspended"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_security_group" "this" {
  name = "${var.name}-db"
  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr]
  }
}

resource "aws_db_instance" "this" {
  identifier              = var.name
  engine                  = "postgres"
  storage_encrypted       = true
  publicly_accessible     = var.public
  backup_retention_period = 14
  deletion_protection     = true
  multi_az                = true
}

output "bucket_id" { value = aws_s3_bucket.this.id }
"#,
    )
    .unwrap();
    let per_file = 25;
    let mut file_no = 0;
    let mut call = 0;
    while call < calls {
        let mut text = String::new();
        for _ in 0..per_file {
            if call >= calls {
                break;
            }
            let bad = call % 10 == 7;
            let _ = write!(
                text,
                r#"module "svc{call}" {{
  source   = "./modules/service"
  for_each = {{ blue = "b{call}", green = "g{call}" }}
  name       = each.value
  public     = {public}
  versioned  = each.key == "blue"
  admin_cidr = {cidr}
}}

"#,
                public = if bad { "true" } else { "false" },
                cidr = if bad {
                    "\"0.0.0.0/0\""
                } else {
                    "\"10.0.0.0/8\""
                },
            );
            call += 1;
        }
        std::fs::write(dir.join(format!("main_{file_no:04}.tf")), text).unwrap();
        file_no += 1;
    }
    println!(
        "wrote {calls} module calls ({} module instances, {} resource instances) in {file_no} files to {}",
        calls * 2,
        calls * 10,
        dir.display()
    );
}
