"""Fetch the recorded load of a stack from CloudWatch into the metric store.

Each Terraform resource maps to a CloudWatch namespace, dimensions and a fixed list of
metrics. Dimension values come from the Terraform values, or from describe calls when they
are unknown before apply (an ALB's `app/<name>/<id>`, a NAT gateway id...).

GetMetricData is called with at most 500 queries per call, one call per distinct time range,
paginated with NextToken. The period follows CloudWatch retention. Throttling is retried by
botocore (adaptive mode) and, past that, by our own backoff loop. A second fetch asks only
for the ranges the store lacks (`MetricStore.missing_ranges`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from leanstack.model import Issue, IssueCode, Resource, Severity
from leanstack.model.resource import is_known
from leanstack.usage.catalog import default_unit
from leanstack.usage.store import MetricStore, SeriesKey, UpsertSummary, to_epoch

MAX_QUERIES_PER_CALL = 500
_THROTTLE_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)

# (namespace, metric, statistics) per Terraform type. ALB LCU inputs (new/active connections,
# processed bytes) are fetched too: `estimate --metrics` prices LCUs from them.
_ECS = (
    ("AWS/ECS", "CPUUtilization", ("Average", "Maximum")),
    ("AWS/ECS", "MemoryUtilization", ("Average", "Maximum")),
    ("ECS/ContainerInsights", "CpuUtilized", ("Average",)),
    ("ECS/ContainerInsights", "MemoryUtilized", ("Average",)),
    ("ECS/ContainerInsights", "RunningTaskCount", ("Average",)),
)
_ALB = (
    ("AWS/ApplicationELB", "RequestCount", ("Sum",)),
    ("AWS/ApplicationELB", "TargetResponseTime", ("Average", "p50", "p95", "p99")),
    ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", ("Sum",)),
    ("AWS/ApplicationELB", "NewConnectionCount", ("Sum",)),
    ("AWS/ApplicationELB", "ActiveConnectionCount", ("Sum",)),
    ("AWS/ApplicationELB", "ProcessedBytes", ("Sum",)),
)
_RDS = (
    ("AWS/RDS", "CPUUtilization", ("Average", "Maximum")),
    ("AWS/RDS", "FreeableMemory", ("Average",)),
    ("AWS/RDS", "DatabaseConnections", ("Average",)),
    ("AWS/RDS", "CPUCreditBalance", ("Average",)),
    ("AWS/RDS", "FreeStorageSpace", ("Average",)),
    ("AWS/RDS", "ReadIOPS", ("Average",)),
    ("AWS/RDS", "WriteIOPS", ("Average",)),
)
_CACHE = (
    ("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", ("Average",)),
    ("AWS/ElastiCache", "BytesUsedForCache", ("Average",)),
    ("AWS/ElastiCache", "EngineCPUUtilization", ("Average",)),
    ("AWS/ElastiCache", "CurrConnections", ("Average",)),
)
_SQS = (
    ("AWS/SQS", "NumberOfMessagesSent", ("Sum",)),
    ("AWS/SQS", "NumberOfMessagesReceived", ("Sum",)),
    ("AWS/SQS", "NumberOfEmptyReceives", ("Sum",)),
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible", ("Average",)),
)
_LAMBDA = (
    ("AWS/Lambda", "Invocations", ("Sum",)),
    ("AWS/Lambda", "Duration", ("Average",)),
    ("AWS/Lambda", "ConcurrentExecutions", ("Maximum",)),
    ("AWS/Lambda", "Errors", ("Sum",)),
    ("AWS/Lambda", "Throttles", ("Sum",)),
)
_NAT = (("AWS/NATGateway", "BytesOutToDestination", ("Sum",)),)

METRIC_CATALOGUE: Mapping[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "aws_ecs_service": _ECS,
    "aws_lb": _ALB,
    "aws_alb": _ALB,
    "aws_db_instance": _RDS,
    "aws_elasticache_cluster": _CACHE,
    "aws_elasticache_replication_group": _CACHE,
    "aws_sqs_queue": _SQS,
    "aws_lambda_function": _LAMBDA,
    "aws_nat_gateway": _NAT,
}


class FetchError(Exception):
    """The fetch cannot run at all (credentials, endpoint); carries the one-line Issue."""

    def __init__(self, issue: Issue):
        super().__init__(issue.line())
        self.issue = issue


@dataclass(frozen=True, slots=True)
class FetchTarget:
    """One CloudWatch metric statistic of one resource."""

    resource: str
    namespace: str
    metric: str
    statistic: str
    dimensions: tuple[tuple[str, str], ...]

    @property
    def is_percentile(self) -> bool:
        """True for pNN statistics (moto and some accounts reject them)."""
        return self.statistic.startswith("p")


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSummary:
    """What a fetch did."""

    start: datetime
    end: datetime
    period_s: int
    targets: int
    queries: int
    calls: int
    retries: int
    points: int
    upsert: UpsertSummary | None
    issues: tuple[Issue, ...] = field(default=())


def period_for(start: datetime, now: datetime) -> int:
    """CloudWatch's finest period still retained for data as old as `start`."""
    age = now - start
    if age <= timedelta(days=15):
        return 60
    if age <= timedelta(days=63):
        return 300
    return 3600


