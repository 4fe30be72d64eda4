resource "aws_db_instance" "app" {
  identifier                  = "acme-app"
  engine                      = "postgres"
  engine_version              = "16.3"
  instance_class              = "db.r6g.large"
  allocated_storage           = 100
  username                    = "acme"
  manage_master_user_password = true
  storage_encrypted           = true
  publicly_accessible         = false
  backup_retention_period     = 14
  deletion_protection         = true
  multi_az                    = true
  kms_key_id                  = "arn:aws:kms:eu-west-1:111122223333:key/6f1c2a8e-0b7d-4c55-9a51-2f0e8d3b7c11"
}
