# A function created with any role, triggered from a DynamoDB stream.
data "aws_iam_policy_document" "builder" {
  statement {
    actions   = ["iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "builder" {
  name = "acme-builder"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "codebuild.amazonaws.com" }
    }]
  })
  inline_policy {
    name   = "builder"
    policy = data.aws_iam_policy_document.builder.json
  }
}
