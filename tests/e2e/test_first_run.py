"""A newcomer's first command: `make demo` on a machine without Chromium finishes everything
but the printed morning report and says in one line what it skipped and how to get it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from orchestration import cli

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _make_demo(demo: Path, tmp_path: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "demo",
            f"DEMO_DIR={demo}",
            "DEMO_ARGS=--no-regions",  # the demo org users get (scale S)
            f"DAGSTER_HOME={tmp_path / 'dagster_home'}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "Traceback" not in out, out[-4000:]
    return out


def test_make_demo_without_chromium_builds_the_site_and_names_what_it_skipped(tmp_path):
    demo = tmp_path / "demo"
    env = dict(os.environ)
    env.pop("SALESOPS_CONFIG", None)
    # the browser this machine would use is named and absent: as on a machine without it
    env["SALESOPS_CHROMIUM"] = str(tmp_path / "no-browser" / "chromium")
    out = _make_demo(demo, tmp_path, env)
    skipped = [line for line in out.splitlines() if "skipped" in line]
    assert len(skipped) == 1, out[-4000:]
    assert skipped[0].startswith("skipped: the morning report PDF")
    assert "apt-get install chromium fonts-noto-cjk" in skipped[0]
    assert "succeeded" in out and "FAIL" not in out
    # progress lines, not dbt's: those are in the run's step-output file, which is named
    assert "OK created" not in out and "step output (dbt's log lines among it):" in out
    # nor dagster-dbt's notes on the tests of ephemeral models (runner.QUIET_WARNINGS)
    assert "AssetObservation" not in out, out[-4000:]
    # everything else is there: the warehouse, the BI file, the site, and where to open it
    assert (demo / "warehouse_bi.duckdb").is_file()
    site = demo / "site" / "index.html"
    assert site.is_file() and not list(demo.glob("reports/*.pdf"))
    first_screen = "\n".join((ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:45])
    assert "make demo" in first_screen and "make bi-serve" in first_screen
    assert cli.DEMO_SITE_URL in first_screen and cli.DEMO_SITE_URL in out
    built = site.stat().st_mtime_ns

    # run again, nothing changed: everything is kept, the skip is said again
    again = _make_demo(demo, tmp_path, env)
    assert "nothing changed since the last demo" in again and "running the pipeline" not in again
    assert site.stat().st_mtime_ns == built
    assert [line for line in again.splitlines() if "skipped" in line] == skipped

    # with a browser now: only the report is made; the org, warehouse and site are kept
    env.pop("SALESOPS_CHROMIUM")
    third = _make_demo(demo, tmp_path, env)
    assert "building report" in third and "skipped" not in third, third[-4000:]
    assert site.stat().st_mtime_ns == built
    (pdf,) = demo.glob("reports/morning_report_*.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and f"morning report: {pdf}" in third