def _issue(message: str, where: str = "", severity: Severity = Severity.WARNING) -> Issue:
    return Issue(code=IssueCode.METRICS_ERROR, message=message, where=where, severity=severity)


def _known_str(value: object) -> str | None:
    return str(value) if is_known(value) and value not in (None, "") else None


class Resolver:
    """Finds dimension values, from Terraform values first and describe calls second."""

    def __init__(self, client_factory: Callable[[str], Any]):
        self._client = client_factory
        self.issues: list[Issue] = []

    def _describe(self, service: str, call: Callable[[Any], Any], what: str, where: str) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call(self._client(service))
        except (ClientError, BotoCoreError) as exc:
            self.issues.append(_issue(f"cannot look up {what}: {exc}", where))
            return None

    def dimensions(
        self, res: Resource, by_address: Mapping[str, Resource]
    ) -> tuple[tuple[str, str], ...] | None:
        """Dimensions shared by every metric of the resource, None when unresolvable."""
        t = res.type
        if t == "aws_ecs_service":
            return self._ecs(res, by_address)
        if t in ("aws_lb", "aws_alb"):
            return self._alb(res)
        if t == "aws_db_instance":
            ident = _known_str(res.get("identifier")) or self._by_prefix(
                res, "identifier_prefix", "rds", self._rds_ids
            )
            return (("DBInstanceIdentifier", ident),) if ident else self._unknown(res, "identifier")
        if t == "aws_elasticache_cluster":
            cid = _known_str(res.get("cluster_id"))
            return (("CacheClusterId", cid),) if cid else self._unknown(res, "cluster_id")
        if t == "aws_elasticache_replication_group":
            return self._replication_group(res)
        if t == "aws_sqs_queue":
            name = _known_str(res.get("name")) or self._by_prefix(
                res, "name_prefix", "sqs", self._queue_names
            )
            if name and res.get("fifo_queue") is True and not name.endswith(".fifo"):
                name += ".fifo"
            return (("QueueName", name),) if name else self._unknown(res, "name")
        if t == "aws_lambda_function":
            fn = _known_str(res.get("function_name"))
            return (("FunctionName", fn),) if fn else self._unknown(res, "function_name")
        if t == "aws_nat_gateway":
            return self._nat(res)
        return None

    def _by_prefix(
        self, res: Resource, attr: str, service: str, lister: Callable[[Any, str], list[str]]
    ) -> str | None:
        """The one live name starting with the resource's `*_prefix`, None when ambiguous."""
        prefix = _known_str(res.get(attr))
        if not prefix:
            return None
        names = self._describe(
            service, lambda c: lister(c, prefix), f"{attr} {prefix}", res.address
        )
        matches = sorted(n for n in names or [] if n.startswith(prefix))
        if len(matches) > 1:
            self.issues.append(
                _issue(f"{len(matches)} live names start with {prefix!r}; using none", res.address)
            )
        return matches[0] if len(matches) == 1 else None

    @staticmethod
    def _rds_ids(client: Any, prefix: str) -> list[str]:
        pages = client.get_paginator("describe_db_instances").paginate()
        return [str(db["DBInstanceIdentifier"]) for page in pages for db in page["DBInstances"]]

    @staticmethod
    def _queue_names(client: Any, prefix: str) -> list[str]:
        urls = client.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
        return [str(u).rsplit("/", 1)[-1] for u in urls]

    def _unknown(self, res: Resource, attr: str) -> tuple[tuple[str, str], ...] | None:
        self.issues.append(
            _issue(f"{attr} is unknown before apply; no metrics fetched", res.address)
        )
        return None

    def _ecs(
        self, res: Resource, by_address: Mapping[str, Resource]
    ) -> tuple[tuple[str, str], ...] | None:
        service = _known_str(res.get("name"))
        if not service:
            return self._unknown(res, "name")
        cluster = _known_str(res.get("cluster"))
        if cluster is None:
            for addr in res.refs.get("cluster", ()):
                ref = by_address.get(addr)
                if ref is not None and ref.type == "aws_ecs_cluster":
                    cluster = _known_str(ref.get("name"))
        if cluster is None:
            cluster = self._find_ecs_cluster(service, res.address)
        if cluster is None:
            return self._unknown(res, "cluster")
        # `cluster` may be an ARN (arn:aws:ecs:region:acct:cluster/NAME).
        cluster = cluster.rsplit("/", 1)[-1] if cluster.startswith("arn:") else cluster
        return (("ClusterName", cluster), ("ServiceName", service))

    def _find_ecs_cluster(self, service: str, where: str) -> str | None:
        arns = self._describe(
            "ecs", lambda c: c.list_clusters().get("clusterArns", []), "ECS clusters", where
        )
        for arn in arns or []:

            def describe(c: Any, cluster: str = str(arn)) -> Any:
                return c.describe_services(cluster=cluster, services=[service])

            found = self._describe("ecs", describe, "ECS services", where)
            if found and found.get("services"):
                return str(arn)
        return None

    def _alb(self, res: Resource) -> tuple[tuple[str, str], ...] | None:
        suffix = _known_str(res.get("arn_suffix"))
        if suffix:
            return (("LoadBalancer", suffix),)
        name = _known_str(res.get("name"))
        if not name:
            return self._unknown(res, "name")
        found = self._describe(
            "elbv2",
            lambda c: c.describe_load_balancers(Names=[name]),
            f"load balancer {name}",
            res.address,
        )
        lbs = (found or {}).get("LoadBalancers", [])
        if not lbs:
            self.issues.append(_issue(f"load balancer {name} not found", res.address))
            return None
        arn = str(lbs[0]["LoadBalancerArn"])
        return (("LoadBalancer", arn.split(":loadbalancer/", 1)[-1]),)

    def _replication_group(self, res: Resource) -> tuple[tuple[str, str], ...] | None:
        rg = _known_str(res.get("replication_group_id"))
        if not rg:
            return self._unknown(res, "replication_group_id")
        found = self._describe(
            "elasticache",
            lambda c: c.describe_replication_groups(ReplicationGroupId=rg),
            f"replication group {rg}",
            res.address,
        )
        groups = (found or {}).get("ReplicationGroups", [])
        members = groups[0].get("MemberClusters", []) if groups else []
        # The first member is the primary at creation; its load is what the sizing needs.
        member = members[0] if members else f"{rg}-001"
        return (("CacheClusterId", str(member)),)

    def _nat(self, res: Resource) -> tuple[tuple[str, str], ...] | None:
        nat_id = _known_str(res.get("id"))
        if nat_id:
            return (("NatGatewayId", nat_id),)
        tags = res.get("tags") or {}
        name = tags.get("Name") if isinstance(tags, dict) else None
        if not _known_str(name):
            return self._unknown(res, "id (and no Name tag to find it by)")
        found = self._describe(
            "ec2",
            lambda c: c.describe_nat_gateways(Filters=[{"Name": "tag:Name", "Values": [name]}]),
            f"NAT gateway {name}",
            res.address,
        )
        gws = (found or {}).get("NatGateways", [])
        if not gws:
            self.issues.append(_issue(f"NAT gateway tagged Name={name} not found", res.address))
            return None
        return (("NatGatewayId", str(gws[0]["NatGatewayId"])),)


