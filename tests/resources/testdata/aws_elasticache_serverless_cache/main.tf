provider "aws" {
  region = "us-east-1"
}

resource "aws_elasticache_serverless_cache" "redis" {
  engine = "redis"
  name   = "redis"
}

resource "aws_elasticache_serverless_cache" "valkey" {
  engine = "valkey"
  name   = "valkey"
}
