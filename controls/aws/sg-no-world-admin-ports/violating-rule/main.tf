resource "aws_security_group" "db" {
  name   = "acme-db"
  vpc_id = "vpc-0a1b2c3d4e5f60718"
}

resource "aws_security_group_rule" "postgres" {
  type              = "ingress"
  security_group_id = aws_security_group.db.id
  ipv6_cidr_blocks  = ["::/0"]
  from_port         = 5432
  to_port           = 5432
  protocol          = "tcp"
}