def plan_targets(
    resources: Sequence[Resource], resolver: Resolver
) -> tuple[list[FetchTarget], list[Issue]]:
    """Every (resource, metric, statistic) to fetch, with the issues met on the way."""
    by_address = {r.address: r for r in resources}
    targets: list[FetchTarget] = []
    for res in resources:
        specs = METRIC_CATALOGUE.get(res.type)
        if specs is None or res.mode != "managed":
            continue
        if res.type in ("aws_lb", "aws_alb") and str(
            res.get("load_balancer_type", "application")
        ) not in ("application", "None"):
            continue
        dims = resolver.dimensions(res, by_address)
        if dims is None:
            continue
        for namespace, metric, stats in specs:
            # Container Insights publishes per service with the same two dimensions.
            for stat in stats:
                targets.append(FetchTarget(res.address, namespace, metric, stat, dims))
    return targets, list(resolver.issues)


def _client_factory(
    session: Any, region: str | None, endpoint_url: str | None, max_attempts: int
) -> Callable[[str], Any]:
    from botocore.config import Config

    config = Config(
        retries={"mode": "adaptive", "total_max_attempts": max_attempts},
        connect_timeout=5,
        read_timeout=60,
    )
    cache: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in cache:
            cache[service] = session.client(
                service, region_name=region, endpoint_url=endpoint_url, config=config
            )
        return cache[service]

    return make


