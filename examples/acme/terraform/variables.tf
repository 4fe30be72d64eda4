# Acme Analytics — production AWS account (eu-west-1), managed with Terraform.

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "vpc_id" {
  type    = string
  default = "vpc-0a1b2c3d4e5f60718"
}

variable "vpc_cidr" {
  type    = string
  default = "10.40.0.0/16"
}

variable "public_subnets" {
  type    = list(string)
  default = ["subnet-0a1b2c3d4e5f60718", "subnet-1b2c3d4e5f6071829"]
}

variable "certificate_arn" {
  type    = string
  default = "arn:aws:acm:eu-west-1:111122223333:certificate/9a8b7c6d-1111-2222-3333-444455556666"
}

# Server access logs go to the security account's log archive (outside this configuration).
variable "access_log_bucket" {
  type    = string
  default = "acme-security-access-logs"
}

variable "db_instance_class" {
  type    = string
  default = "db.r6g.large"
}
