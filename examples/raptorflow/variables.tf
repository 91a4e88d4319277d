variable "aws_region" {
  description = "Region everything runs in"
  type        = string
  default     = "us-east-1"
}

variable "app_name" {
  description = "Prefix for every resource name"
  type        = string
  default     = "raptorflow"
}

variable "environment" {
  type    = string
  default = "production"
}

# Fargate task size for the inference API (CPU units / MiB)
variable "task_cpu" {
  default = "512"
}

variable "task_memory" {
  default = "1024"
}

variable "desired_count" {
  description = "Tasks running before autoscaling kicks in"
  type        = number
  default     = 2
}

variable "min_capacity" {
  type    = number
  default = 2
}

variable "max_capacity" {
  type    = number
  default = 6
}

variable "cpu_target" {
  description = "Target average CPU utilization for the service (percent)"
  type        = number
  default     = 70
}

variable "container_image" {
  type    = string
  default = "123456789012.dkr.ecr.us-east-1.amazonaws.com/raptorflow-api:latest"
}

variable "db_instance_class" {
  type    = string
  default = "db.t3.micro"
}

variable "redis_node_type" {
  type    = string
  default = "cache.t3.micro"
}
