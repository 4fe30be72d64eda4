resource "aws_security_group" "win" {
  name   = "acme-win"
  vpc_id = "vpc-0a1b2c3d4e5f60718"
}

resource "aws_vpc_security_group_ingress_rule" "rdp" {
  security_group_id = aws_security_group.win.id
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 3000
  to_port           = 4000
  ip_protocol       = "tcp"
}
