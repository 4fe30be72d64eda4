variable "trust_policy" {
  type        = string
  description = "Set per environment; no default, so a static reader cannot know it."
}

resource "aws_iam_role" "app" {
  name               = "acme-app"
  assume_role_policy = var.trust_policy
}
