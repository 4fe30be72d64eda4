variable "policy_json" {
  type        = string
  description = "Set per environment; no default, so a static reader cannot know it."
}

resource "aws_iam_policy" "app" {
  name   = "acme-app"
  policy = var.policy_json
}
