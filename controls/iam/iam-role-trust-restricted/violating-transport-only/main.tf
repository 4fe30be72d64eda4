# Requiring TLS does not make a public principal private.
resource "aws_iam_role" "shared" {
  name = "acme-shared"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = "*"
      Condition = { Bool = { "aws:SecureTransport" = "true" } }
    }]
  })
}
