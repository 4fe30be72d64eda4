resource "aws_iam_policy" "deployer" {
  name = "acme-deployer"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["iam:PassRole", "ec2:RunInstances", "ec2:DescribeInstances"]
      Resource = "*"
    }]
  })
}
