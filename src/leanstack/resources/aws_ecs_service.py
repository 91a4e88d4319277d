"""aws_ecs_service on Fargate: vCPU and memory hours per task, on-demand and Spot.

Unlike infracost, ARM64 task definitions get ARM prices, FARGATE_SPOT tasks get Spot prices
(observed rows, flagged as such), an autoscaling target turns the cost into a min..max range,
and ephemeral storage above the included 20 GB is charged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from leanstack.catalog import Catalog
from leanstack.model.money import quantize_money
from leanstack.model.pricing import Price, PricedResource, PriceQuery
from leanstack.model.resource import UNKNOWN, Resource
from leanstack.resources._common import (
    HOURS,
    Components,
    MissingValue,
    PriceNotFound,
    arch_of,
    block_value,
    need,
    of_type,
    plain,
    references,
    refs_of,
    same_value,
    soft,
    to_decimal,
    unknown,
    unsupported,
    usage_number,
)
from leanstack.resources._registry import PricingContext, UsageKey, cost_model

INCLUDED_EPHEMERAL_GB = Decimal(20)
ON_DEMAND = "on-demand"
SPOT = "spot"


def parse_cpu_units(value: Any, where: str) -> int:
    """Task CPU in units (1024 = 1 vCPU) from `512`, `"512"`, `"1 vCPU"` or `"0.5 vcpu"`."""
    if value is UNKNOWN:
        raise MissingValue(where)
    text = str(value).strip().lower()
    match = re.fullmatch(r"([0-9.]+)\s*(vcpus?|cpus?)?", text)
    if not match:
        raise MissingValue(where, f"is not a CPU size ({value!r})")
    amount = Decimal(match.group(1))
    return int(amount * 1024) if match.group(2) else int(amount)


def parse_memory_mib(value: Any, where: str) -> int:
    """Task memory in MiB from `1024`, `"1024"`, `"2 GB"` or `"512 MiB"`."""
    if value is UNKNOWN:
        raise MissingValue(where)
    text = str(value).strip().lower()
    match = re.fullmatch(r"([0-9.]+)\s*(gb|gib|mb|mib)?", text)
    if not match:
        raise MissingValue(where, f"is not a memory size ({value!r})")
    amount = Decimal(match.group(1))
    unit = match.group(2) or "mib"
    return int(amount * 1024) if unit.startswith("g") else int(amount)


def fargate_task_rate(catalog: Catalog, query: PriceQuery, unit: str) -> Price | None:
    """The Fargate vCPU-hour or GB-hour row for a task query.

    The ephemeral-storage row (`included_gb`) is also billed per GB-hour and matches any
    architecture, so it is skipped here: it is never the price of task memory.
    """
    for price in catalog.matches(query):
        if price.unit == unit and "included_gb" not in price.attributes:
            return price
    return None


def _fargate_price(catalog: Catalog, query: PriceQuery, unit: str) -> Decimal | None:
    price = fargate_task_rate(catalog, query, unit)
    return price.price if price else None


def fargate_hourly(
    catalog: Catalog,
    region: str,
    cpu_units: int,
    memory_mib: int,
    arch: str = "x86_64",
    capacity: str = "on-demand",
) -> Decimal:
    """Hourly price of one Fargate task of that size (raises PriceNotFound when not in catalog)."""
    query = PriceQuery.of(
        "fargate", region, os="linux", arch=arch_of(arch, "arch"), capacity=capacity
    )
    vcpu = _fargate_price(catalog, query, "vCPU-hour")
    gb = _fargate_price(catalog, query, "GB-hour")
    if vcpu is None or gb is None:
        raise PriceNotFound(f"no price for Fargate {arch} {capacity} in {region}")
    return Decimal(cpu_units) / 1024 * vcpu + Decimal(memory_mib) / 1024 * gb


@dataclass(frozen=True, slots=True)
class StrategyItem:
    """One capacity provider with its base and weight."""

    provider: str
    base: int
    weight: int


def split_tasks(count: int, strategy: list[StrategyItem]) -> dict[str, int]:
    """Tasks per provider: bases first, then each next task to the provider with the smallest
    placed/weight ratio, ties to the one listed first (aws-semantics.md §4.4)."""
    placed = {item.provider: 0 for item in strategy}
    remaining = count
    for item in strategy:
        take = min(item.base, remaining)
        placed[item.provider] += take
        remaining -= take
    weighted = [item for item in strategy if item.weight > 0]
    if not weighted:
        # An all-zero strategy is rejected by AWS; keep the leftovers on the first provider.
        if strategy and remaining:
            placed[strategy[0].provider] += remaining
        return placed
    after_base = {item.provider: 0 for item in weighted}
    for _ in range(remaining):
        best = min(weighted, key=lambda i: Fraction(after_base[i.provider], i.weight))
        after_base[best.provider] += 1
        placed[best.provider] += 1
    return placed


def _strategy_from_blocks(blocks: list[dict[str, Any]], where: str) -> list[StrategyItem]:
    items: list[StrategyItem] = []
    for block in blocks:
        provider = block_value(block, "capacity_provider", where)
        base = to_decimal(block_value(block, "base", where)) or Decimal(0)
        weight = block_value(block, "weight", where)
        weight_value = to_decimal(weight)
        items.append(
            StrategyItem(
                str(provider), int(base), int(weight_value) if weight_value is not None else 0
            )
        )
    return items


def _task_size_from_containers(task: Resource) -> tuple[int | None, int | None]:
    raw = task.attrs.get("container_definitions")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None, None
    if not isinstance(raw, list):
        return None, None
    cpu = sum(int(to_decimal(c.get("cpu")) or 0) for c in raw if isinstance(c, dict))
    memory = sum(
        int(to_decimal(c.get("memory")) or to_decimal(c.get("memoryReservation")) or 0)
        for c in raw
        if isinstance(c, dict)
    )
    return cpu or None, memory or None


@dataclass(frozen=True, slots=True)
class _TaskSize:
    cpu_units: int
    memory_mib: int
    arch: str
    os: str
    ephemeral_gb: Decimal
    fargate_compatible: bool


def _task_size(task: Resource) -> _TaskSize:
    where = task.address
    # The task definition is another resource: name it in the reason, not just "cpu".
    if task.attrs.get("cpu") is UNKNOWN:
        raise MissingValue(f"{where}.cpu")
    if task.attrs.get("memory") is UNKNOWN:
        raise MissingValue(f"{where}.memory")
    cpu_value = need(task, "cpu")
    memory_value = need(task, "memory")
    container_cpu, container_memory = _task_size_from_containers(task)
    if cpu_value is None and container_cpu is None:
        raise MissingValue(f"{where}.cpu", "is not set")
    if memory_value is None and container_memory is None:
        raise MissingValue(f"{where}.memory", "is not set")
    cpu = parse_cpu_units(cpu_value, f"{where}.cpu") if cpu_value is not None else container_cpu
    memory = (
        parse_memory_mib(memory_value, f"{where}.memory")
        if memory_value is not None
        else container_memory
    )
    assert cpu is not None and memory is not None
    platform = task.block("runtime_platform")
    arch = arch_of(block_value(platform, "cpu_architecture", f"{where}.runtime_platform"), where)
    os_family = block_value(platform, "operating_system_family", f"{where}.runtime_platform")
    os = "windows" if str(os_family or "LINUX").upper().startswith("WINDOWS") else "linux"
    ephemeral = task.block("ephemeral_storage").get("size_in_gib")
    compat = soft(task, "requires_compatibilities", [])
    return _TaskSize(
        cpu_units=cpu,
        memory_mib=memory,
        arch=arch,
        os=os,
        ephemeral_gb=to_decimal(ephemeral) or INCLUDED_EPHEMERAL_GB,
        fargate_compatible=isinstance(compat, list) and "FARGATE" in compat,
    )


def _cluster_default_strategy(resource: Resource, ctx: PricingContext) -> list[StrategyItem]:
    clusters = refs_of(ctx, resource, "cluster", "aws_ecs_cluster")
    if not clusters:
        # `cluster = "name"` or an ARN the loader resolved to a string.
        name = resource.attrs.get("cluster")
        if isinstance(name, str):
            clusters = same_value(ctx, "aws_ecs_cluster", "name", name.split("/")[-1])
    for cluster in clusters:
        blocks = cluster.blocks("default_capacity_provider_strategy")
        if blocks:
            return _strategy_from_blocks(blocks, cluster.address)
        for providers in of_type(ctx, "aws_ecs_cluster_capacity_providers"):
            name = cluster.attrs.get("name")
            by_name = isinstance(name, str) and providers.attrs.get("cluster_name") == name
            if by_name or references(providers, cluster, ("cluster_name",)):
                blocks = providers.blocks("default_capacity_provider_strategy")
                if blocks:
                    return _strategy_from_blocks(blocks, providers.address)
    return []


def _autoscaling_range(resource: Resource, ctx: PricingContext) -> tuple[int, int] | None:
    service_name = resource.attrs.get("name")
    for target in of_type(ctx, "aws_appautoscaling_target"):
        namespace = target.attrs.get("service_namespace")
        if namespace not in ("ecs", None, UNKNOWN):
            continue
        resource_id = target.attrs.get("resource_id")
        by_ref = references(target, resource, ("resource_id",))
        by_name = (
            isinstance(resource_id, str)
            and isinstance(service_name, str)
            and resource_id.startswith("service/")
            and resource_id.split("/")[-1] == service_name
        )
        if not (by_ref or by_name):
            continue
        low = to_decimal(target.attrs.get("min_capacity"))
        high = to_decimal(target.attrs.get("max_capacity"))
        if low is None or high is None:
            return None
        return int(low), int(high)
    return None


def average_split(average: Decimal, strategy: list[StrategyItem]) -> dict[str, Decimal]:
    """Tasks per provider for a fractional average count (a recorded RunningTaskCount mean).

    Interpolates between the splits of the counts either side, which is exact when the
    service alternates between those two counts.
    """
    low = int(average)
    fraction = average - low
    below = split_tasks(low, strategy)
    above = split_tasks(low + 1, strategy)
    return {p: below[p] + fraction * (above[p] - below[p]) for p in below}


AVERAGE_TASKS = UsageKey(
    "average_task_count",
    "tasks running on average (from RunningTaskCount); replaces desired_count",
    "tasks",
)


@cost_model("aws_ecs_service", usage=(AVERAGE_TASKS,))
def price(resource: Resource, ctx: PricingContext) -> PricedResource:
    """Fargate vCPU, memory and ephemeral storage hours for the service's tasks."""
    launch_type = soft(resource, "launch_type")
    strategy = _strategy_from_blocks(
        resource.blocks("capacity_provider_strategy"),
        f"{resource.address}.capacity_provider_strategy",
    )
    tasks = refs_of(ctx, resource, "task_definition", "aws_ecs_task_definition")
    written = resource.attrs.get("task_definition")
    if not tasks and isinstance(written, str):
        # "family", "family:3" or a task definition ARN written out by hand.
        family = written.split("/")[-1].split(":")[0]
        tasks = same_value(ctx, "aws_ecs_task_definition", "family", family)
    if not tasks:
        if need(resource, "task_definition") is None:
            raise MissingValue("task_definition", "is not set")
        return unknown(
            resource,
            "task_definition does not reference an aws_ecs_task_definition in this stack; "
            "the task size is unknown",
        )
    task = tasks[0]
    size = _task_size(task)
    notes: list[str] = []
    if launch_type is not None:
        if str(launch_type).upper() != "FARGATE":
            return unsupported(
                resource,
                f"launch_type {launch_type}: tasks run on the cluster's EC2 instances, which are "
                "priced as instances, not by this service",
            )
        strategy = [StrategyItem("FARGATE", 0, 1)]
    elif not strategy:
        strategy = _cluster_default_strategy(resource, ctx)
        if strategy:
            notes.append("capacity provider strategy from the cluster default")
    if not strategy:
        if not size.fargate_compatible:
            return unsupported(
                resource,
                "no launch_type, capacity provider strategy or cluster default and the task "
                "definition does not require FARGATE: tasks run on EC2 instances",
            )
        strategy = [StrategyItem("FARGATE", 0, 1)]
        notes.append("no launch type given; Fargate assumed from requires_compatibilities")
    fargate_items = [i for i in strategy if i.provider in ("FARGATE", "FARGATE_SPOT")]
    if not fargate_items:
        return unsupported(
            resource,
            "capacity providers "
            + ", ".join(i.provider for i in strategy)
            + " are EC2 Auto Scaling groups, priced as instances",
        )

    scaling = _autoscaling_range(resource, ctx)
    desired_value = resource.attrs.get("desired_count")
    if desired_value is UNKNOWN:
        if scaling is None:
            raise MissingValue("desired_count")
        desired = scaling[0]
        notes.append("desired_count unknown; autoscaling minimum used")
    elif desired_value is None:
        desired = 1
        if scaling is None:
            notes.append("desired_count not set: 1 task assumed (Terraform's default is 0)")
    else:
        desired = int(to_decimal(desired_value) or 0)
    if scaling is not None:
        low, high = scaling
        clamped = min(max(desired, low), high)
        if clamped != desired:
            notes.append(f"desired_count {desired} clamped to the autoscaling range {low}..{high}")
        desired = clamped

    vcpu = Decimal(size.cpu_units) / 1024
    memory_gb = Decimal(size.memory_mib) / 1024
    split = split_tasks(desired, strategy)
    counts: dict[str, Decimal] = {p: Decimal(n) for p, n in split.items()}
    recorded = usage_number(ctx, AVERAGE_TASKS.name)
    if recorded is not None and recorded >= 0:
        # Autoscaling moves the count; what ran is what is billed.
        counts = average_split(recorded, strategy)
        recorded_note = f"{plain(recorded.quantize(Decimal('0.01')))} tasks on average (recorded)"
        notes.append(recorded_note)
    components = Components(resource, ctx)
    region = resource.region
    other = sum(n for p, n in split.items() if p not in ("FARGATE", "FARGATE_SPOT"))
    for provider, capacity, label in (
        ("FARGATE", ON_DEMAND, "on-demand"),
        ("FARGATE_SPOT", SPOT, "Spot"),
    ):
        if provider not in split:
            continue
        # A provider with no task gets no line, except to show a service scaled to zero.
        count = counts[provider]
        shown = count > 0 or (desired == 0 and provider == fargate_items[0].provider)
        if not shown:
            continue
        tasks_text = plain(count.quantize(Decimal("0.01")) if recorded is not None else count)
        query = PriceQuery.of("fargate", region, os=size.os, arch=size.arch, capacity=capacity)
        note = f"{tasks_text} task(s) x {plain(vcpu)} vCPU x 730 h"
        components.add(
            f"Fargate vCPU ({label}, {size.arch})",
            "vCPU-hours",
            count * vcpu * HOURS,
            query,
            what=f"Fargate {size.os} {size.arch} {label} vCPU",
            price_unit="vCPU-hour",
            note=note,
            usage_based=recorded is not None,
        )
        components.add(
            f"Fargate memory ({label}, {size.arch})",
            "GB-hours",
            count * memory_gb * HOURS,
            query,
            what=f"Fargate {size.os} {size.arch} {label} memory",
            price_unit="GB-hour",
            note=f"{tasks_text} task(s) x {plain(memory_gb)} GB x 730 h",
            usage_based=recorded is not None,
        )
    extra_storage = size.ephemeral_gb - INCLUDED_EPHEMERAL_GB
    fargate_tasks = counts.get("FARGATE", Decimal(0)) + counts.get("FARGATE_SPOT", Decimal(0))
    if extra_storage > 0:
        components.add(
            "Ephemeral storage above 20 GB",
            "GB-hours",
            Decimal(fargate_tasks) * extra_storage * HOURS,
            PriceQuery.of("fargate", region, usage_type="Fargate-EphemeralStorage-GB-Hours"),
            what="Fargate ephemeral storage",
            note=f"{plain(fargate_tasks)} task(s) x {plain(extra_storage)} GB x 730 h",
        )
    if other:
        notes.append(f"{other} task(s) on EC2 capacity providers are priced with the instances")

    hourly = _per_task_hourly(components, size)
    cost_min = cost_max = None
    details: dict[str, object] = {
        "task_definition": task.address,
        "cpu_units": size.cpu_units,
        "memory_mib": size.memory_mib,
        "arch": size.arch,
        "tasks": desired,
        "tasks_by_provider": split,
    }
    if hourly:
        labels = {"FARGATE": "on-demand", "FARGATE_SPOT": "Spot"}
        per_task = ", ".join(
            f"${quantize_money(price * HOURS):,.2f} {labels[provider]}"
            for provider, price in hourly.items()
            if counts.get(provider)
        )
        running = f"{desired} task(s)"
        if recorded is not None and recorded >= 0:
            running = f"{plain(recorded.quantize(Decimal('0.01')))} task(s) on average (recorded)"
            # The summary says it: the note would repeat it.
            notes.remove(recorded_note)
        details["summary"] = (
            f"{running} of {plain(vcpu)} vCPU / {plain(memory_gb)} GB {size.arch}; "
            f"per task-month: {per_task}"
        )
    if scaling is not None:
        details["tasks_min"], details["tasks_max"] = scaling
        if hourly is not None:
            cost_min = _cost_for(scaling[0], strategy, hourly, size)
            cost_max = _cost_for(scaling[1], strategy, hourly, size)
    return components.result(
        cost_min=cost_min, cost_max=cost_max, details=details, reason="; ".join(notes)
    )


