resource "aws_elasticache_replication_group" "queue" {
  replication_group_id = "acme-queue"
  description          = "Valkey encrypts at rest and in transit by default"
  engine               = "valkey"
  node_type            = "cache.r7g.large"
  num_cache_clusters   = 2
}
