"""Time `load_stack` on each fixture stack and on a generated 2,000-resource, 500-file stack.

Run: python benchmarks/bench_load.py [--repeat N]
Targets: the largest fixture well under 2 s, the generated stack well under 20 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from leanstack.terraform import LoadResult, load_stack

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "terraform"
LANGFUSE = FIXTURES / "imran-KG__langfuse-ecs-fargate-terraform"

STACKS: list[tuple[str, Path, list[Path]]] = [
    ("duduribeiro", FIXTURES / "duduribeiro__terraform_ecs_fargate_example", []),
    ("langfuse", LANGFUSE / "infra", [LANGFUSE / "tfvars" / "example.tfvars"]),
    ("opg-lpa/environment", FIXTURES / "ministryofjustice__opg-lpa/terraform/environment", []),
    ("opg-lpa/region", FIXTURES / "ministryofjustice__opg-lpa/terraform/region", []),
    (
        "ecs-blueprints/sqs-dynamic-target-tracking",
        FIXTURES / "aws-ia__ecs-blueprints/terraform/fargate-examples/sqs-dynamic-target-tracking",
        [],
    ),
]

FILE_TEMPLATE = """
locals {{
  svc_{i}_name = "${{var.prefix}}-svc-{i}"
  svc_{i}_size = lookup(var.sizes, "{size}", 256)
}}

resource "aws_ecs_task_definition" "t{i}" {{
  family                   = local.svc_{i}_name
  cpu                      = local.svc_{i}_size
  memory                   = local.svc_{i}_size * 2
  requires_compatibilities = ["FARGATE"]
  container_definitions = jsonencode([{{
    name  = local.svc_{i}_name
    image = "nginx:${{var.tag}}"
  }}])
  runtime_platform {{
    cpu_architecture = {i} % 2 == 0 ? "ARM64" : "X86_64"
  }}
}}

resource "aws_ecs_service" "s{i}" {{
  name            = local.svc_{i}_name
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.t{i}.arn
  desired_count   = var.desired
  dynamic "capacity_provider_strategy" {{
    for_each = var.strategy
    content {{
      capacity_provider = capacity_provider_strategy.key
      weight            = capacity_provider_strategy.value
    }}
  }}
}}

resource "aws_sqs_queue" "q{i}" {{
  count = 1
  name  = "${{local.svc_{i}_name}}-${{count.index}}"
}}

module "m{i}" {{
  source = "./modules/worker"
  name   = local.svc_{i}_name
  queue  = aws_sqs_queue.q{i}[0].arn
}}
"""

ROOT_TEMPLATE = """
provider "aws" {
  region = var.region
}

variable "region" {
  default = "eu-west-1"
}
variable "prefix" {
  default = "bench"
}
variable "tag" {
  default = "latest"
}
variable "desired" {
  type    = number
  default = 2
}
variable "sizes" {
  default = { small = 256, medium = 512, large = 1024 }
}
variable "strategy" {
  default = { FARGATE = 1, FARGATE_SPOT = 3 }
}

resource "aws_ecs_cluster" "main" {
  name = var.prefix
}

resource "aws_sqs_queue" "dlq" {
  count = 7
  name  = "${var.prefix}-dlq-${count.index}"
}
"""

MODULE_TEMPLATE = """
variable "name" {}
variable "queue" {}

resource "aws_lambda_function" "fn" {
  function_name = "${var.name}-worker"
  memory_size   = 512
  architectures = ["arm64"]
  environment {
    variables = {
      QUEUE = var.queue
    }
  }
}
"""


def generate_stack(root: Path, files: int = 500) -> int:
    """Write a stack of `files` .tf files holding 2,000 resources; return the resource count."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.tf").write_text(ROOT_TEMPLATE)
    (root / "modules" / "worker").mkdir(parents=True)
    (root / "modules" / "worker" / "main.tf").write_text(MODULE_TEMPLATE)
    sizes = ["small", "medium", "large"]
    # main.tf + the module's main.tf + 498 service files = 500 files. Each service file holds
    # a task definition, a service, a queue and a module call with a Lambda: 4 resources;
    # main.tf adds the cluster and 7 queues: 498 * 4 + 8 = 2,000.
    services = files - 2
    for i in range(services):
        text = FILE_TEMPLATE.format(i=i, size=sizes[i % 3])
        (root / f"svc_{i:03d}.tf").write_text(text)
    return services * 4 + 8


def timed(fn: Callable[[], LoadResult], repeat: int) -> tuple[float, LoadResult]:
    """Median wall time over `repeat` runs, and the last result."""
    times: list[float] = []
    result: LoadResult | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'stack':48} {'files':>6} {'resources':>9} {'issues':>6} {'seconds':>8}")
    worst_fixture = 0.0
    for name, path, var_files in STACKS:
        seconds, result = timed(lambda p=path, v=var_files: load_stack(p, var_files=v), args.repeat)
        worst_fixture = max(worst_fixture, seconds)
        print(
            f"{name:48} {len(result.files):6d} {len(result.resources):9d} "
            f"{len(result.issues):6d} {seconds:8.3f}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "generated"
        expected = generate_stack(root)
        seconds, result = timed(lambda: load_stack(root), args.repeat)
        print(
            f"{'generated (2,000 resources / 500 files)':48} {len(result.files):6d} "
            f"{len(result.resources):9d} {len(result.issues):6d} {seconds:8.3f}"
        )
        if len(result.resources) != expected or result.issues:
            print(f"unexpected: {len(result.resources)} resources, {len(result.issues)} issues")
            return 1
    ok = worst_fixture < 2 and seconds < 20
    print(f"targets: largest fixture < 2 s, generated < 20 s: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
