"""Cost-model arithmetic against values computed here from published list prices.

Resources are built by hand (no loader) so each test isolates one model. Expected figures use
the us-east-1 list prices written out below, not the catalog, so a wrong catalog row or a wrong
formula both fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from leanstack.catalog import Catalog, embedded_catalog
from leanstack.model import UNKNOWN, Resource, SourceSpan
from leanstack.model.money import quantize_money
from leanstack.model.pricing import PricedResource, PriceQuery, PricingStatus
from leanstack.resources import (
    PricingContext,
    elasticache_node_hourly,
    fargate_hourly,
    free_types,
    price_resource,
    rds_instance_hourly,
    split_tasks,
    supported_types,
    usage_keys,
)
from leanstack.resources.aws_ecs_service import StrategyItem

H = Decimal(730)
FARGATE_VCPU = Decimal("0.04048")
FARGATE_GB = Decimal("0.004445")
FARGATE_ARM_VCPU = Decimal("0.03238")
FARGATE_ARM_GB = Decimal("0.00356")


def res(address: str, attrs: Mapping[str, Any] | None = None, **kw: Any) -> Resource:
    rtype, name = address.split("[")[0].split(".")[-2:]
    kw.setdefault("source", SourceSpan(file="main.tf", start_line=1, end_line=2))
    return Resource(address=address, type=rtype, name=name, attrs=dict(attrs or {}), **kw)


def price(
    target: Resource,
    others: list[Resource] = (),  # type: ignore[assignment]
    usage: Mapping[str, Decimal | str] | None = None,
    catalog: Catalog | None = None,
) -> PricedResource:
    index = {r.address: r for r in [target, *others]}
    ctx = PricingContext(catalog=catalog or embedded_catalog(), index=index, usage=usage or {})
    return price_resource(target, ctx)


def cents(value: Decimal | None) -> Decimal:
    assert value is not None
    return quantize_money(value)


def task_def(cpu: Any = 512, memory: Any = 1024, **attrs: Any) -> Resource:
    return res(
        "aws_ecs_task_definition.app",
        {"cpu": cpu, "memory": memory, "requires_compatibilities": ["FARGATE"], **attrs},
    )


def service(attrs: Mapping[str, Any], **refs: tuple[str, ...]) -> Resource:
    return res(
        "aws_ecs_service.app",
        {"name": "app", **attrs},
        refs={"task_definition": ("aws_ecs_task_definition.app",), **refs},
    )


# --- Fargate -----------------------------------------------------------------------------


def test_fargate_512_1024_task_is_18_02_a_month() -> None:
    priced = price(service({"desired_count": 1, "launch_type": "FARGATE"}), [task_def()])
    expected = (Decimal("0.5") * FARGATE_VCPU + 1 * FARGATE_GB) * H
    assert cents(expected) == Decimal("18.02")
    assert priced.status is PricingStatus.PRICED
    assert cents(priced.monthly_cost) == Decimal("18.02")


def test_fargate_hourly_helper_matches_list_prices() -> None:
    catalog = embedded_catalog()
    assert (
        fargate_hourly(catalog, "us-east-1", 512, 1024)
        == Decimal("0.5") * FARGATE_VCPU + FARGATE_GB
    )
    arm = fargate_hourly(catalog, "us-east-1", 1024, 2048, arch="ARM64")
    assert arm == FARGATE_ARM_VCPU + 2 * FARGATE_ARM_GB


@pytest.mark.parametrize(("cpu", "memory"), [("1 vCPU", "2 GB"), (1024, 2048), ("1024", "2048")])
def test_task_sizes_accept_strings_and_numbers(cpu: Any, memory: Any) -> None:
    priced = price(service({"desired_count": 3, "launch_type": "FARGATE"}), [task_def(cpu, memory)])
    assert cents(priced.monthly_cost) == cents(3 * (FARGATE_VCPU + 2 * FARGATE_GB) * H)


def test_arm64_task_definition_gets_arm_prices() -> None:
    arm = task_def(
        runtime_platform=[{"cpu_architecture": "ARM64", "operating_system_family": "LINUX"}]
    )
    priced = price(service({"desired_count": 2, "launch_type": "FARGATE"}), [arm])
    assert cents(priced.monthly_cost) == cents(
        2 * (Decimal("0.5") * FARGATE_ARM_VCPU + FARGATE_ARM_GB) * H
    )
    assert all("arm64" in c.name for c in priced.components)


def test_desired_count_defaults_to_one() -> None:
    priced = price(service({"launch_type": "FARGATE"}), [task_def()])
    assert cents(priced.monthly_cost) == Decimal("18.02")


def test_split_tasks_follows_base_then_weights() -> None:
    strategy = [StrategyItem("FARGATE", 2, 1), StrategyItem("FARGATE_SPOT", 0, 3)]
    assert split_tasks(10, strategy) == {"FARGATE": 4, "FARGATE_SPOT": 6}
    assert split_tasks(1, strategy) == {"FARGATE": 1, "FARGATE_SPOT": 0}
    assert split_tasks(0, strategy) == {"FARGATE": 0, "FARGATE_SPOT": 0}
    only_spot = [StrategyItem("FARGATE", 0, 0), StrategyItem("FARGATE_SPOT", 0, 1)]
    assert split_tasks(3, only_spot) == {"FARGATE": 0, "FARGATE_SPOT": 3}


def test_spot_share_is_priced_at_spot_rows_and_says_so() -> None:
    strategy = [
        {"capacity_provider": "FARGATE", "base": 2, "weight": 1},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3},
    ]
    priced = price(
        service({"desired_count": 10, "capacity_provider_strategy": strategy}), [task_def()]
    )
    rows = embedded_catalog().matches(
        PriceQuery.of("fargate", "us-east-1", os="linux", arch="x86_64", capacity="spot")
    )
    # The best (newest observed) row for each unit.
    spot_prices = {
        unit: next(p.price for p in rows if p.unit == unit) for unit in ("vCPU-hour", "GB-hour")
    }
    expected = (
        4 * (Decimal("0.5") * FARGATE_VCPU + FARGATE_GB)
        + 6 * (Decimal("0.5") * spot_prices["vCPU-hour"] + spot_prices["GB-hour"])
    ) * H
    assert cents(priced.monthly_cost) == cents(expected)
    spot_lines = [c for c in priced.components if "Spot" in c.name]
    assert len(spot_lines) == 2
    assert all("not a list price" in c.note for c in spot_lines)
    # The spot share is cheaper than on-demand: the test would catch on-demand prices for Spot.
    assert spot_prices["vCPU-hour"] < FARGATE_VCPU / 2


def test_recorded_average_task_count_replaces_desired_count() -> None:
    # 2.19 tasks on average (a RunningTaskCount mean): billed as ran, not as desired_count.
    priced = price(
        service({"desired_count": 2, "launch_type": "FARGATE"}),
        [task_def()],
        usage={"average_task_count": Decimal("2.19")},
    )
    # Each line is rounded to cents once and the resource is their sum, like an invoice.
    vcpu = cents(Decimal("2.19") * Decimal("0.5") * FARGATE_VCPU * H)
    memory = cents(Decimal("2.19") * FARGATE_GB * H)
    assert priced.monthly_cost == vcpu + memory
    assert all(c.usage_based for c in priced.components)
    assert "2.19 task(s) on average" in str(priced.details["summary"])


def test_recorded_average_splits_between_the_counts_either_side() -> None:
    strategy = [
        {"capacity_provider": "FARGATE", "base": 1, "weight": 1},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3},
    ]
    priced = price(
        service({"desired_count": 2, "capacity_provider_strategy": strategy}),
        [task_def()],
        usage={"average_task_count": Decimal("2.5")},
    )
    # 2 tasks: base 1 on-demand, then the first weighted task to FARGATE (tie, listed first);
    # 3 tasks: one more, to Spot. Half way between: 2 on-demand and 0.5 Spot.
    vcpu = {c.name: c.monthly_quantity for c in priced.components if "vCPU" in c.name}
    assert vcpu["Fargate vCPU (on-demand, x86_64)"] == 2 * Decimal("0.5") * H
    assert vcpu["Fargate vCPU (Spot, x86_64)"] == Decimal("0.5") * Decimal("0.5") * H


def test_cluster_default_strategy_via_capacity_providers_resource() -> None:
    cluster = res("aws_ecs_cluster.main", {"name": "main"})
    providers = res(
        "aws_ecs_cluster_capacity_providers.main",
        {
            "cluster_name": "main",
            "default_capacity_provider_strategy": [
                {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}
            ],
        },
        refs={"cluster_name": ("aws_ecs_cluster.main",)},
    )
    svc = service({"desired_count": 2}, cluster=("aws_ecs_cluster.main",))
    priced = price(svc, [task_def(), cluster, providers])
    assert {c.name.split(" (")[1].split(",")[0] for c in priced.components} == {"Spot"}
    assert "cluster default" in priced.reason


def test_autoscaling_target_gives_a_range_and_clamps_desired() -> None:
    target = res(
        "aws_appautoscaling_target.app",
        {"service_namespace": "ecs", "min_capacity": 3, "max_capacity": 8, "resource_id": UNKNOWN},
        refs={"resource_id": ("aws_ecs_service.app",)},
    )
    priced = price(service({"desired_count": 1, "launch_type": "FARGATE"}), [task_def(), target])
    per_task = (Decimal("0.5") * FARGATE_VCPU + FARGATE_GB) * H
    assert cents(priced.monthly_cost) == cents(3 * per_task)  # clamped up to the minimum
    assert cents(priced.monthly_cost_min) == cents(3 * per_task)
    assert cents(priced.monthly_cost_max) == cents(8 * per_task)
    assert "clamped" in priced.reason


def test_ephemeral_storage_above_20_gb() -> None:
    td = task_def(ephemeral_storage=[{"size_in_gib": 45}])
    priced = price(service({"desired_count": 2, "launch_type": "FARGATE"}), [td])
    storage = next(c for c in priced.components if c.name.startswith("Ephemeral"))
    assert storage.monthly_quantity == 2 * 25 * H
    assert storage.unit_price == Decimal("0.000111")


def test_ec2_launch_type_is_unsupported_with_reason() -> None:
    priced = price(service({"launch_type": "EC2"}), [task_def()])
    assert priced.status is PricingStatus.UNSUPPORTED
    assert "EC2" in priced.reason


def test_unknown_task_cpu_makes_the_service_unknown_naming_the_attribute() -> None:
    priced = price(service({"launch_type": "FARGATE"}), [task_def(cpu=UNKNOWN)])
    assert priced.status is PricingStatus.UNKNOWN
    assert "aws_ecs_task_definition.app.cpu" in priced.reason


def test_missing_task_definition_is_unknown() -> None:
    priced = price(service({"launch_type": "FARGATE"}), [])
    assert priced.status is PricingStatus.UNKNOWN
    assert "task_definition" in priced.reason


# --- RDS ---------------------------------------------------------------------------------


def test_db_t3_micro_postgres_with_20_gb_gp2() -> None:
    db = res(
        "aws_db_instance.db",
        {"engine": "postgres", "instance_class": "db.t3.micro", "allocated_storage": 20},
    )
    priced = price(db)
    lines = {c.name: c for c in priced.components}
    instance = lines["Database instance (on-demand, Single-AZ, db.t3.micro)"]
    assert cents(instance.monthly_cost) == cents(Decimal("0.018") * H) == Decimal("13.14")
    storage = lines["Storage (gp2, Single-AZ)"]
    assert cents(storage.monthly_cost) == cents(20 * Decimal("0.115")) == Decimal("2.30")
    assert cents(priced.monthly_cost) == Decimal("15.44")
    # Usage-based lines without usage stay None (depends on usage), never $0.
    credits = lines["CPU credits"]
    assert credits.usage_based and credits.monthly_quantity is None and credits.monthly_cost is None


def test_db_usage_prices_backup_and_cpu_credits() -> None:
    db = res("aws_db_instance.db", {"engine": "postgres", "instance_class": "db.t3.micro"})
    priced = price(
        db,
        usage={"additional_backup_storage_gb": Decimal(10), "monthly_cpu_credit_hrs": Decimal(40)},
    )
    assert cents(priced.monthly_cost) == cents(
        Decimal("0.018") * H + 20 * Decimal("0.115") + 10 * Decimal("0.095") + 40 * Decimal("0.075")
    )


def test_multi_az_and_gp3_iops_above_baseline() -> None:
    db = res(
        "aws_db_instance.db",
        {
            "engine": "postgres",
            "instance_class": "db.t3.micro",
            "multi_az": True,
            "storage_type": "gp3",
            "allocated_storage": 100,
            "iops": 3500,
        },
    )
    lines = {c.name: c for c in price(db).components}
    assert lines["Database instance (on-demand, Multi-AZ, db.t3.micro)"].unit_price == Decimal(
        "0.036"
    )
    assert lines["Storage (gp3, Multi-AZ)"].monthly_quantity == 100
    assert lines["Provisioned gp3 IOPS (above 3,000)"].monthly_quantity == 500


def test_performance_insights_paid_retention_only_beyond_7_days() -> None:
    base = {
        "engine": "mysql",
        "instance_class": "db.m5.large",
        "performance_insights_enabled": True,
    }
    free_pi = price(res("aws_db_instance.a", {**base, "performance_insights_retention_period": 7}))
    paid_pi = price(
        res("aws_db_instance.b", {**base, "performance_insights_retention_period": 731})
    )
    assert not any("Performance" in c.name for c in free_pi.components)
    pi = next(c for c in paid_pi.components if "Performance" in c.name)
    assert pi.monthly_quantity == 2 and pi.unit_price == Decimal("3.815")


def test_rds_helper_and_engine_map() -> None:
    catalog = embedded_catalog()
    assert rds_instance_hourly(catalog, "us-east-1", "db.t3.micro", "postgres", False) == Decimal(
        "0.018"
    )
    assert rds_instance_hourly(catalog, "us-east-1", "db.t4g.micro", "postgres", False) == Decimal(
        "0.016"
    )
    assert rds_instance_hourly(catalog, "us-east-1", "db.t3.micro", "mysql", False) == Decimal(
        "0.017"
    )
    assert rds_instance_hourly(catalog, "us-east-1", "db.nope.large", "postgres", False) is None


def test_missing_price_is_a_component_with_price_error() -> None:
    db = res("aws_db_instance.db", {"engine": "postgres", "instance_class": "db.x1.large"})
    priced = price(db)
    instance = priced.components[0]
    assert instance.unit_price is None and instance.monthly_cost is None
    assert instance.price_error == "no price for db.x1.large (postgresql, single-az) in us-east-1"
    assert priced.monthly_cost == 20 * Decimal("0.115")  # the storage is still priced


def test_unknown_instance_class_names_the_attribute() -> None:
    priced = price(res("aws_db_instance.db", {"engine": "postgres", "instance_class": UNKNOWN}))
    assert priced.status is PricingStatus.UNKNOWN
    assert "instance_class" in priced.reason


# --- ElastiCache -----------------------------------------------------------------------


def test_cache_t3_micro_is_12_41() -> None:
    cache = res("aws_elasticache_cluster.c", {"engine": "redis", "node_type": "cache.t3.micro"})
    assert cents(price(cache).monthly_cost) == cents(Decimal("0.017") * H) == Decimal("12.41")
    assert elasticache_node_hourly(
        embedded_catalog(), "us-east-1", "cache.t3.micro", "redis"
    ) == Decimal("0.017")


def test_replication_group_counts_shards_times_replicas() -> None:
    group = res(
        "aws_elasticache_replication_group.g",
        {"node_type": "cache.t3.micro", "num_node_groups": 2, "replicas_per_node_group": 2},
    )
    assert cents(price(group).monthly_cost) == cents(6 * Decimal("0.017") * H)


def test_cluster_in_replication_group_is_free_here() -> None:
    member = res(
        "aws_elasticache_cluster.m", {"replication_group_id": "g", "node_type": "cache.t3.micro"}
    )
    assert price(member).status is PricingStatus.FREE


# --- SQS and Lambda tiers and free tiers -----------------------------------------------


def test_sqs_64kb_chunks_free_tier_line_and_fifo() -> None:
    queue = res("aws_sqs_queue.q", {"fifo_queue": True})
    priced = price(
        queue, usage={"monthly_requests": Decimal(2_000_000), "request_size_kb": Decimal(130)}
    )
    free_line, paid = priced.components
    assert (
        "free tier" in free_line.name
        and free_line.monthly_quantity == 1
        and free_line.unit_price == 0
    )
    # 2M requests x 3 chunks = 6M billed, minus 1M free = 5M at $0.50 (FIFO).
    assert paid.monthly_quantity == 5 and paid.unit_price == Decimal("0.50")
    assert cents(priced.monthly_cost) == Decimal("2.50")


def test_sqs_standard_tiers() -> None:
    priced = price(res("aws_sqs_queue.q"), usage={"monthly_requests": Decimal(250_000_000_000)})
    expected = (
        (Decimal(100_000) - 1) * Decimal("0.40")
        + 100_000 * Decimal("0.30")
        + 50_000 * Decimal("0.24")
    )
    assert cents(priced.monthly_cost) == cents(expected)


def test_lambda_x86_free_tier_and_duration() -> None:
    fn = res("aws_lambda_function.f", {"memory_size": 512})
    priced = price(
        fn, usage={"monthly_requests": Decimal(10_000_000), "request_duration_ms": Decimal(200)}
    )
    gb_seconds = Decimal(10_000_000) * Decimal("0.2") * Decimal("0.5")
    expected = 9 * Decimal("0.20") + (gb_seconds - 400_000) * Decimal("0.0000166667")
    assert cents(priced.monthly_cost) == cents(expected)
    names = [c.name for c in priced.components]
    assert names[0].startswith("Requests (free tier") and any(
        "Duration (free tier" in n for n in names
    )


def test_lambda_arm64_tiers_cross_the_first_tier() -> None:
    fn = res("aws_lambda_function.f", {"memory_size": 10240, "architectures": ["arm64"]})
    # 1B requests x 1 s x 10 GB = 10B GB-s: 7.5B in tier 1 (minus the free 400k), 2.5B in tier 2.
    priced = price(
        fn, usage={"monthly_requests": Decimal(1_000_000_000), "request_duration_ms": Decimal(1000)}
    )
    durations = [
        c for c in priced.components if c.name.startswith("Duration (") and "free" not in c.name
    ]
    assert [c.monthly_quantity for c in durations] == [
        Decimal(7_500_000_000 - 400_000),
        Decimal(2_500_000_000),
    ]
    assert [c.unit_price for c in durations] == [Decimal("0.0000133334"), Decimal("0.0000120001")]


def test_lambda_without_usage_depends_on_usage() -> None:
    priced = price(res("aws_lambda_function.f"))
    assert priced.monthly_cost == 0
    assert all(c.monthly_quantity is None and c.usage_based for c in priced.components)


# --- region, free, unsupported, registry ----------------------------------------------


def test_unknown_region_is_a_clear_reason() -> None:
    db = res(
        "aws_db_instance.db",
        {"engine": "postgres", "instance_class": "db.t3.micro"},
        region="eu-north-1",
    )
    priced = price(db)
    assert priced.status is PricingStatus.UNKNOWN
    assert priced.reason.startswith("region eu-north-1 is not in the price catalog")


def test_price_outside_us_east_1_uses_that_region() -> None:
    db = res(
        "aws_db_instance.db",
        {"engine": "postgres", "instance_class": "db.t3.micro"},
        region="eu-west-1",
    )
    instance = price(db).components[0]
    assert instance.price is not None and instance.price.region == "eu-west-1"
    assert instance.unit_price != Decimal("0.018")


def test_free_unsupported_and_non_aws_types() -> None:
    assert price(res("aws_iam_role.r")).status is PricingStatus.FREE
    assert price(res("aws_ecs_task_definition.t")).status is PricingStatus.FREE
    assert price(res("random_id.x")).status is PricingStatus.FREE
    unsupported = price(res("aws_dynamodb_table.t"))
    assert unsupported.status is PricingStatus.UNSUPPORTED and unsupported.reason
    unknown_type = price(res("aws_shiny_new_thing.t"))
    assert (
        unknown_type.status is PricingStatus.UNSUPPORTED and "no cost model" in unknown_type.reason
    )


def test_registry_is_consistent() -> None:
    assert not supported_types() & free_types()
    assert {"aws_ecs_service", "aws_db_instance", "aws_lb", "aws_alb"} <= supported_types()
    assert [k.name for k in usage_keys("aws_sqs_queue")] == ["monthly_requests", "request_size_kb"]
    assert usage_keys("aws_iam_role") == ()


def test_model_failure_never_raises() -> None:
    # A list where a number belongs: the model must report, not raise.
    db = res(
        "aws_db_instance.db",
        {"engine": "postgres", "instance_class": "db.t3.micro", "allocated_storage": [1]},
    )
    priced = price(db)
    assert priced.status is PricingStatus.UNKNOWN
    assert "allocated_storage" in priced.reason


def test_read_replica_inherits_engine_and_storage_from_its_source() -> None:
    primary = res(
        "aws_db_instance.primary",
        {"engine": "postgres", "instance_class": "db.t3.micro", "allocated_storage": 50},
    )
    replica = res(
        "aws_db_instance.replica",
        {"instance_class": "db.t3.micro", "replicate_source_db": UNKNOWN},
        refs={"replicate_source_db": ("aws_db_instance.primary",)},
    )
    priced = price(replica, [primary])
    assert priced.status is PricingStatus.PRICED
    storage = next(c for c in priced.components if c.name.startswith("Storage"))
    assert storage.monthly_quantity == 50
    assert cents(priced.monthly_cost) == cents(Decimal("0.018") * H + 50 * Decimal("0.115"))


def test_only_providers_with_tasks_get_lines() -> None:
    spot_only = [
        {"capacity_provider": "FARGATE", "base": 0, "weight": 0},
        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1},
    ]
    priced = price(
        service({"desired_count": 2, "capacity_provider_strategy": spot_only}), [task_def()]
    )
    assert [c.name for c in priced.components] == [
        "Fargate vCPU (Spot, x86_64)",
        "Fargate memory (Spot, x86_64)",
    ]
    idle = price(service({"desired_count": 0, "launch_type": "FARGATE"}), [task_def()])
    assert [c.monthly_quantity for c in idle.components] == [0, 0]
    assert idle.status is PricingStatus.PRICED and idle.monthly_cost == 0


@pytest.mark.parametrize(
    ("attrs", "region", "status"),
    [
        ({"vpc_endpoint_type": "Gateway"}, "us-east-1", PricingStatus.FREE),
        ({}, "us-east-1", PricingStatus.FREE),  # Terraform's default type is Gateway
        ({"vpc_endpoint_type": "Gateway"}, "ap-south-1", PricingStatus.FREE),  # any region
        ({"vpc_endpoint_type": "Interface"}, "us-east-1", PricingStatus.UNSUPPORTED),
        ({"vpc_endpoint_type": "GatewayLoadBalancer"}, "us-east-1", PricingStatus.UNSUPPORTED),
        ({"vpc_endpoint_type": UNKNOWN}, "us-east-1", PricingStatus.UNKNOWN),
    ],
)
def test_gateway_vpc_endpoints_are_free_interface_ones_are_not(
    attrs: dict[str, Any], region: str, status: PricingStatus
) -> None:
    priced = price(res("aws_vpc_endpoint.e", attrs, region=region))
    assert priced.status is status and priced.reason
    if status is PricingStatus.FREE:
        assert "no hourly or data charge" in priced.reason
    if status is PricingStatus.UNSUPPORTED:
        assert priced.reason.startswith(str(attrs["vpc_endpoint_type"]))
