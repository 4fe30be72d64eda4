variable "admin_cidrs" {
  type        = list(string)
  description = "Set per environment; no default, so a static reader cannot know it."
}

resource "aws_security_group" "bastion" {
  name   = "acme-bastion"
  vpc_id = "vpc-0a1b2c3d4e5f60718"

  ingress {
    description = "SSH from admins"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = var.admin_cidrs
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
