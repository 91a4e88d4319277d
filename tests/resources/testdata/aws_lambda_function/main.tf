provider "aws" {
  region = "us-east-1"
}

resource "aws_lambda_function" "x86" {
  function_name = "x86"
  role          = "arn:aws:iam::123456789012:role/lambda"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  memory_size   = 1024
}

resource "aws_lambda_function" "arm" {
  function_name = "arm"
  role          = "arn:aws:iam::123456789012:role/lambda"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
  architectures = ["arm64"]

  ephemeral_storage {
    size = 2048
  }
}

resource "aws_lambda_function" "no_usage" {
  function_name = "quiet"
  role          = "arn:aws:iam::123456789012:role/lambda"
  handler       = "index.handler"
  runtime       = "nodejs20.x"
}
