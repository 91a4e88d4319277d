provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_iam_role" "task" {
  name               = "task"
  assume_role_policy = "{}"
}

resource "aws_ecs_task_definition" "app" {
  family                = "app"
  container_definitions = "[]"
}

resource "aws_dynamodb_table" "table" {
  name     = "table"
  hash_key = "id"
}

resource "aws_made_up_thing" "x" {
  name = "x"
}

resource "random_id" "suffix" {
  byte_length = 4
}
