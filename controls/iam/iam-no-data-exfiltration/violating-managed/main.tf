# ReadOnlyAccess reads every object, parameter and table of the account.
data "aws_iam_policy" "read_only" {
  name = "ReadOnlyAccess"
}

resource "aws_iam_user" "auditor" {
  name = "acme-auditor"
}

resource "aws_iam_user_policy_attachment" "auditor" {
  user       = aws_iam_user.auditor.name
  policy_arn = data.aws_iam_policy.read_only.arn
}
