# The bucket comes from a variable without a value: the grant may cover every object.
variable "bucket_arn" {
  type = string
}

data "aws_iam_policy_document" "reports" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arn}/*"]
  }
}

resource "aws_iam_policy" "reports" {
  name   = "acme-reports"
  policy = data.aws_iam_policy_document.reports.json
}
