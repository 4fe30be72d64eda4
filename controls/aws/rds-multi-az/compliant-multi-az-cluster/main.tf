# A Multi-AZ DB cluster: RDS places its three instances in three zones itself.
resource "aws_rds_cluster" "orders" {
  cluster_identifier          = "acme-orders"
  engine                      = "postgres"
  db_cluster_instance_class   = "db.r6gd.large"
  storage_type                = "io1"
  allocated_storage           = 100
  iops                        = 1000
  master_username             = "acme"
  manage_master_user_password = true
  storage_encrypted           = true
  kms_key_id                  = "arn:aws:kms:eu-west-1:111122223333:key/6f1c2a8e-0b7d-4c55-9a51-2f0e8d3b7c11"
  backup_retention_period     = 35
  deletion_protection         = true
}
