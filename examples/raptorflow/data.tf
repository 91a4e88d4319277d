module "rds" {
  source = "./modules/rds"

  name               = local.name
  instance_class     = var.db_instance_class
  subnet_ids         = aws_subnet.private[*].id
  security_group_ids = [aws_security_group.data.id]
}

resource "aws_elasticache_subnet_group" "redis" {
  name       = "${local.name}-redis"
  subnet_ids = aws_subnet.private[*].id
}

# Cache, session storage and job de-duplication
resource "aws_elasticache_cluster" "redis" {
  cluster_id           = "${local.name}-cache"
  engine               = "redis"
  engine_version       = "7.1"
  node_type            = var.redis_node_type
  num_cache_nodes      = 1
  parameter_group_name = "default.redis7"
  port                 = 6379
  subnet_group_name    = aws_elasticache_subnet_group.redis.name
  security_group_ids   = [aws_security_group.data.id]
}

# Async jobs: long generations are queued and picked up by the API tasks
resource "aws_sqs_queue" "jobs" {
  name                       = "${local.name}-jobs"
  visibility_timeout_seconds = 300
  message_retention_seconds  = 345600
}
