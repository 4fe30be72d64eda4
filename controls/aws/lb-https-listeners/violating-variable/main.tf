variable "listener_protocol" {
  type        = string
  description = "Set per environment; no default, so a static reader cannot know it."
}

resource "aws_lb" "web" {
  name               = "acme-web"
  load_balancer_type = "application"
  subnets            = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.web.arn
  port              = 80
  protocol          = var.listener_protocol

  default_action {
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/acme-web/0123456789abcdef"
  }
}
