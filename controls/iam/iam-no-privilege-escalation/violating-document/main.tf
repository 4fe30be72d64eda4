data "aws_iam_policy_document" "ci" {
  statement {
    actions   = ["iam:AttachRolePolicy", "iam:GetRole"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "ci" {
  name   = "acme-ci"
  role   = "acme-ci"
  policy = data.aws_iam_policy_document.ci.json
}
