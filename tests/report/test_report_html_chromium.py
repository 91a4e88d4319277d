"""The HTML report in real headless Chromium: it renders, its charts draw, no script errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_canonical import FIXTURE

from leanstack.report import load_report
from leanstack.report.render import render

pytestmark = pytest.mark.chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        # In CI the browser check is part of the contract: missing chromium fails, not skips.
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; ./scripts/test installs Debian's chromium")
        pytest.skip("chromium is not installed (./scripts/test installs Debian's chromium)")
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def _dump(tmp_path: Path, html: str) -> tuple[str, str]:
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    result = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr


def _body_attrs(dom: str) -> str:
    match = re.search(r"<body([^>]*)>", dom)
    assert match is not None, dom[:500]
    return match.group(1)


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]


@pytest.fixture(scope="module")
def html() -> str:
    return render(load_report(FIXTURE), "html")


def test_page_renders_charts_and_reports_no_errors(tmp_path: Path, html: str) -> None:
    dom, stderr = _dump(tmp_path, html)
    attrs = _body_attrs(dom)
    assert 'data-ok="1"' in attrs, attrs
    assert "data-errors" not in attrs
    expected = html.count('<svg class="chart"')
    assert f'data-charts="{expected}"' in attrs
    assert dom.count('<svg class="chart"') == expected >= 5
    # The marks themselves made it into the DOM, not just empty frames.
    assert dom.count('class="bar"') >= 10
    assert dom.count('<polyline class="series"') >= 5
    assert dom.count('class="capacity"') >= 3
    assert _console_errors(stderr) == []


def test_a_script_error_would_be_caught(tmp_path: Path, html: str) -> None:
    broken = html.replace("</main>", "<script>undefinedFunction();</script></main>")
    dom, stderr = _dump(tmp_path, broken)
    attrs = _body_attrs(dom)
    assert 'data-ok="0"' in attrs
    assert "undefinedFunction" in attrs
    assert _console_errors(stderr)


def test_screenshot(tmp_path: Path, html: str) -> None:
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "report.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400",
                       page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2400)
    # A blank page compresses to a few kilobytes; a drawn report does not.
    assert len(data) > 100_000


def test_an_empty_report_renders_without_errors(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from report_canonical import STACK

    from leanstack.report import build_report

    empty = build_report(priced=[], catalog_date="2026-11-26", catalog_source="test",
                         stack=STACK, tool_version="t",
                         generated_at=datetime(2026, 11, 26, tzinfo=UTC))
    dom, stderr = _dump(tmp_path, render(empty, "html"))
    attrs = _body_attrs(dom)
    assert 'data-ok="1"' in attrs and 'data-charts="4"' in attrs
    assert _console_errors(stderr) == []
