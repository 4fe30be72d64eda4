# AdministratorAccess on a group makes every member an administrator.
resource "aws_iam_group" "admins" {
  name = "acme-admins"
}

resource "aws_iam_group_policy_attachment" "admins" {
  group      = aws_iam_group.admins.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

resource "aws_iam_user" "jo" {
  name = "jo.doe"
}

resource "aws_iam_user_group_membership" "jo" {
  user   = aws_iam_user.jo.name
  groups = [aws_iam_group.admins.name]
}
