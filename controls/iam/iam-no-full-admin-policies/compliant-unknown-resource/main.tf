# Only the bucket is unknown: this never grants every action on every resource.
variable "bucket_arn" {
  type = string
}

data "aws_iam_policy_document" "list" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
  }
}

resource "aws_iam_policy" "list" {
  name   = "acme-list"
  policy = data.aws_iam_policy_document.list.json
}
