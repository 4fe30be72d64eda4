resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  acl    = "private"

  versioning {
    enabled = true
  }

  logging {
    target_bucket = "acme-access-logs"
    target_prefix = "legacy/"
  }

  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = "arn:aws:kms:eu-west-1:111122223333:key/6f1c2a8e-0b7d-4c55-9a51-2f0e8d3b7c11"
      }
    }
  }
}
