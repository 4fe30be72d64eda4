resource "aws_rds_cluster" "reporting" {
  cluster_identifier          = "acme-reporting"
  engine                      = "aurora-postgresql"
  master_username             = "acme"
  manage_master_user_password = true
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
