provider "aws" {
  region = "us-east-1"
}

resource "aws_nat_gateway" "a" {
  allocation_id = "eipalloc-123"
  subnet_id     = "subnet-123"
}
