resource "aws_iam_user" "jo" {
  name = "jo.doe"
}

resource "aws_iam_user_policy" "jo" {
  name = "jo-reports"
  user = aws_iam_user.jo.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::acme-reports/*" }]
  })
}
