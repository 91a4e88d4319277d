provider "aws" {
  region = "us-east-1"
}

resource "aws_ecs_cluster" "main" {
  name = "golden"
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    base              = 1
    weight            = 1
  }
  default_capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = 3
  }
}

resource "aws_ecs_task_definition" "x86" {
  family                   = "x86"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  container_definitions    = "[]"
}

resource "aws_ecs_task_definition" "arm" {
  family                   = "arm"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "1 vCPU"
  memory                   = "2 GB"
  container_definitions    = "[]"

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "ARM64"
  }

  ephemeral_storage {
    size_in_gib = 50
  }
}

resource "aws_ecs_service" "on_demand" {
  name            = "on-demand"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.x86.arn
  desired_count   = 2
  launch_type     = "FARGATE"
}

resource "aws_appautoscaling_target" "on_demand" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.on_demand.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = 2
  max_capacity       = 6
}

resource "aws_ecs_service" "spot_mix" {
  name            = "spot-mix"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.arm.arn
  desired_count   = 5
}

resource "aws_ecs_service" "explicit_spot" {
  name            = "explicit-spot"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.x86.arn
  desired_count   = 10

  capacity_provider_strategy {
    capacity_provider = "FARGATE"
    base              = 2
    weight            = 1
  }
  capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = 3
  }
}

resource "aws_ecs_service" "ec2" {
  name            = "on-ec2"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.x86.arn
  launch_type     = "EC2"
}
