resource "aws_iam_user" "jo" {
  name = "jo"
}

resource "aws_iam_user_login_profile" "jo" {
  user = aws_iam_user.jo.name
}
