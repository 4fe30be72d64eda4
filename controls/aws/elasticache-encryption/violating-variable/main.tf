variable "encrypt_at_rest" {
  type        = bool
  description = "Set per environment; no default, so a static reader cannot know it."
}

resource "aws_elasticache_replication_group" "sessions" {
  replication_group_id       = "acme-sessions"
  description                = "Session cache"
  engine                     = "redis"
  node_type                  = "cache.r7g.large"
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  at_rest_encryption_enabled = var.encrypt_at_rest
  transit_encryption_enabled = true
  kms_key_id                 = "arn:aws:kms:eu-west-1:111122223333:key/6f1c2a8e-0b7d-4c55-9a51-2f0e8d3b7c11"
}
