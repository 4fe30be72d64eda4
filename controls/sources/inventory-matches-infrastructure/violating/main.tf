resource "aws_kms_key" "main" {
  enable_key_rotation = true
}

resource "aws_db_instance" "main" {
  engine                  = "postgres"
  storage_encrypted       = false
  kms_key_id              = aws_kms_key.main.arn
  backup_retention_period = 35
  deletion_protection     = true
  multi_az                = true
}
