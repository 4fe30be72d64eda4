resource "aws_iam_group" "engineers" {
  name = "acme-engineers"
}

resource "aws_iam_group_policy_attachment" "engineers" {
  group      = aws_iam_group.engineers.name
  policy_arn = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
}

resource "aws_iam_user" "jo" {
  name = "jo.doe"
}

resource "aws_iam_user_group_membership" "jo" {
  user   = aws_iam_user.jo.name
  groups = [aws_iam_group.engineers.name]
}

resource "aws_iam_policy" "app" {
  name = "acme-app"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
        Resource = ["arn:aws:s3:::acme-data", "arn:aws:s3:::acme-data/*"]
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = "arn:aws:kms:eu-west-1:111122223333:key/6f1c2a8e-0b7d-4c55-9a51-2f0e8d3b7c11"
      }
    ]
  })
}

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

resource "aws_iam_role_policy_attachment" "app" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.app.arn
}
