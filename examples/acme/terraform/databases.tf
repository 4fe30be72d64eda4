# One dedicated PostgreSQL instance per enterprise tenant (the shared pools live in the inventory),
# plus the session cache and the event table.

resource "aws_db_subnet_group" "private" {
  name       = "acme-private"
  subnet_ids = ["subnet-2c3d4e5f60718293a", "subnet-3d4e5f60718293a4b"]
}

resource "aws_db_instance" "globex" {
  identifier                  = "acme-pg-globex"
  engine                      = "postgres"
  engine_version              = "16.3"
  instance_class              = var.db_instance_class
  allocated_storage           = 200
  username                    = "acme"
  manage_master_user_password = true
  db_subnet_group_name        = aws_db_subnet_group.private.name
  vpc_security_group_ids      = [aws_security_group.db.id]
  storage_encrypted           = true
  kms_key_id                  = aws_kms_key.data.arn
  publicly_accessible         = false
  backup_retention_period     = 14
  deletion_protection         = true
  multi_az                    = true
}

# deliberate: storage_encrypted is missing, so the instance, its backups and snapshots are
# unencrypted (rds-encryption-at-rest).
resource "aws_db_instance" "soylent" {
  identifier                  = "acme-pg-soylent"
  engine                      = "postgres"
  engine_version              = "16.3"
  instance_class              = var.db_instance_class
  allocated_storage           = 200
  username                    = "acme"
  manage_master_user_password = true
  db_subnet_group_name        = aws_db_subnet_group.private.name
  vpc_security_group_ids      = [aws_security_group.db.id]
  publicly_accessible         = false
  backup_retention_period     = 14
  deletion_protection         = true
  multi_az                    = true
}

resource "aws_db_instance" "initech" {
  identifier                  = "acme-pg-initech"
  engine                      = "postgres"
  engine_version              = "16.3"
  instance_class              = var.db_instance_class
  allocated_storage           = 100
  username                    = "acme"
  manage_master_user_password = true
  db_subnet_group_name        = aws_db_subnet_group.private.name
  vpc_security_group_ids      = [aws_security_group.db.id]
  storage_encrypted           = true
  kms_key_id                  = aws_kms_key.initech.arn
  publicly_accessible         = false
  backup_retention_period     = 35
  deletion_protection         = true
  multi_az                    = true
}

resource "aws_elasticache_replication_group" "sessions" {
  replication_group_id       = "acme-sessions"
  description                = "Dashboard sessions"
  engine                     = "redis"
  node_type                  = "cache.r7g.large"
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  kms_key_id                 = aws_kms_key.data.arn
  security_group_ids         = [aws_security_group.db.id]
}

resource "aws_dynamodb_table" "events" {
  name         = "acme-ingest-events"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "tenant_id"
  range_key    = "event_id"

  attribute {
    name = "tenant_id"
    type = "S"
  }
  attribute {
    name = "event_id"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.data.arn
  }

  point_in_time_recovery {
    enabled = true
  }
}
