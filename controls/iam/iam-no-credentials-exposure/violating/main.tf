resource "aws_iam_group" "ci" {
  name = "acme-ci"
}

resource "aws_iam_group_policy" "assume_anything" {
  name  = "assume-anything"
  group = aws_iam_group.ci.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Resource = "*" }]
  })
}
