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
