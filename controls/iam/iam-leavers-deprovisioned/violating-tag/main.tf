# The role's name does not say whose it is; the tag does.
resource "aws_iam_role" "jo_admin" {
  name = "break-glass-1"
  tags = { "vouch:person" = "jo" }
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ec2.amazonaws.com" }
    }]
  })
}
