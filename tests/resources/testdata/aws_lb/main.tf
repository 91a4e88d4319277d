provider "aws" {
  region = "us-east-1"
}

resource "aws_lb" "alb" {
  name               = "alb"
  load_balancer_type = "application"
}

resource "aws_alb" "legacy" {
  name = "legacy"
}

resource "aws_lb" "nlb" {
  name               = "nlb"
  load_balancer_type = "network"
}
