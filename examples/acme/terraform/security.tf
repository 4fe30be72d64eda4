# Keys, audit trail and IAM.

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "data" {
  description             = "Acme customer data (S3, RDS, cache, DynamoDB)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_key" "initech" {
  description             = "Initech's dedicated database key"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_key" "trail" {
  description             = "CloudTrail log files"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

# ---------------------------------------------------------------- CloudTrail
resource "aws_s3_bucket" "cloudtrail" {
  bucket = "acme-cloudtrail"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "cloudtrail" {
  bucket = aws_s3_bucket.cloudtrail.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.trail.arn
    }
  }
}

resource "aws_s3_bucket_versioning" "cloudtrail" {
  bucket = aws_s3_bucket.cloudtrail.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "cloudtrail" {
  bucket                  = aws_s3_bucket.cloudtrail.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_logging" "cloudtrail" {
  bucket        = aws_s3_bucket.cloudtrail.id
  target_bucket = var.access_log_bucket
  target_prefix = "cloudtrail/"
}

data "aws_iam_policy_document" "cloudtrail_bucket" {
  statement {
    sid       = "CloudTrailAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.cloudtrail.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
  }
  statement {
    sid       = "CloudTrailWrite"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.cloudtrail.arn}/AWSLogs/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
  }
}

resource "aws_s3_bucket_policy" "cloudtrail" {
  bucket = aws_s3_bucket.cloudtrail.id
  policy = data.aws_iam_policy_document.cloudtrail_bucket.json
}

resource "aws_cloudtrail" "main" {
  name                          = "acme-organization"
  s3_bucket_name                = aws_s3_bucket.cloudtrail.id
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.trail.arn
}

# ---------------------------------------------------------------- IAM
resource "aws_iam_role" "app" {
  name = "acme-app"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
    }]
  })
}

resource "aws_iam_policy" "app" {
  name = "acme-app"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
        Resource = [
          aws_s3_bucket.exports.arn, "${aws_s3_bucket.exports.arn}/*",
          aws_s3_bucket.uploads.arn, "${aws_s3_bucket.uploads.arn}/*",
        ]
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = aws_kms_key.data.arn
      },
      {
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
        Resource = aws_dynamodb_table.events.arn
      }
    ]
  })
}

resource "aws_iam_role_policy_attachment" "app" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.app.arn
}

# The support vendor's read-only role: cross-account, guarded by an external id.
resource "aws_iam_role" "support_vendor" {
  name = "acme-support-vendor"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { AWS = "arn:aws:iam::999988887777:root" }
      Condition = { StringEquals = { "sts:ExternalId" = "acme-support-5d1e" } }
    }]
  })
  managed_policy_arns = ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"]
}

# CI deploys from GitHub Actions through OIDC.
resource "aws_iam_role" "ci" {
  name = "acme-ci"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com" }
      Condition = { StringLike = { "token.actions.githubusercontent.com:sub" = "repo:acme/platform:ref:refs/heads/main" } }
    }]
  })
}

# deliberate: `ec2:*` plus `iam:PassRole` on every role lets CI launch an instance as any role,
# including an administrator one (iam-no-wildcard-actions, iam-no-privilege-escalation).
resource "aws_iam_policy" "ci_deployer" {
  name = "acme-ci-deployer"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = ["ec2:*", "ecs:UpdateService", "ecs:RegisterTaskDefinition"], Resource = "*" },
      { Effect = "Allow", Action = "iam:PassRole", Resource = "*" }
    ]
  })
}

resource "aws_iam_role_policy_attachment" "ci" {
  role       = aws_iam_role.ci.name
  policy_arn = aws_iam_policy.ci_deployer.arn
}

resource "aws_iam_group" "engineers" {
  name = "acme-engineers"
}

resource "aws_iam_group_policy_attachment" "engineers" {
  group      = aws_iam_group.engineers.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_ebs_encryption_by_default" "this" {
  enabled = true
}
