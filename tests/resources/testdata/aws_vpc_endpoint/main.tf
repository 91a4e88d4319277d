provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = "vpc-123"
  service_name      = "com.amazonaws.us-east-1.s3"
  vpc_endpoint_type = "Gateway"
}

resource "aws_vpc_endpoint" "dynamodb_default_type" {
  vpc_id       = "vpc-123"
  service_name = "com.amazonaws.us-east-1.dynamodb"
}

resource "aws_vpc_endpoint" "ecr_api" {
  vpc_id              = "vpc-123"
  service_name        = "com.amazonaws.us-east-1.ecr.api"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
}
