provider "aws" {
  region = "us-east-1"
}

resource "aws_db_instance" "postgres" {
  identifier        = "pg"
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  allocated_storage = 20
}

resource "aws_db_instance" "mysql_multi_az_gp3" {
  identifier                            = "mysql"
  engine                                = "mysql"
  instance_class                        = "db.m5.large"
  multi_az                              = true
  storage_type                          = "gp3"
  allocated_storage                     = 500
  iops                                  = 15000
  performance_insights_enabled          = true
  performance_insights_retention_period = 731
}

resource "aws_db_instance" "io1" {
  identifier        = "io1"
  engine            = "postgres"
  instance_class    = "db.r5.large"
  allocated_storage = 100
  iops              = 2000
}

resource "aws_db_instance" "missing_class" {
  identifier        = "missing"
  engine            = "postgres"
  instance_class    = "db.x9.huge"
  allocated_storage = 20
}
