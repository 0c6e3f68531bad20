"""The shared real-data samples (../shared/realdata beside the repository) as CSV rows, and
CSV files written the way the reshaped exports need them."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from orchestration import runner
from tests.support.config import write_config

_HERE = Path(__file__).resolve()


def realdata_dir(name: str) -> Path | None:
    """The sample's folder, or None when the shared folder is not beside the repository."""
    candidates = [p / "shared" / "realdata" / name for p in _HERE.parents]
    return next((p for p in candidates if p.is_dir()), None)


def read_rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def delivered(fields: list[str], rows: list[dict]) -> list[str]:
    """The header of an export that carries only the fields the data has: those some row
    fills in, in the contract's order (every field for an object without rows)."""
    if not rows:
        return list(fields)
    return [f for f in fields if any(r.get(f) not in (None, "") for r in rows)]


def run_export(
    root: Path,
    export: Path,
    sheets: Path,
    as_of: date,
    exclude_groups: Sequence[str],
    echo: Callable[[str], None],
) -> runner.RunOutcome:
    """A run on a CRM export folder and a spreadsheet folder alone (no WeCom, no U8) as of
    ``as_of``, its warehouse ``warehouse.duckdb`` in ``root``."""
    sections = {"crm": {"export_dir": str(export)}, "sheets": {"dir": str(sheets)}}
    path = write_config(root, root / "warehouse.duckdb", sections, as_of)
    os.environ.setdefault("DAGSTER_HOME", str(root))
    return runner.run(path, exclude_groups=exclude_groups, echo=echo)
