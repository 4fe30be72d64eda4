resource "aws_iam_policy" "bucket_admin" {
  name = "acme-assets-admin"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutBucketPolicy", "s3:GetBucketPolicy"]
      Resource = "arn:aws:s3:::acme-assets"
    }]
  })
}
