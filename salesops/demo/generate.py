"""``generate(out_dir, seed, scale, as_of)``: write a demo sales org in every source's shape."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from salesops.demo import writers
from salesops.demo.org import SCALES, Simulator

__all__ = ["SCALES", "generate"]

SOURCE_DIRS = ("crm_export", "wecom", "chat_archive", "u8", "sheets", "truth")


def generate(
    out_dir: Path,
    seed: int = 7,
    scale: str = "S",
    as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Simulate the org and write it under ``out_dir`` (layout in docs/sources.md).

    Deterministic for (seed, scale, as_of). Existing source folders under ``out_dir`` are
    replaced. Returns the truth manifest (counts per source and planted anomalies).
    """
    say = progress or (lambda _msg: None)
    as_of = as_of or date.today()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in SOURCE_DIRS:
        shutil.rmtree(out_dir / name, ignore_errors=True)

    started = time.monotonic()
    org = Simulator(seed, scale, as_of).run()
    say(
        f"  simulated {len(org.reps)} reps, {len(org.crm['Lead']):,} leads, "
        f"{len(org.crm['Opportunity']):,} opportunities in {time.monotonic() - started:.1f}s"
    )
    counts: dict[str, dict[str, int]] = {}
    counts["crm"] = writers.write_crm(org, out_dir / "crm_export")
    say(f"  crm_export/: {sum(counts['crm'].values()):,} rows in {len(counts['crm'])} files")
    counts["wecom"] = writers.write_wecom(org, out_dir / "wecom", out_dir / "chat_archive")
    say(f"  wecom/ + chat_archive/: {counts['wecom']['chat_messages']:,} chat messages")
    counts["u8"] = writers.write_u8(org, out_dir / "u8" / "UFDATA_001_2026.db")
    say(f"  u8/UFDATA_001_2026.db: {counts['u8']['so_somain']:,} sales orders")
    counts["sheets"] = writers.write_sheets(org, out_dir / "sheets")
    say("  sheets/: 7 workbooks")
    manifest = writers.write_truth(org, out_dir / "truth", counts)
    return manifest
