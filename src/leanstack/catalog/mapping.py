"""Turn AWS Price List rates into catalog rows that follow aws-prices.csv's conventions.

Only On-Demand prices of the products leanstack prices become rows; everything else is a
skip with a short reason, counted by the importer. Matching is on exact usage types (after
the region prefix is removed) and exact attribute values: the format notes record real bugs
from substring matches (extended-support surcharges, sync-durability add-ons, Windows or
ECS-on-EC2 rows).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from leanstack.catalog.offers import NOT_ON_DEMAND, OfferRate
from leanstack.model.pricing import Price

# region code -> (long names used in `location`, usagetype billing prefix)
REGIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "us-east-1": (("US East (N. Virginia)",), "USE1"),
    "us-east-2": (("US East (Ohio)",), "USE2"),
    "us-west-1": (("US West (N. California)",), "USW1"),
    "us-west-2": (("US West (Oregon)",), "USW2"),
    "ca-central-1": (("Canada (Central)",), "CAN1"),
    "ca-west-1": (("Canada West (Calgary)",), "CAN2"),
    "eu-west-1": (("EU (Ireland)", "Europe (Ireland)"), "EU"),
    "eu-west-2": (("EU (London)", "Europe (London)"), "EUW2"),
    "eu-west-3": (("EU (Paris)", "Europe (Paris)"), "EUW3"),
    "eu-central-1": (("EU (Frankfurt)", "Europe (Frankfurt)"), "EUC1"),
    "eu-central-2": (("EU (Zurich)", "Europe (Zurich)"), "EUC2"),
    "eu-north-1": (("EU (Stockholm)", "Europe (Stockholm)"), "EUN1"),
    "eu-south-1": (("EU (Milan)", "Europe (Milan)"), "EUS1"),
    "eu-south-2": (("EU (Spain)", "Europe (Spain)"), "EUS2"),
    "ap-south-1": (("Asia Pacific (Mumbai)",), "APS3"),
    "ap-south-2": (("Asia Pacific (Hyderabad)",), "APS5"),
    "ap-southeast-1": (("Asia Pacific (Singapore)",), "APS1"),
    "ap-southeast-2": (("Asia Pacific (Sydney)",), "APS2"),
    "ap-southeast-3": (("Asia Pacific (Jakarta)",), "APS4"),
    "ap-southeast-4": (("Asia Pacific (Melbourne)",), "APS6"),
    "ap-northeast-1": (("Asia Pacific (Tokyo)",), "APN1"),
    "ap-northeast-2": (("Asia Pacific (Seoul)",), "APN2"),
    "ap-northeast-3": (("Asia Pacific (Osaka)", "Asia Pacific (Osaka-Local)"), "APN3"),
    "ap-east-1": (("Asia Pacific (Hong Kong)",), "APE1"),
    "sa-east-1": (("South America (Sao Paulo)", "South America (São Paulo)"), "SAE1"),
    "me-south-1": (("Middle East (Bahrain)",), "MES1"),
    "me-central-1": (("Middle East (UAE)",), "MEC1"),
    "af-south-1": (("Africa (Cape Town)",), "AFS1"),
    "il-central-1": (("Israel (Tel Aviv)",), "ILC1"),
}
_REGION_BY_LOCATION = {name: code for code, (names, _) in REGIONS.items() for name in names}
_GENERIC_PREFIX = re.compile(r"^[A-Z]{3}[0-9]-")

# Offer code -> leanstack service, for the offers some products of which we price.
OFFER_SERVICES: dict[str, tuple[str, ...]] = {
    "AmazonECS": ("fargate",),
    "AmazonRDS": ("rds",),
    "AmazonElastiCache": ("elasticache",),
    "AWSLambda": ("lambda",),
    "AWSQueueService": ("sqs",),
    "AmazonApiGateway": ("apigateway",),
    "AmazonCloudFront": ("cloudfront",),
    "AmazonCloudWatch": ("cloudwatch",),
    "AWSELB": ("alb",),
    "AmazonEC2": ("nat-gateway",),
    "AmazonVPC": ("nat-gateway",),
    "AWSDataTransfer": ("data-transfer",),
    "AWSSecretsManager": ("secretsmanager",),
    "AmazonECR": ("ecr",),
}


@dataclass(frozen=True, slots=True)
class Spec:
    """What one rate becomes: our service, product label, attributes, unit and scale.

    `family` is the kind of AWS unit expected (hour, month, second, gb, count); `scale`
    turns the AWS per-unit price into our unit (per request -> per 1M requests = 1e6).
    """

    service: str
    product: str
    attributes: dict[str, str]
    unit: str
    family: str
    scale: int = 1
    tiered: bool = False


@dataclass(frozen=True, slots=True)
class Skip:
    """Why a rate is not imported (grouped and counted in the import summary)."""

    reason: str


def region_of(rate: OfferRate) -> str | None:
    """The region code of a rate: `regionCode`, else the long `location` name."""
    for code_key, location_key in (("regioncode", "location"), ("fromregioncode", "fromlocation")):
        code = rate.attr[code_key]
        if code:
            return code
        location = rate.attr[location_key]
        if location:
            return _REGION_BY_LOCATION.get(location)
    return None


def strip_region_prefix(usage_type: str, region: str) -> str:
    """`USW2-Multi-AZUsage:db.m4.large` -> `Multi-AZUsage:db.m4.large` (prefix of that region)."""
    prefix = REGIONS.get(region, ((), ""))[1]
    if prefix and usage_type.startswith(prefix + "-"):
        return usage_type[len(prefix) + 1 :]
    match = _GENERIC_PREFIX.match(usage_type)
    return usage_type[match.end() :] if match else usage_type


@functools.lru_cache(maxsize=256)
def unit_family(aws_unit: str) -> str:
    """Classify an AWS unit string: hour, month, second, gb or count."""
    unit = re.sub(r"[^a-z]", "", aws_unit.lower())
    if unit in ("hrs", "hr", "hours", "hour") or unit.endswith(("hrs", "hours")):
        return "hour"
    if unit.endswith(("mo", "month", "months")):
        return "month"
    if "second" in unit:
        return "second"
    if unit in ("gb", "gigabytes", "gigabyte"):
        return "gb"
    return "count"


def arch_of(instance_type: str) -> str:
    """Graviton classes carry a `g` after the generation digit (db.t4g, cache.c7gn)."""
    match = re.match(r"^(?:db|cache)\.[a-z]+[0-9]+([a-z-]*)\.", instance_type)
    return "arm64" if match and "g" in match.group(1) else "x86_64"


def _on_demand(rate: OfferRate) -> bool:
    return rate.is_on_demand and rate.unit.lower() != "quantity"


# --- per-offer mappers: rate + region + usage type (prefix removed) -> Spec | Skip ---------------

_FARGATE = {
    "Fargate-vCPU-Hours:perCPU": ("x86_64", "vCPU", "vCPU-hour"),
    "Fargate-GB-Hours": ("x86_64", "memory", "GB-hour"),
    "Fargate-ARM-vCPU-Hours:perCPU": ("arm64", "vCPU", "vCPU-hour"),
    "Fargate-ARM-GB-Hours": ("arm64", "memory", "GB-hour"),
}


def _fargate(rate: OfferRate, usage: str) -> Spec | Skip:
    spot = usage.startswith("SpotUsage-")
    base = usage.removeprefix("SpotUsage-")
    if base == "Fargate-EphemeralStorage-GB-Hours" and not spot:
        attrs = {"os": "linux", "arch": "any", "included_gb": "20"}
        return Spec("fargate", "Fargate ephemeral storage above 20 GB", attrs, "GB-hour", "hour")
    if base not in _FARGATE:
        return Skip("AmazonECS: not a Linux Fargate usage type")
    arch, what, unit = _FARGATE[base]
    label = "x86_64" if arch == "x86_64" else "ARM64"
    product = f"Fargate {'Spot ' if spot else ''}Linux {label} {what}"
    attrs = {"os": "linux", "arch": arch, "capacity": "spot" if spot else "on-demand"}
    return Spec("fargate", product, attrs, unit, "hour")


_RDS_ENGINES = {
    "postgresql": ("postgresql", "RDS for PostgreSQL"),
    "mysql": ("mysql", "RDS for MySQL"),
    "mariadb": ("mariadb", "RDS for MariaDB"),
    "aurorapostgresql": ("aurora-postgresql", "Aurora PostgreSQL"),
    "auroramysql": ("aurora-mysql", "Aurora MySQL"),
}
_ORACLE_EDITIONS = {
    "standardtwo": "se2",
    "standardone": "se1",
    "standard": "se",
    "enterprise": "ee",
}
_SQLSERVER_EDITIONS = {"express": "ex", "web": "web", "standard": "se", "enterprise": "ee"}


def rds_engine(rate: OfferRate) -> tuple[str, str] | None:
    """(engine as the RDS API names it, display name), or None when not one we name."""
    engine = re.sub(r"[^a-z]", "", rate.attr["databaseengine"].lower())
    edition = re.sub(r"[^a-z]", "", rate.attr["databaseedition"].lower())
    if engine in _RDS_ENGINES:
        return _RDS_ENGINES[engine]
    if engine == "oracle" and edition in _ORACLE_EDITIONS:
        return (
            f"oracle-{_ORACLE_EDITIONS[edition]}",
            f"RDS for Oracle {rate.attr['databaseedition']}",
        )
    if engine == "sqlserver" and edition in _SQLSERVER_EDITIONS:
        return (
            f"sqlserver-{_SQLSERVER_EDITIONS[edition]}",
            f"RDS for SQL Server {rate.attr['databaseedition']}",
        )
    if engine in ("", "any"):
        return "any", "RDS"
    return None


def _deployment(rate: OfferRate) -> str | None:
    return {"single-az": "single-az", "multi-az": "multi-az"}.get(
        rate.attr["deploymentoption"].lower() or "single-az"
    )


_RDS_INSTANCE_USAGE = re.compile(
    r"^(InstanceUsage|Multi-AZUsage|InstanceUsageIOOptimized|Multi-AZUsageIOOptimized):db\."
)
_VOLUMES = {
    "generalpurpose": "gp2",
    "generalpurposegp3": "gp3",
    "provisionediops": "io1",
    "provisionediopsio2": "io2",
    "magnetic": "magnetic",
}


def _rds(rate: OfferRate, usage: str) -> Spec | Skip:
    family = rate.product_family
    engine = rds_engine(rate)
    if family == "Database Instance":
        return _rds_instance(rate, usage, engine)
    if engine is None:
        return Skip(f"AmazonRDS: engine {rate.attr['databaseengine']!r} not priced")
    deployment = _deployment(rate)
    if deployment is None:
        return Skip("AmazonRDS: deployment option not priced")
    name = engine[0]
    if usage.startswith("Aurora:"):
        config = "aurora-io-optimized" if "IO-Optimized" in usage else "aurora-standard"
        if usage.endswith("StorageUsage"):
            attrs = {"engine": name, "storage_config": config}
            return Spec("rds", f"Aurora storage ({config})", attrs, "GB-month", "month")
        if usage == "Aurora:BackupUsage":
            attrs = {"engine": name}
            return Spec(
                "rds", "Aurora backup storage beyond free allocation", attrs, "GB-month", "month"
            )
        return Skip("AmazonRDS: Aurora usage type not priced")
    if family == "Database Storage":
        volume = _VOLUMES.get(re.sub(r"[^a-z0-9]", "", rate.attr["volumetype"].lower()))
        if volume is None or "Storage" not in usage:
            return Skip("AmazonRDS: storage type not priced")
        attrs = {"engine": name, "volume": volume, "deployment": deployment}
        return Spec("rds", f"RDS storage {volume}", attrs, "GB-month", "month")
    if family == "Provisioned IOPS" or usage.endswith("PIOPS"):
        volume = "gp3" if "GP3" in usage else "io2" if "IO2" in usage else "io1"
        attrs = {"engine": name, "volume": volume, "deployment": deployment}
        return Spec("rds", f"RDS {volume} provisioned IOPS", attrs, "IOPS-month", "month")
    if "Throughput" in usage:
        attrs = {"engine": name, "volume": "gp3", "deployment": deployment}
        return Spec("rds", "RDS gp3 throughput above baseline", attrs, "MBps-month", "month")
    if usage == "RDS:ChargedBackupUsage":
        return Spec(
            "rds",
            "RDS backup storage beyond free allocation",
            {"engine": name},
            "GB-month",
            "month",
        )
    if usage.startswith("CPUCredits:"):
        attrs = {"engine": name, "instance_family": usage.split(":", 1)[1]}
        return Spec("rds", "RDS CPU credits (T-class unlimited mode)", attrs, "vCPU-hour", "hour")
    return Skip(f"AmazonRDS: {family or 'product'} not priced")


def _rds_instance(rate: OfferRate, usage: str, engine: tuple[str, str] | None) -> Spec | Skip:
    if not _RDS_INSTANCE_USAGE.match(usage):
        return Skip("AmazonRDS: instance surcharge or other usage type")
    if engine is None or engine[0] == "any":
        return Skip(f"AmazonRDS: engine {rate.attr['databaseengine']!r} not priced")
    deployment = _deployment(rate)
    if deployment is None:
        return Skip("AmazonRDS: deployment option not priced")
    instance_type = rate.attr["instancetype"]
    license_model = rate.attr["licensemodel"].lower()
    attrs = {
        "engine": engine[0],
        "instance_type": instance_type,
        "deployment": deployment,
        "arch": arch_of(instance_type),
        "license": "byol" if "bring your own" in license_model else "included",
    }
    product = f"{engine[1]} on-demand instance"
    if engine[0].startswith("aurora-"):
        io_optimized = "IOOptimized" in usage
        attrs["storage_config"] = "aurora-io-optimized" if io_optimized else "aurora-standard"
        if io_optimized:
            product = f"{engine[1]} I/O-Optimized on-demand instance"
    return Spec("rds", product, attrs, "instance-hour", "hour")


_CACHE_ENGINES = {
    "redis": ("redis", "Redis OSS"),
    "valkey": ("valkey", "Valkey"),
    "memcached": ("memcached", "Memcached"),
}


def _elasticache(rate: OfferRate, usage: str) -> Spec | Skip:
    if re.fullmatch(r"NodeUsage:cache\.[a-z0-9.-]+", usage):
        engine = _CACHE_ENGINES.get(rate.attr["cacheengine"].lower())
        if engine is None:
            return Skip("AmazonElastiCache: engine not priced")
        instance_type = rate.attr["instancetype"] or usage.split(":", 1)[1]
        attrs = {
            "engine": engine[0],
            "instance_type": instance_type,
            "arch": arch_of(instance_type),
        }
        return Spec(
            "elasticache", f"ElastiCache node ({engine[1]}) on-demand", attrs, "node-hour", "hour"
        )
    serverless = re.fullmatch(r"(CachedData|ElastiCacheProcessingUnits):([A-Za-z]+)", usage)
    if serverless:
        engine = _CACHE_ENGINES.get(serverless.group(2).lower())
        if engine is None:
            return Skip("AmazonElastiCache: engine not priced")
        attrs = {"engine": engine[0], "deployment": "serverless"}
        if serverless.group(1) == "CachedData":
            return Spec(
                "elasticache",
                f"ElastiCache Serverless data stored ({engine[1]})",
                attrs,
                "GB-hour",
                "hour",
            )
        return Spec(
            "elasticache",
            f"ElastiCache Serverless ECPU ({engine[1]})",
            attrs,
            "1M ECPU",
            "count",
            scale=1_000_000,
        )
    if usage == "BackupUsage":
        engine_attr = rate.attr["cacheengine"].lower() or "redis|valkey"
        return Spec(
            "elasticache",
            "ElastiCache backup storage",
            {"engine": engine_attr},
            "GB-month",
            "month",
        )
    return Skip("AmazonElastiCache: surcharge or other usage type")


_LAMBDA_GROUPS = {
    "AWS-Lambda-Duration": ("Lambda duration", "GB-second", "second", 1, True),
    "AWS-Lambda-Requests": ("Lambda requests", "1M requests", "count", 1_000_000, False),
    "AWS-Lambda-Storage-Duration": (
        "Lambda ephemeral storage above 512 MB",
        "GB-second",
        "second",
        1,
        False,
    ),
    "AWS-Lambda-Provisioned-Concurrency": (
        "Lambda provisioned concurrency",
        "GB-second",
        "second",
        1,
        False,
    ),
    "AWS-Lambda-Duration-Provisioned": (
        "Lambda duration while provisioned",
        "GB-second",
        "second",
        1,
        False,
    ),
}


def _lambda(rate: OfferRate, usage: str) -> Spec | Skip:
    group = rate.attr["group"]
    arm = group.endswith("-ARM")
    base = group.removesuffix("-ARM")
    if base not in _LAMBDA_GROUPS or "Edge" in usage:
        return Skip("AWSLambda: group not priced")
    label, unit, family, scale, tiered = _LAMBDA_GROUPS[base]
    arch = "arm64" if arm else "x86_64"
    attrs = {"arch": arch, "group": group}
    if base == "AWS-Lambda-Storage-Duration":
        attrs["included_mb"] = "512"
    return Spec("lambda", f"{label} {arch}", attrs, unit, family, scale=scale, tiered=tiered)


def _sqs(rate: OfferRate, usage: str) -> Spec | Skip:
    queue_type = rate.attr["queuetype"].lower()
    if queue_type not in ("standard", "fifo") or not usage.startswith("Requests"):
        return Skip("AWSQueueService: product not priced")
    label = "Standard" if queue_type == "standard" else "FIFO"
    return Spec(
        "sqs",
        f"SQS {label} requests",
        {"queue_type": queue_type},
        "1M requests",
        "count",
        scale=1_000_000,
        tiered=True,
    )


def _apigateway(rate: OfferRate, usage: str) -> Spec | Skip:
    kinds = {"ApiGatewayHttpRequest": ("http", "HTTP"), "ApiGatewayRequest": ("rest", "REST")}
    if usage not in kinds:
        return Skip("AmazonApiGateway: product not priced")
    api_type, label = kinds[usage]
    return Spec(
        "apigateway",
        f"API Gateway {label} API requests",
        {"api_type": api_type},
        "1M requests",
        "count",
        scale=1_000_000,
        tiered=True,
    )


_EDGES = {"US": "us-mexico-canada", "EU": "europe-israel"}


def _cloudfront(rate: OfferRate, usage: str) -> Spec | Skip:
    match = re.fullmatch(
        r"(US|EU)-(DataTransfer-Out-Bytes|Requests-Tier1|Requests-Tier2-HTTPS)", usage
    )
    if not match:
        return Skip("AmazonCloudFront: edge region or product not priced")
    attrs = {"edge_region": _EDGES[match.group(1)]}
    what = match.group(2)
    if what == "DataTransfer-Out-Bytes":
        return Spec(
            "cloudfront", "CloudFront data transfer out to internet", attrs, "GB", "gb", tiered=True
        )
    label = "HTTP" if what == "Requests-Tier1" else "HTTPS"
    return Spec(
        "cloudfront", f"CloudFront {label} requests", attrs, "10k requests", "count", scale=10_000
    )


def _cloudwatch(rate: OfferRate, usage: str) -> Spec | Skip:
    table: dict[str, Spec] = {
        "CW:AlarmMonitorUsage": Spec(
            "cloudwatch",
            "CloudWatch standard-resolution alarm",
            {"alarm_type": "standard"},
            "alarm-metric-month",
            "count",
        ),
        "CW:HighResAlarmMonitorUsage": Spec(
            "cloudwatch",
            "CloudWatch high-resolution alarm",
            {"alarm_type": "high-resolution"},
            "alarm-metric-month",
            "count",
        ),
        "CW:MetricMonitorUsage": Spec(
            "cloudwatch",
            "CloudWatch custom/detailed metric",
            {},
            "metric-month",
            "count",
            tiered=True,
        ),
        "DataProcessing-Bytes": Spec(
            "cloudwatch",
            "CloudWatch Logs ingestion (standard class)",
            {"log_class": "standard"},
            "GB",
            "gb",
        ),
        "TimedStorage-ByteHrs": Spec(
            "cloudwatch",
            "CloudWatch Logs storage (archival)",
            {"log_class": "standard"},
            "GB-month",
            "month",
        ),
        "DataScanned-Bytes": Spec(
            "cloudwatch", "CloudWatch Logs Insights data scanned", {}, "GB", "gb"
        ),
    }
    return table.get(usage) or Skip("AmazonCloudWatch: product not priced")


def _elb(rate: OfferRate, usage: str) -> Spec | Skip:
    if rate.product_family != "Load Balancer-Application":
        return Skip("AWSELB: load balancer type not priced")
    attrs = {"lb_type": "application"}
    if usage == "LoadBalancerUsage":
        return Spec("alb", "Application Load Balancer hour", attrs, "hour", "hour")
    if usage == "LCUUsage":
        return Spec("alb", "Application Load Balancer LCU", attrs, "LCU-hour", "hour")
    return Skip("AWSELB: usage type not priced")


def _nat(rate: OfferRate, usage: str) -> Spec | Skip:
    if usage == "NatGateway-Hours":
        return Spec("nat-gateway", "NAT gateway hour", {}, "hour", "hour")
    if usage == "NatGateway-Bytes":
        return Spec("nat-gateway", "NAT gateway data processed", {}, "GB", "gb")
    return Skip(f"{rate.offer_code}: product not priced")


def _data_transfer(rate: OfferRate, usage: str) -> Spec | Skip:
    if usage != "DataTransfer-Out-Bytes":
        return Skip("AWSDataTransfer: transfer type not priced")
    return Spec("data-transfer", "Data transfer out to internet", {}, "GB", "gb", tiered=True)


def _secrets(rate: OfferRate, usage: str) -> Spec | Skip:
    if usage == "AWSSecretsManager-Secrets":
        return Spec("secretsmanager", "Secrets Manager secret", {}, "secret-month", "count")
    if usage == "AWSSecretsManager-APIRequest":
        return Spec(
            "secretsmanager", "Secrets Manager API calls", {}, "10k requests", "count", scale=10_000
        )
    return Skip("AWSSecretsManager: product not priced")


def _ecr(rate: OfferRate, usage: str) -> Spec | Skip:
    if usage == "TimedStorage-ByteHrs":
        return Spec("ecr", "ECR storage", {}, "GB-month", "month")
    return Skip("AmazonECR: product not priced")


_MAPPERS: dict[str, Callable[[OfferRate, str], Spec | Skip]] = {
    "AmazonECS": _fargate,
    "AmazonRDS": _rds,
    "AmazonElastiCache": _elasticache,
    "AWSLambda": _lambda,
    "AWSQueueService": _sqs,
    "AmazonApiGateway": _apigateway,
    "AmazonCloudFront": _cloudfront,
    "AmazonCloudWatch": _cloudwatch,
    "AWSELB": _elb,
    "AmazonEC2": _nat,
    "AmazonVPC": _nat,
    "AWSDataTransfer": _data_transfer,
    "AWSSecretsManager": _secrets,
    "AmazonECR": _ecr,
}


def _short_number(value: Decimal) -> str:
    for factor, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k")):
        if value >= factor and value % factor == 0:
            return f"{value // factor}{suffix}"
    return format(value.normalize(), "f")


def _tier_attrs(rate: OfferRate) -> dict[str, str]:
    if not rate.tier:
        return {}
    low = _short_number(rate.begin_range)
    if rate.end_range is None:
        span = f">{low}/month"
    else:
        span = f"{low}-{_short_number(rate.end_range)}/month"
    return {"tier": rate.tier, "range": span}


def to_price(rate: OfferRate, *, source: str, source_date: str) -> Price | Skip:
    """The catalog row for one rate, or why it is skipped."""
    mapper = _MAPPERS.get(rate.offer_code)
    if mapper is None:
        return Skip(f"{rate.offer_code or 'unknown offer'}: service not priced")
    if not _on_demand(rate):
        return Skip(NOT_ON_DEMAND)
    region = "global" if rate.offer_code == "AmazonCloudFront" else region_of(rate)
    if region is None:
        return Skip(f"{rate.offer_code}: location {rate.attr['location']!r} not known")
    usage = strip_region_prefix(rate.attr["usagetype"], region)
    spec = mapper(rate, usage)
    if isinstance(spec, Skip):
        return spec
    if unit_family(rate.unit) != spec.family:
        return Skip(f"{rate.offer_code}: unexpected unit {rate.unit!r} for {usage}")
    attributes = dict(spec.attributes)
    tiers = _tier_attrs(rate)
    if tiers and not spec.tiered:
        return Skip(f"{rate.offer_code}: unexpected tiered price for {usage}")
    attributes.update(tiers)
    notes = f"imported: sku {rate.sku}; rate {rate.rate_code}; {rate.description}".strip("; ")
    return Price(
        service=spec.service,
        region=region,
        product=spec.product,
        attributes=attributes,
        usage_type=usage,
        unit=spec.unit,
        price=rate.price * spec.scale,
        source=source,
        source_date=source_date,
        notes=notes,
    )
