# Every action on everything but one bucket.
resource "aws_iam_policy" "ops" {
  name = "acme-ops"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", NotResource = "arn:aws:s3:::acme-audit/*" }]
  })
}
