# Admin in all but name: everything except deleting buckets.
resource "aws_iam_policy" "ops" {
  name = "acme-ops"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", NotAction = "s3:DeleteBucket", Resource = "*" }]
  })
}
