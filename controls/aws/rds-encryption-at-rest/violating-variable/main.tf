variable "encrypt_storage" {
  type        = bool
  description = "Set per environment; no default, so a static reader cannot know it."
}

resource "aws_db_instance" "app" {
  identifier                  = "acme-app"
  engine                      = "postgres"
  engine_version              = "16.3"
  instance_class              = "db.r6g.large"
  allocated_storage           = 100
  username                    = "acme"
  manage_master_user_password = true
  storage_encrypted           = var.encrypt_storage
  publicly_accessible         = false
  backup_retention_period     = 14
  deletion_protection         = true
  multi_az                    = true
}
