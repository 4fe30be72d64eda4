resource "aws_iam_policy" "storage" {
  name = "acme-storage"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:**", Resource = "arn:aws:s3:::acme-data/*" }]
  })
}
