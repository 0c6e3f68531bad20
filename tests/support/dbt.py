"""Running dbt models against a copy of a built warehouse (tests that change a few raw or
mart rows and rebuild only what reads them)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

from salesops.dbt import dbt_executable

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def dbt_run(
    warehouse: Path,
    as_of: date,
    select: str,
    target: Path,
    project: Path = PROJECT,
    full_refresh: bool = False,
) -> None:
    """``dbt run --select select`` of ``project`` on ``warehouse`` as of ``as_of``
    (``full_refresh``: the incremental models rebuilt from all history); fails with dbt's
    output."""
    result = subprocess.run(
        [dbt_executable(), "run", "--select", select,
         "--vars", json.dumps({"as_of": as_of.isoformat()}),
         "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(target), *(["--full-refresh"] if full_refresh else [])],
        capture_output=True, text=True,
        env={**os.environ, "SALESOPS_WAREHOUSE": str(warehouse)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
