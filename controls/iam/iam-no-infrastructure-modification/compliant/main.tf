resource "aws_iam_policy" "logs" {
  name = "acme-worker-logs"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "arn:aws:logs:eu-west-1:111122223333:log-group:/acme/worker:*"
    }]
  })
}

resource "aws_iam_role" "worker" {
  name = "acme-worker"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.worker.name
  policy_arn = aws_iam_policy.logs.arn
}
