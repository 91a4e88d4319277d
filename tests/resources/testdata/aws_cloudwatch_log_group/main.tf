provider "aws" {
  region = "us-east-1"
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/app"
  retention_in_days = 30
}

resource "aws_cloudwatch_log_group" "quiet" {
  name = "/quiet"
}