def _per_task_hourly(components: Components, size: _TaskSize) -> dict[str, Decimal] | None:
    """Hourly price of one task per provider, from the components just priced."""
    prices: dict[str, Decimal] = {}
    vcpu = Decimal(size.cpu_units) / 1024
    memory_gb = Decimal(size.memory_mib) / 1024
    extra = max(size.ephemeral_gb - INCLUDED_EPHEMERAL_GB, Decimal(0))
    storage_price = Decimal(0)
    for component in components.items:
        if component.name.startswith("Ephemeral"):
            if component.unit_price is None:
                return None
            storage_price = component.unit_price * extra
    for provider, capacity in (("FARGATE", ON_DEMAND), ("FARGATE_SPOT", SPOT)):
        query = PriceQuery.of(
            "fargate", components.region, os=size.os, arch=size.arch, capacity=capacity
        )
        cpu_price = _fargate_price(components.ctx.catalog, query, "vCPU-hour")
        gb_price = _fargate_price(components.ctx.catalog, query, "GB-hour")
        if cpu_price is not None and gb_price is not None:
            prices[provider] = vcpu * cpu_price + memory_gb * gb_price + storage_price
    return prices


def _cost_for(
    count: int, strategy: list[StrategyItem], hourly: dict[str, Decimal], size: _TaskSize
) -> Decimal | None:
    total = Decimal(0)
    for provider, tasks in split_tasks(count, strategy).items():
        if tasks == 0 or provider not in ("FARGATE", "FARGATE_SPOT"):
            continue
        if provider not in hourly:
            return None
        total += hourly[provider] * tasks * HOURS
    return total
