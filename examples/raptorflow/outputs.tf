output "alb_dns_name" {
  value = aws_lb.api.dns_name
}

output "database_endpoint" {
  value = module.rds.endpoint
}
