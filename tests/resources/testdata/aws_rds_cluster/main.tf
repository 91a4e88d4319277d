provider "aws" {
  region = "us-east-1"
}

resource "aws_rds_cluster" "aurora" {
  cluster_identifier      = "aurora"
  engine                  = "aurora-postgresql"
  backup_retention_period = 7
}

resource "aws_rds_cluster" "optimized" {
  cluster_identifier = "optimized"
  engine             = "aurora-mysql"
  storage_type       = "aurora-iopt1"
}
