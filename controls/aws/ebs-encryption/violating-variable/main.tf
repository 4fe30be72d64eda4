variable "encrypt" {
  type        = bool
  description = "Set per environment; no default, so a static reader cannot know it."
}

resource "aws_ebs_volume" "data" {
  availability_zone = "eu-west-1a"
  size              = 100
  encrypted         = var.encrypt
}
