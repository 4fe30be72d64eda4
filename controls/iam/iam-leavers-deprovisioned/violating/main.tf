# Jo left on 1 May; the IAM user and its access key are still there.
resource "aws_iam_user" "jo" {
  name = "jo"
}

resource "aws_iam_access_key" "jo" {
  user = aws_iam_user.jo.name
}
