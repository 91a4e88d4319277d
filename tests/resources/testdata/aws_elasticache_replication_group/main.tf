provider "aws" {
  region = "us-east-1"
}

resource "aws_elasticache_replication_group" "primary_replica" {
  replication_group_id = "pr"
  description          = "primary and one replica"
  node_type            = "cache.r6g.large"
  num_cache_clusters   = 2
}

resource "aws_elasticache_replication_group" "sharded" {
  replication_group_id    = "sharded"
  description             = "cluster mode"
  engine                  = "valkey"
  node_type               = "cache.m6g.large"
  num_node_groups         = 3
  replicas_per_node_group = 1
}

resource "aws_appautoscaling_target" "shards" {
  service_namespace  = "elasticache"
  resource_id        = "replication-group/${aws_elasticache_replication_group.sharded.replication_group_id}"
  scalable_dimension = "elasticache:replication-group:NodeGroups"
  min_capacity       = 2
  max_capacity       = 5
}
