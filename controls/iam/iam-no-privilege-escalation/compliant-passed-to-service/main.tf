# The role can be passed only to EC2, and this principal cannot run instances: the
# CloudFormation path is closed by the condition, not open.
resource "aws_iam_policy" "stacks" {
  name = "acme-stacks"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = "arn:aws:iam::111122223333:role/acme-app-*"
        Condition = { StringEquals = { "iam:PassedToService" = "ec2.amazonaws.com" } }
      },
      {
        Effect   = "Allow"
        Action   = ["cloudformation:CreateStack", "cloudformation:DescribeStacks"]
        Resource = "arn:aws:cloudformation:eu-west-1:111122223333:stack/acme-app-*/*"
      }
    ]
  })
}
