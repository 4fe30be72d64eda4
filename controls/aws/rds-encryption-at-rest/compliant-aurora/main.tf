resource "aws_rds_cluster" "reporting" {
  cluster_identifier          = "acme-reporting"
  engine                      = "aurora-postgresql"
  master_username             = "acme"
  manage_master_user_password = true
  storage_encrypted           = true
  kms_key_id                  = "arn:aws:kms:eu-west-1:111122223333:key/6f1c2a8e-0b7d-4c55-9a51-2f0e8d3b7c11"
  backup_retention_period     = 35
  deletion_protection         = true
}

resource "aws_rds_cluster_instance" "reporting" {
  count               = 2
  identifier          = "acme-reporting-${count.index}"
  cluster_identifier  = aws_rds_cluster.reporting.id
  engine              = aws_rds_cluster.reporting.engine
  instance_class      = "db.r6g.large"
  publicly_accessible = false
}
