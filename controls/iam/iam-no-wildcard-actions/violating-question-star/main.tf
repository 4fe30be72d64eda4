resource "aws_iam_policy" "keys" {
  name = "acme-keys"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "kms:?*", Resource = "arn:aws:kms:eu-west-1:111122223333:key/*" }]
  })
}
