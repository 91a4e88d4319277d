"""The estimate pipeline on real stacks: the example, the four fixture stacks, HCL vs plan JSON,
the JSON document against its schema, and bad input."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from leanstack.catalog import embedded_catalog
from leanstack.estimate import Estimate, estimate
from leanstack.model import IssueCode
from leanstack.model.money import quantize_money
from leanstack.model.pricing import PricedResource, PricingStatus
from leanstack.report.estimate import (
    estimate_json_schema,
    estimate_to_dict,
    render_markdown,
    render_table,
)
from leanstack.terraform import load_stack
from leanstack.usage.usage_file import find_usage_file, load_usage_file

REPO = Path(__file__).resolve().parents[2]
RAPTORFLOW = REPO / "examples" / "raptorflow"
FIXTURES = REPO / "tests" / "fixtures" / "terraform"
DUDU = FIXTURES / "duduribeiro__terraform_ecs_fargate_example"
LANGFUSE = FIXTURES / "imran-KG__langfuse-ecs-fargate-terraform"
OPG = FIXTURES / "ministryofjustice__opg-lpa" / "terraform"
BLUEPRINTS = FIXTURES / "aws-ia__ecs-blueprints" / "terraform" / "fargate-examples"
PARITY = FIXTURES / "plan-parity"


def run(path: Path, var_files: list[Path] | None = None, usage: Path | None = None) -> Estimate:
    usage_path = usage or find_usage_file(path)
    return estimate(
        load_stack(path, var_files=var_files or []),
        embedded_catalog(),
        load_usage_file(usage_path) if usage_path else None,
    )


def by_address(result: Estimate) -> dict[str, PricedResource]:
    return {r.address: r for r in result.resources}


def cents(value: Decimal | None) -> Decimal:
    assert value is not None
    return quantize_money(value)


def component(resource: PricedResource, prefix: str) -> Decimal:
    matches = [c for c in resource.components if c.name.startswith(prefix)]
    assert len(matches) == 1, [c.name for c in resource.components]
    return cents(matches[0].monthly_cost)


# --- the example ------------------------------------------------------------------------


@pytest.mark.skipif(not RAPTORFLOW.is_dir(), reason="examples/raptorflow not in the tree")
def test_raptorflow_prices_the_seed_stack_at_list_prices() -> None:
    result = run(RAPTORFLOW)
    found = by_address(result)
    service = found["aws_ecs_service.api"]
    tasks = service.details["tasks"]
    assert isinstance(tasks, int) and tasks >= 1
    # 0.5 vCPU / 1 GB task: (0.5 x 0.04048 + 1 x 0.004445) x 730 = $18.02 each.
    assert cents(service.monthly_cost / tasks) == Decimal("18.02")
    assert service.monthly_cost_max is not None and service.monthly_cost_max > service.monthly_cost
    db = found["module.rds.aws_db_instance.main"]
    assert component(db, "Database instance") == Decimal("13.14")
    assert component(db, "Storage (gp2") == Decimal("2.30")
    cache = found["aws_elasticache_cluster.redis"]
    assert cents(cache.monthly_cost) == Decimal("12.41")
    assert found["aws_sqs_queue.jobs"].status is PricingStatus.PRICED
    assert found["aws_lb.api"].status is PricingStatus.PRICED
    assert not [i for i in result.issues if i.severity != "info"]
    assert result.catalog_date and result.usage_file.endswith("leanstack-usage.yml")


# --- the fixture stacks ------------------------------------------------------------------


def test_duduribeiro_stack() -> None:
    result = run(DUDU)
    found = by_address(result)
    service = found["module.ecs.aws_ecs_service.web"]
    # modules/ecs/main.tf: cpu 256 / memory 512, desired 2, autoscaling 2..4.
    per_task = (Decimal("0.25") * Decimal("0.04048") + Decimal("0.5") * Decimal("0.004445")) * 730
    assert cents(service.monthly_cost) == cents(2 * per_task)
    assert cents(service.monthly_cost_max) == cents(4 * per_task)
    db = found["module.rds.aws_db_instance.rds"]
    # db.t2.micro is not in the catalog: a clear line, storage still priced and shown, but
    # the instance is unknown and left out of the total (never its hours counted as $0).
    instance = db.components[0]
    assert instance.price_error == "no price for db.t2.micro (postgresql, single-az) in us-east-1"
    assert component(db, "Storage (gp2") == Decimal("2.30")
    assert db.status is PricingStatus.UNKNOWN and "db.t2.micro" in db.reason
    assert db.counted_cost == 0
    assert result.count(PricingStatus.UNKNOWN) == 1
    assert result.monthly_cost == sum((r.counted_cost for r in result.resources), Decimal(0))
    assert result.monthly_cost == sum(
        (r.monthly_cost for r in result.resources if r is not db), Decimal(0)
    )
    warned = [
        i for i in result.issues if i.code is IssueCode.PRICE_NOT_FOUND and i.severity == "warning"
    ]
    assert [i.where for i in warned] == ["modules/rds/main.tf:61"]
    assert "excluded from the total" in warned[0].message
    table = render_table(result)
    assert "excludes 1 unknown and 6 unsupported resource(s)" in table
    assert "1 unknown" in table
    assert found["module.networking.aws_nat_gateway.nat"].status is PricingStatus.PRICED
    assert found["module.ecs.aws_alb.alb_openjobs"].status is PricingStatus.PRICED


def test_langfuse_stack_in_an_uncatalogued_region() -> None:
    result = run(LANGFUSE / "infra", var_files=[LANGFUSE / "tfvars" / "example.tfvars"])
    found = by_address(result)
    expected = {
        "module.rds.aws_db_instance.main",
        "module.langfuse.aws_elasticache_cluster.main",
        "module.langfuse.aws_ecs_service.web",
        "module.langfuse.aws_ecs_service.worker",
        "module.clickhouse.aws_ecs_service.main",
    }
    assert expected <= set(found)
    for address in expected:
        assert found[address].status is PricingStatus.UNKNOWN
        assert "region ap-northeast-1 is not in the price catalog" in found[address].reason
    region_issues = [i for i in result.issues if i.code is IssueCode.UNKNOWN_REGION]
    # The region comes from var.aws_region, set in the tfvars file: the error points there.
    assert len(region_issues) == 1 and region_issues[0].where == "../tfvars/example.tfvars:2"


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({"main.tf": 'provider "aws" {\n  region = "ap-south-1"\n}\n'}, "main.tf:2"),
        (
            {
                "main.tf": 'provider "aws" {\n  region = var.region\n}\n',
                "variables.tf": 'variable "region" {\n  default = "ap-south-1"\n}\n',
            },
            "variables.tf:2",
        ),
        (
            {
                "main.tf": 'provider "aws" {\n  region = var.region\n}\n',
                "variables.tf": 'variable "region" {}\n',
                "terraform.tfvars": '# region\nregion = "ap-south-1"\n',
            },
            "terraform.tfvars:2",
        ),
    ],
)
def test_an_uncatalogued_region_points_where_the_region_is_set(
    tmp_path: Path, files: dict[str, str], where: str
) -> None:
    files = dict(files)
    files["resources.tf"] = (
        'resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n'
        'resource "aws_nat_gateway" "n" {\n  subnet_id = "s"\n}\n'
    )
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = run(tmp_path)
    (issue,) = [i for i in result.issues if i.code is IssueCode.UNKNOWN_REGION]
    assert issue.where == where
    assert "ap-south-1" in issue.message and "2 resource(s) not priced" in issue.message


def test_opg_environment_stack() -> None:
    found = by_address(run(OPG / "environment"))
    vcpu, gb = Decimal("0.04048"), Decimal("0.004445")  # eu-west-1 Fargate x86 list prices
    # modules/environment/ecs_*.tf: task sizes; desired 1 each, clamped to autoscaling minima.
    sizes = {"admin": (256, 512), "api": (512, 1024), "front": (1024, 2048), "pdf": (2048, 4096)}
    for name, (cpu, memory) in sizes.items():
        service = found[f"module.eu-west-1.aws_ecs_service.{name}"]
        assert service.status is PricingStatus.PRICED and service.region == "eu-west-1"
        assert (service.details["cpu_units"], service.details["memory_mib"]) == (cpu, memory)
        per_task = (Decimal(cpu) / 1024 * vcpu + Decimal(memory) / 1024 * gb) * 730
        tasks = service.details["tasks"]
        assert isinstance(tasks, int)
        assert cents(service.monthly_cost) == cents(tasks * per_task)
        assert service.monthly_cost_max is not None
    mock = found["module.eu-west-1.module.mock_onelogin.aws_ecs_service.mock_onelogin"]
    assert mock.details["tasks_by_provider"] == {"FARGATE_SPOT": 1}
    assert all("Spot" in c.name for c in mock.components)
    aurora = found[
        "module.eu-west-1.module.api_aurora[0].aws_rds_cluster_instance.serverless_instances[0]"
    ]
    # Serverless v2 at its 0.5 ACU floor, range up to 4 ACUs, eu-west-1 $0.14/ACU-hour.
    assert cents(aurora.monthly_cost) == cents(Decimal("0.5") * 730 * Decimal("0.14"))
    assert cents(aurora.monthly_cost_max) == cents(4 * 730 * Decimal("0.14"))
    queue = found["module.eu-west-1.aws_sqs_queue.pdf_fifo_queue"]
    assert queue.details["queue_type"] == "fifo"
    assert queue.components[0].usage_based and queue.components[0].monthly_quantity is None


def test_opg_region_stack() -> None:
    result = run(OPG / "region")
    found = by_address(result)
    caches = [r for r in found.values() if r.type == "aws_elasticache_replication_group"]
    assert len(caches) == 4
    for cache in caches:
        # node_type comes from a workspace lookup the loader cannot resolve, or eu-west-2
        # has no prices: either way a reason, never a silent $0.
        assert cache.status is PricingStatus.UNKNOWN and cache.reason
    ip_blocker = "module.{}.module.ip_blocker.aws_lambda_function.block_ips_lambda"
    priced_fn = found[ip_blocker.format("eu-west-1")]
    assert priced_fn.status is PricingStatus.PRICED and priced_fn.details["memory_mb"] == 128
    assert all(c.usage_based and c.monthly_quantity is None for c in priced_fn.components)
    unpriced_fn = found[ip_blocker.format("eu-west-2")]
    assert unpriced_fn.status is PricingStatus.UNKNOWN and "eu-west-2" in unpriced_fn.reason
    # The catalog prices Secrets Manager in us-east-1 only: every eu-west-1 secret is unknown
    # with the reason (not $0), and one warning names how many and which.
    secrets = [r for r in found.values() if r.type == "aws_secretsmanager_secret"]
    assert len(secrets) == 17
    for secret in secrets:
        assert secret.status is PricingStatus.UNKNOWN and secret.counted_cost == 0
        assert secret.reason == "no price for Secrets Manager secret in eu-west-1"
    (warning,) = [i for i in result.issues if "Secrets Manager secret" in i.message]
    assert "17 resources not priced" in warning.message and warning.severity == "warning"
    assert result.count(PricingStatus.UNKNOWN) == sum(
        1 for r in result.resources if r.status is PricingStatus.UNKNOWN
    )


@pytest.mark.parametrize(
    "example",
    sorted(p.name for p in BLUEPRINTS.iterdir() if p.is_dir()) if BLUEPRINTS.is_dir() else [],
)
def test_blueprint_stacks_price_without_traceback(example: str) -> None:
    result = run(BLUEPRINTS / example)
    for resource in result.resources:
        assert resource.status is PricingStatus.PRICED or resource.reason
    render_table(result)
    render_markdown(result)


# --- HCL and plan JSON give the same prices -------------------------------------------


def test_hcl_and_plan_json_give_the_same_prices(tmp_path: Path) -> None:
    usage = tmp_path / "usage.yml"
    usage.write_text(
        textwrap.dedent(
            """
            version: 0.1
            resource_usage:
              aws_sqs_queue.jobs[*]:
                monthly_requests: 5000000
              aws_lambda_function.worker[*]:
                monthly_requests: 3000000
                request_duration_ms: 350
            """
        )
    )
    hcl = run(PARITY, usage=usage)
    plan = run(PARITY / "plan.json", usage=usage)
    assert hcl.input_kind == "hcl" and plan.input_kind == "plan"

    def table(result: Estimate) -> dict[str, object]:
        return {
            r.address: (
                r.status,
                r.monthly_cost,
                [(c.name, c.monthly_quantity, c.unit_price) for c in r.components],
            )
            for r in result.resources
        }

    assert table(hcl) == table(plan)
    assert hcl.monthly_cost == plan.monthly_cost > 0
    priced = [r for r in hcl.resources if r.status is PricingStatus.PRICED]
    assert {r.type for r in priced} >= {"aws_ecs_service", "aws_sqs_queue", "aws_lambda_function"}


# --- JSON document -----------------------------------------------------------------------


def test_json_document_validates_against_its_schema() -> None:
    result = run(DUDU)
    document = estimate_to_dict(result)
    jsonschema.validate(document, estimate_json_schema())
    assert document["schema_version"] == "1" and document["currency"] == "USD"
    assert document["catalog"]["date"] == embedded_catalog().date
    service = next(
        r for r in document["resources"] if r["address"] == "module.ecs.aws_ecs_service.web"
    )
    assert service["monthly_cost"] == "18.02" and service["monthly_cost_max"] == "36.04"
    assert service["source"]["file"] == "modules/ecs/main.tf"
    assert service["source"]["start_line"] == 239
    # The total adds the resources as printed; the unknown RDS instance adds nothing.
    counted = sum((Decimal(r["monthly_cost"]) for r in document["resources"]), Decimal(0))
    assert document["totals"]["monthly_cost"] == str(counted)
    rds = next(r for r in document["resources"] if r["address"].endswith("aws_db_instance.rds"))
    assert rds["status"] == "unknown" and rds["monthly_cost"] == "0.00"
    assert document["totals"]["resources"]["unknown"] == 1
    # Round trip through text: money stays a string.
    assert isinstance(json.loads(json.dumps(document))["totals"]["monthly_cost"], str)


def test_schema_rejects_money_as_float() -> None:
    document = estimate_to_dict(run(DUDU))
    document["totals"]["monthly_cost"] = 69.7
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, estimate_json_schema())


def test_the_table_fits_a_terminal_width_without_losing_text() -> None:
    result = run(DUDU)
    natural = render_table(result)
    table = natural.split("\n\n" + natural.split("\n\n")[-1])[0]
    assert max(len(line) for line in table.splitlines()) > 100  # the case worth fitting
    fitted = render_table(result, width=100)
    body = fitted[: fitted.index("OVERALL TOTAL")]
    assert max(len(line) for line in body.splitlines()) <= 100
    # Wrapping moves words, it never drops them: every word of the natural table survives.
    def words(text: str) -> list[str]:
        return sorted(w for w in text.replace("│", " ").split() if set(w) != {"─"})

    assert words(natural) == words(fitted)
