# Self-service: each user manages only their own keys.
data "aws_iam_policy_document" "self_service" {
  statement {
    actions   = ["iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys"]
    resources = ["arn:aws:iam::*:user/$${aws:username}"]
  }
}

resource "aws_iam_group" "engineers" {
  name = "acme-engineers"
}

resource "aws_iam_group_policy" "self_service" {
  name   = "self-service"
  group  = aws_iam_group.engineers.name
  policy = data.aws_iam_policy_document.self_service.json
}
