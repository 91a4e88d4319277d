"""Benchmark `leanstack estimate`: each fixture stack, and a generated 2,000-resource stack
spread over 500 files. Prints wall-clock timings (load, price, render) per stack.

    python benchmarks/bench_estimate.py [--repeat N]

Targets on the development machine: the largest fixture under 2 s, the generated stack under 20 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from leanstack.catalog import embedded_catalog
from leanstack.estimate import estimate
from leanstack.report.estimate import render_json, render_table
from leanstack.terraform import load_stack

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "terraform"
LANGFUSE = FIXTURES / "imran-KG__langfuse-ecs-fargate-terraform"
OPG = FIXTURES / "ministryofjustice__opg-lpa" / "terraform"
BLUEPRINTS = FIXTURES / "aws-ia__ecs-blueprints" / "terraform" / "fargate-examples"

STACKS: list[tuple[str, Path, list[Path]]] = [
    ("raptorflow (example)", REPO / "examples" / "raptorflow", []),
    ("duduribeiro", FIXTURES / "duduribeiro__terraform_ecs_fargate_example", []),
    ("langfuse", LANGFUSE / "infra", [LANGFUSE / "tfvars" / "example.tfvars"]),
    ("opg-lpa environment", OPG / "environment", []),
    ("opg-lpa region", OPG / "region", []),
    *[(f"ecs-blueprints {p.name}", p, []) for p in sorted(BLUEPRINTS.glob("*")) if p.is_dir()],
]

FILE_TEMPLATE = """
resource "aws_ecs_task_definition" "t{i}" {{
  family                   = "svc-{i}"
  requires_compatibilities = ["FARGATE"]
  cpu                      = var.cpu[{i} % 3]
  memory                   = var.memory[{i} % 3]
  container_definitions    = jsonencode([{{ name = "app", image = "nginx:${{local.tag}}" }}])
}}

resource "aws_ecs_service" "s{i}" {{
  name            = "svc-{i}"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.t{i}.arn
  desired_count   = {i} % 4 + 1

  capacity_provider_strategy {{
    capacity_provider = "FARGATE"
    base              = 1
    weight            = 1
  }}
  capacity_provider_strategy {{
    capacity_provider = "FARGATE_SPOT"
    weight            = 2
  }}
}}

resource "aws_sqs_queue" "q{i}" {{
  name       = "q-{i}${{var.suffix}}"
  fifo_queue = {i} % 5 == 0
}}

resource "aws_cloudwatch_metric_alarm" "a{i}" {{
  alarm_name          = "cpu-{i}"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  metric_name         = "CPUUtilization"
  namespace           = "AWS/ECS"
  period              = {i} % 2 == 0 ? 60 : 10
  statistic           = "Average"
  threshold           = 80
  dimensions = {{
    ServiceName = aws_ecs_service.s{i}.name
  }}
}}
"""

HEADER = """
provider "aws" {
  region = "us-east-1"
}

variable "cpu" {
  default = [256, 512, "1 vCPU"]
}

variable "memory" {
  default = [512, 1024, "2 GB"]
}

variable "suffix" {
  default = ""
}

locals {
  tag = "v1"
}

resource "aws_ecs_cluster" "main" {
  name = "bench"
}
"""


def generate(root: Path, files: int = 500) -> None:
    """500 files x 4 resources (+ the cluster): 2,001 resources."""
    (root / "main.tf").write_text(HEADER)
    for i in range(files):
        (root / f"svc_{i:03d}.tf").write_text(FILE_TEMPLATE.format(i=i))


def measure(label: str, path: Path, var_files: list[Path], repeat: int) -> float:
    catalog = embedded_catalog()
    best: tuple[float, float, float] | None = None
    count = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        loaded = load_stack(path, var_files=var_files)
        t1 = time.perf_counter()
        result = estimate(loaded, catalog, None)
        t2 = time.perf_counter()
        render_table(result)
        render_json(result)
        t3 = time.perf_counter()
        timing = (t1 - t0, t2 - t1, t3 - t2)
        if best is None or sum(timing) < sum(best):
            best = timing
        count = len(result.resources)
    assert best is not None
    total = sum(best)
    print(
        f"{label:<44} {count:>5} res  load {best[0]:6.3f}s  price {best[1]:6.3f}s  "
        f"render {best[2]:6.3f}s  total {total:6.3f}s"
    )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per stack; the best is shown")
    args = parser.parse_args()
    embedded_catalog()  # build the catalog index once, as a long-lived process would
    worst_fixture = 0.0
    for label, path, var_files in STACKS:
        if path.is_dir():
            worst_fixture = max(worst_fixture, measure(label, path, var_files, args.repeat))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root)
        generated = measure(
            "generated (2,001 resources, 501 files)", root, [], max(1, args.repeat - 2)
        )
    print(
        f"largest fixture: {worst_fixture:.3f}s (target < 2 s); "
        f"generated: {generated:.3f}s (target < 20 s)"
    )


if __name__ == "__main__":
    main()
