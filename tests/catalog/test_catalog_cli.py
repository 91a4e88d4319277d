"""`leanstack catalog ...` through typer's CliRunner on a root app with only this group."""

from __future__ import annotations

import json
import socket
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from leanstack.catalog import embedded_catalog, load_catalog
from leanstack.cli.catalog import register

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pricing"


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()
    register(root)
    return root


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "lshome"
    monkeypatch.setenv("LEANSTACK_HOME", str(path))
    return path


def _run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_import_writes_default_local_catalog_used_by_show(app: typer.Typer, home: Path) -> None:
    code, out, err = _run(
        app,
        "catalog",
        "import",
        str(FIXTURES / "handmade" / "AmazonRDS-handmade.json"),
        str(FIXTURES / "samples" / "comprehend-ap-south-1-offer-excerpt-v20260116160258.csv"),
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("imported 5 prices (rds 5) from 2 sources; skipped 9 rows (")
    assert "comprehend: service not priced: 6" in lines[0]
    assert lines[1].startswith(f"wrote 5 rows to {home / 'catalog.csv'}")
    assert (home / "catalog.csv").is_file()

    code, out, err = _run(
        app,
        "catalog",
        "show",
        "--region",
        "eu-central-1",
        "--grep",
        "db.t4g.micro",
        "--format",
        "json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["catalog"]["layers"][-1] == str(home / "catalog.csv")
    imported = [p for p in doc["prices"] if p["layer"] == str(home / "catalog.csv")]
    assert len(imported) == 1
    assert imported[0]["price_usd"] == "0.037"
    assert imported[0]["source_date"] == "2026-09-25"
    assert imported[0]["notes"].startswith("imported: sku HMPGT4GMICROMAZ1;")
    assert imported[0]["explain"].startswith(
        "RDS for PostgreSQL on-demand instance (rds eu-central-1): 0.037 USD"
    )
    assert all("db.t4g.micro" in json.dumps(p) for p in doc["prices"])

    # --embedded-only ignores the local catalog
    code, out, _ = _run(
        app,
        "catalog",
        "show",
        "--region",
        "eu-central-1",
        "--grep",
        "db.t4g.micro",
        "--format",
        "json",
        "--embedded-only",
    )
    assert all(p["layer"] != str(home / "catalog.csv") for p in json.loads(out)["prices"])


def test_import_out_option_and_nothing_to_import(
    app: typer.Typer, home: Path, tmp_path: Path
) -> None:
    out_path = tmp_path / "mine.csv"
    code, out, err = _run(
        app,
        "catalog",
        "import",
        str(FIXTURES / "handmade" / "AmazonECS-handmade.json"),
        "--out",
        str(out_path),
    )
    assert code == 0, err
    assert out_path.is_file() and not (home / "catalog.csv").exists()
    # Only the default file is layered by every command (audit item 11).
    assert out.splitlines()[-1].endswith(
        f"(use it with --catalog {out_path}; only {home / 'catalog.csv'} is layered by every "
        "command)"
    )
    catalog = load_catalog([out_path])
    price = catalog.find("fargate", "eu-west-1", "Fargate-vCPU-Hours:perCPU", arch="x86_64")
    assert price is not None and catalog.layer_of(price) == str(out_path)

    code, out, err = _run(
        app,
        "catalog",
        "import",
        str(FIXTURES / "samples" / "AmazonElastiCache-offer-excerpt-v20250624130639.json"),
    )
    assert code == 1
    assert out.startswith("imported 0 prices")
    assert (
        err.strip()
        == "error: no prices leanstack uses were found in the given files; nothing written"
    )
    assert not (home / "catalog.csv").exists()


def test_import_bad_file_is_one_line(app: typer.Typer, home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{\n  "products": oops\n}\n')
    code, out, err = _run(app, "catalog", "import", str(bad))
    assert code == 2
    assert out == ""
    assert err.splitlines() == [f"error: {bad}:2: invalid JSON: Expecting value"]

    # one bad file among good ones: a warning, the rest imported
    code, out, err = _run(
        app, "catalog", "import", str(bad), str(FIXTURES / "handmade" / "AWSLambda-handmade.json")
    )
    assert code == 0
    assert err.splitlines() == [f"warning: {bad}:2: invalid JSON: Expecting value"]
    assert out.startswith("imported 4 prices (lambda 4)")


def test_info(app: typer.Typer, home: Path) -> None:
    code, out, err = _run(app, "catalog", "info")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "catalog date: 2026-11-26"
    assert lines[1] == f"source: {embedded_catalog().source}"
    assert lines[2].startswith("embedded: aws-prices.csv, 2302 rows, sha256 ")
    assert lines[2].endswith("verified")
    assert "rows: 2302" in lines
    rds = next(line for line in lines if line.startswith("rds "))
    expected_rds = sum(1 for p in embedded_catalog().prices() if p.service == "rds")
    assert rds.split()[-1] == str(expected_rds)
    derived = sum(1 for p in embedded_catalog().prices() if p.basis)
    assert f"derived rows (not a published list price): {derived}" in lines
    basis_lines = {
        line.strip().split(":")[0]: int(line.split(":")[1])
        for line in lines
        if line.startswith("  ")
    }
    assert basis_lines["derived_2x_single_az"] == sum(
        1 for p in embedded_catalog().prices() if p.basis == "derived_2x_single_az"
    )
    assert sum(basis_lines.values()) == derived


def test_show_table(app: typer.Typer, home: Path) -> None:
    code, out, err = _run(app, "catalog", "show", "--service", "sqs", "--region", "us-east-1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "catalog: embedded 2026-11-26"
    assert lines[1].split() == [
        "service",
        "/",
        "region",
        "product",
        "/",
        "usage_type",
        "/",
        "attributes",
        "price_usd",
        "unit",
        "date",
        "src",
    ]
    expected = [
        p for p in embedded_catalog().prices() if p.service == "sqs" and p.region == "us-east-1"
    ]
    # One block per price: its first line starts with the service.
    assert sum(1 for line in lines if line.startswith("sqs ")) == len(expected)
    assert lines[-1] == f"{len(expected)} prices"
    usage = next(x for x in lines if x.split()[-1:] == ["Requests-Tier1"])
    tier1 = lines[lines.index(usage) - 1]
    assert " 0.4 " in tier1 and "1M requests" in tier1
    # Every source is printed once in the legend the [n] cells point to.
    # (legend lines wrap at 100 columns, inside long words too)
    flat = "".join(out.split())
    for source in {p.source for p in expected}:
        assert "".join(source.split()) in flat

    code, out, _ = _run(app, "catalog", "show", "--grep", "no-such-thing-anywhere")
    assert code == 0 and out.strip() == "no prices match (catalog embedded 2026-11-26)"


def test_show_fits_100_columns(app: typer.Typer, home: Path) -> None:
    # Audit UX item: `catalog show` was over 250 columns wide.
    code, out, err = _run(app, "catalog", "show")
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 100
    assert out.splitlines()[-1] == f"{len(embedded_catalog())} prices"


def test_show_unknown_service_or_region_is_2(app: typer.Typer, home: Path) -> None:
    # Audit item 19: `catalog show --service nosuch` silently printed nothing and exited 0.
    code, out, err = _run(app, "catalog", "show", "--service", "nosuch")
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith("error: --service 'nosuch': unknown service (known: ")
    assert "fargate" in line and "rds" in line
    code, out, err = _run(app, "catalog", "show", "--region", "mars-1")
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert "--region 'mars-1'" in line and "us-east-1" in line


def test_local_layer_keeps_the_embedded_date(app: typer.Typer, home: Path) -> None:
    # Audit item 11: one 2019 row re-dated the whole catalog to 2017-03-01.
    code, _, err = _run(
        app, "catalog", "import", str(FIXTURES / "handmade" / "AmazonRDS-handmade.json")
    )
    assert code == 0, err
    catalog = load_catalog([home / "catalog.csv"])
    assert catalog.date == embedded_catalog().date
    [embedded, local] = catalog.layer_details
    assert embedded.embedded and embedded.date == embedded_catalog().date
    assert not local.embedded and local.source == str(home / "catalog.csv")
    dates = sorted({p.source_date for p in catalog.prices() if catalog.layer_of(p) == local.source})
    assert (local.first, local.last) == (dates[0], dates[-1])
    assert catalog.describe().startswith(f"embedded {embedded_catalog().date} + local {home}")
    assert local.describe() in catalog.source

    code, out, err = _run(app, "catalog", "show", "--service", "rds", "--format", "json")
    doc = json.loads(out)["catalog"]
    assert doc["date"] == embedded_catalog().date
    assert [d["embedded"] for d in doc["layer_details"]] == [True, False]
    assert doc["layer_details"][1]["last_source_date"] == dates[-1]
    code, out, err = _run(app, "catalog", "info")
    assert out.splitlines()[0] == f"catalog date: {embedded_catalog().date}"
    assert f"local catalog: {local.describe().removeprefix('local ')}" in out.splitlines()


def _no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


def test_fetch_without_credentials(
    app: typer.Typer, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_aws(monkeypatch, tmp_path)
    code, out, err = _run(app, "catalog", "fetch", "--service", "rds", "--region", "us-east-1")
    assert code == 2
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith(
        "error: get_products AmazonRDS: AWS Pricing API: no AWS credentials found"
    )
    assert not (home / "catalog.csv").exists()


def test_fetch_unknown_profile_and_service(
    app: typer.Typer, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_aws(monkeypatch, tmp_path)
    code, _, err = _run(app, "catalog", "fetch", "--profile", "nosuch")
    assert code == 2
    assert err.splitlines() == [
        "error: AWS Pricing API: The config profile (nosuch) could not be found"
    ]
    code, _, err = _run(app, "catalog", "fetch", "--service", "ec2")
    assert code == 2
    assert err.splitlines()[0].startswith("error: unknown service ec2 (known: alb, apigateway,")


def test_fetch_unreachable_endpoint(
    app: typer.Typer, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_aws(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _out, err = _run(
        app,
        "catalog",
        "fetch",
        "--service",
        "sqs",
        "--region",
        "us-east-1",
        "--endpoint-url",
        f"http://127.0.0.1:{port}",
    )
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(
        "error: get_products AWSQueueService: AWS Pricing API: cannot reach the endpoint"
    )


def test_imported_price_is_what_lookups_return(app: typer.Typer, home: Path) -> None:
    before = load_catalog().find("sqs", "us-east-2", queue_type="fifo", tier="2")
    assert before is not None
    code, _, err = _run(
        app,
        "catalog",
        "import",
        str(FIXTURES / "handmade" / "AWSQueueService-us-east-2-handmade.csv"),
    )
    assert code == 0
    assert err.startswith("warning: ") and ":14: unreadable PricePerUnit" in err
    from leanstack.catalog import default_local_catalogs

    after = load_catalog(default_local_catalogs()).find(
        "sqs", "us-east-2", queue_type="fifo", tier="2"
    )
    assert after is not None
    assert after.price == Decimal("0.4") == before.price
    assert after.source.startswith(
        "AWSQueueService-us-east-2-handmade.csv (AWSQueueService, version 20250828100000"
    )
    assert after.source != before.source


def test_show_and_info_take_catalog_option(app: typer.Typer, home: Path, tmp_path: Path) -> None:
    # `import --out X` points to `--catalog X`; show and info take it too.
    out_path = tmp_path / "mine.csv"
    code, _, err = _run(
        app,
        "catalog",
        "import",
        str(FIXTURES / "handmade" / "AmazonECS-handmade.json"),
        "--out",
        str(out_path),
    )
    assert code == 0, err
    code, out, err = _run(
        app,
        "catalog",
        "show",
        "--catalog",
        str(out_path),
        "--service",
        "fargate",
        "--format",
        "json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["catalog"]["layers"][-1] == str(out_path)
    assert any(p["layer"] == str(out_path) for p in doc["prices"])
    code, out, _ = _run(app, "catalog", "info", "--catalog", str(out_path))
    assert code == 0 and any(
        line.startswith(f"local catalog: {out_path} (") for line in out.splitlines()
    )
    notcsv = tmp_path / "notes.csv"
    notcsv.write_text("hello,world\n1,2\n")
    code, out, err = _run(app, "catalog", "show", "--catalog", str(notcsv))
    assert code == 2 and out == ""
    assert err.startswith(f"error: {notcsv}:1: not a price catalog CSV")
    code, _, err = _run(app, "catalog", "info", "--catalog", str(tmp_path / "nope.csv"))
    assert code == 2 and "no such file" in err
