resource "aws_elasticache_cluster" "memcached" {
  cluster_id      = "acme-memcached"
  engine          = "memcached"
  node_type       = "cache.t4g.small"
  num_cache_nodes = 1
}
