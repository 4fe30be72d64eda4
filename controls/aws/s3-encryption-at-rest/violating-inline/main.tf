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
}

resource "aws_s3_bucket_public_access_block" "legacy" {
  bucket                  = aws_s3_bucket.legacy.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