def _connection_issue(exc: BaseException, endpoint_url: str | None) -> Issue:
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        msg = (
            "no AWS credentials found (environment, --profile/AWS_PROFILE, shared credentials "
            "and config files, SSO, container or instance metadata)"
        )
    elif isinstance(exc, NoRegionError):
        msg = "no AWS region: pass --region or set AWS_DEFAULT_REGION"
    elif isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        msg = f"cannot reach the CloudWatch endpoint {endpoint_url or ''}: {exc}".replace("  ", " ")
    else:
        msg = f"CloudWatch request failed: {exc}"
    return _issue(msg, severity=Severity.ERROR)


def fetch_metrics(
    store: MetricStore,
    resources: Sequence[Resource],
    *,
    since: timedelta = timedelta(days=14),
    now: datetime | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = 6,
    session: Any = None,
    progress: Callable[[int, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchSummary:
    """Fetch the catalogue metrics of `resources` for the last `since` into `store`.

    Raises FetchError when nothing can be fetched (credentials, endpoint, region); per-metric
    problems (a statistic the endpoint rejects, a name unknown before apply) become issues.
    `progress(done, total)` is called after each GetMetricData page.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    now = (now or datetime.now(UTC)).astimezone(UTC)
    start_guess = now - since
    period = period_for(start_guess, now)
    end_s = to_epoch(now) // period * period
    start_s = to_epoch(start_guess) // period * period
    start, end = datetime.fromtimestamp(start_s, UTC), datetime.fromtimestamp(end_s, UTC)
    try:
        session = session or boto3.Session(profile_name=profile)
        if session.get_credentials() is None:
            raise FetchError(_connection_issue(NoCredentialsError(), None))
        region = region or session.region_name or "us-east-1"
    except BotoCoreError as exc:  # unknown profile and the like
        raise FetchError(_issue(str(exc), severity=Severity.ERROR)) from exc
    make = _client_factory(session, region, endpoint_url, max_attempts)
    targets, issues = plan_targets(resources, Resolver(make))

    # Group the missing ranges: one GetMetricData time range per group.
    groups: dict[tuple[int, int, bool], list[FetchTarget]] = {}
    for t in targets:
        key = SeriesKey(t.resource, t.metric, t.statistic, period)
        for gap_lo, gap_hi in store.missing_ranges(key, start, end):
            groups.setdefault((to_epoch(gap_lo), to_epoch(gap_hi), t.is_percentile), []).append(t)
    batches = [
        (lo, hi, chunk[i : i + MAX_QUERIES_PER_CALL])
        for (lo, hi, _), chunk in sorted(groups.items())
        for i in range(0, len(chunk), MAX_QUERIES_PER_CALL)
    ]
    total_queries = sum(len(b[2]) for b in batches)
    cols: dict[str, list[Any]] = {k: [] for k in ("resource", "metric", "statistic", "ts", "value")}
    covered: list[tuple[SeriesKey, int, int]] = []
    calls = retries = 0
    done = 0
    for lo, hi, batch in batches:
        queries = [
            {
                "Id": f"q{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": t.namespace,
                        "MetricName": t.metric,
                        "Dimensions": [{"Name": n, "Value": v} for n, v in t.dimensions],
                    },
                    "Period": period,
                    "Stat": t.statistic,
                },
                "ReturnData": True,
            }
            for i, t in enumerate(batch)
        ]
        token: str | None = None
        ok = True
        while True:
            kwargs: dict[str, Any] = {
                "MetricDataQueries": queries,
                "StartTime": datetime.fromtimestamp(lo, UTC),
                "EndTime": datetime.fromtimestamp(hi, UTC),
                "ScanBy": "TimestampAscending",
            }
            if token:
                kwargs["NextToken"] = token
            try:
                resp, extra = _call_with_backoff(make("cloudwatch"), kwargs, sleep)
            except ClientError as exc:
                if batch[0].is_percentile:
                    # Some endpoints (moto, some partitions) reject extended statistics:
                    # keep the rest of the fetch.
                    stats = sorted({t.statistic for t in batch})
                    issues.append(
                        _issue(
                            f"percentile statistics {', '.join(stats)} not available from this "
                            f"endpoint ({exc.response.get('Error', {}).get('Code', 'error')}); "
                            "fetched the other statistics"
                        )
                    )
                    ok = False
                    break
                raise FetchError(_connection_issue(exc, endpoint_url)) from exc
            except BotoCoreError as exc:
                raise FetchError(_connection_issue(exc, endpoint_url)) from exc
            calls += 1
            retries += extra + int(resp.get("ResponseMetadata", {}).get("RetryAttempts", 0))
            for result in resp.get("MetricDataResults", []):
                t = batch[int(str(result["Id"])[1:])]
                stamps = result.get("Timestamps", [])
                values = result.get("Values", [])
                cols["resource"] += [t.resource] * len(values)
                cols["metric"] += [t.metric] * len(values)
                cols["statistic"] += [t.statistic] * len(values)
                cols["ts"] += [to_epoch(s) for s in stamps]
                cols["value"] += [float(v) for v in values]
            for m in resp.get("Messages", []):
                issues.append(_issue(f"CloudWatch: {m.get('Code')}: {m.get('Value')}"))
            token = resp.get("NextToken")
            if progress is not None:
                progress(done + (len(batch) if not token else 0), total_queries)
            if not token:
                break
        done += len(batch)
        if ok:
            covered += [
                (SeriesKey(t.resource, t.metric, t.statistic, period), lo, hi) for t in batch
            ]
    n = len(cols["value"])
    table = pa.table(
        {
            "resource": pa.array(cols["resource"], pa.string()),
            "metric": pa.array(cols["metric"], pa.string()),
            "statistic": pa.array(cols["statistic"], pa.string()),
            "period_s": pa.array([period] * n, pa.int32()),
            "unit": pa.array([default_unit(m) for m in cols["metric"]], pa.string()),
            "ts": pa.array(cols["ts"], pa.int64()),
            "value": pa.array(cols["value"], pa.float64()),
        }
    )
    upsert = store.upsert(table, source="cloudwatch", covered=covered)
    if upsert.error is not None:
        issues.append(upsert.error)
    return FetchSummary(
        start=start,
        end=end,
        period_s=period,
        targets=len(targets),
        queries=total_queries,
        calls=calls,
        retries=retries,
        points=upsert.added + upsert.updated,
        upsert=upsert,
        issues=tuple(issues),
    )


def _call_with_backoff(
    client: Any, kwargs: dict[str, Any], sleep: Callable[[float], None], rounds: int = 4
) -> tuple[dict[str, Any], int]:
    """GetMetricData with our own backoff on top of botocore's when throttling persists."""
    from botocore.exceptions import ClientError

    extra = 0
    for attempt in range(rounds + 1):
        try:
            return client.get_metric_data(**kwargs), extra
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in _THROTTLE_CODES or attempt == rounds:
                raise
            extra += 1 + int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
            # Full jitter, capped: CloudWatch's limit is per account and region.
            sleep(random.uniform(0, min(20.0, 2.0**attempt)))
    raise AssertionError("unreachable")  # pragma: no cover
