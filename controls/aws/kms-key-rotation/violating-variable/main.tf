variable "rotate" {
  type        = bool
  description = "Set per environment; no default, so a static reader cannot know it."
}

resource "aws_kms_key" "data" {
  description         = "Acme data"
  enable_key_rotation = var.rotate
}
