resource "aws_iam_policy" "ops" {
  name = "acme-ops"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "*", Resource = "arn:*:*:*:*:*" },
      { Effect = "Allow", Action = "*", Resource = "arn:aws:*" }
    ]
  })
}
