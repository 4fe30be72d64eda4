resource "aws_iam_user" "jo" {
  name = "jo.doe"
}

resource "aws_iam_user_policy_attachment" "jo" {
  user       = aws_iam_user.jo.name
  policy_arn = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
}
