"""``generate(out_dir, seed, scale, as_of, through)``: write a demo sales org in every source's
shape; ``append_day(out_dir)``: move its sources on by one day, as a day of business would."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from devkit.demo import variants as export_variants
from devkit.demo import winsignals, writers
from devkit.demo.org import SCALES, Simulator, as_seen

__all__ = ["SCALES", "append_day", "generate"]

SOURCE_DIRS = ("crm_export", "wecom", "chat_archive", "u8", "sheets", "truth")


def generate(
    out_dir: Path,
    seed: int = 7,
    scale: str = "S",
    as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
    through: date | None = None,
    anomaly_rate: float = 1.0,
    variants: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Simulate the org up to ``as_of`` and write its sources as they stood at the end of
    ``through`` (default: ``as_of``) under ``out_dir`` (layout in docs/sources.md).

    Deterministic for (seed, scale, as_of, through). Existing source folders under
    ``out_dir`` are replaced. ``anomaly_rate`` scales the planted anomalies (0: none).
    ``variants`` reshape the written sources as real exports differ (``variants.VARIANTS``).
    Returns the truth manifest (counts per source as written,
    planted anomalies of the whole org).
    """
    say = progress or (lambda _msg: None)
    export_variants.check(variants)
    as_of = as_of or date.today()
    through = through or as_of
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in SOURCE_DIRS:
        shutil.rmtree(out_dir / name, ignore_errors=True)

    started = time.monotonic()
    world = Simulator(seed, scale, as_of, anomaly_rate).run()
    win_signals = winsignals.plant(world)
    org = as_seen(world, through)
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
    say("  sheets/: 8 workbooks")
    manifest = writers.write_truth(
        world, out_dir / "truth", counts, through=through, anomaly_rate=anomaly_rate
    )
    manifest["planted_trials"] = winsignals.write_truth(win_signals, out_dir / "truth")
    (out_dir / "truth" / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    if variants:
        export_variants.apply(out_dir, variants, manifest)
        manifest["variant_names"] = list(variants)
        (out_dir / "truth" / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return manifest


def append_day(out_dir: Path, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Move the sources under ``out_dir`` on by one day: the next day's leads, activities,
    messages, check-ins and ERP documents appear, records changed that day carry its stamps,
    and ERP documents deleted that day disappear. Raises ``ValueError`` once the sources
    reach the org's last day (generate with ``through`` before ``as_of`` to leave room)."""
    manifest_path = Path(out_dir) / "truth" / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{manifest_path} not found: generate an org there first") from None
    as_of = date.fromisoformat(manifest["as_of"])
    through = date.fromisoformat(manifest.get("through") or manifest["as_of"])
    if through >= as_of:
        raise ValueError(
            f"the sources in {out_dir} already reach the org's last day {as_of}; "
            "generate with an earlier `through` to leave days to append"
        )
    return generate(
        Path(out_dir),
        seed=manifest["seed"],
        scale=manifest["scale"],
        as_of=as_of,
        progress=progress,
        through=through + timedelta(days=1),
        anomaly_rate=manifest.get("anomaly_rate", 1.0),
        variants=tuple(manifest.get("variant_names") or ()),
    )
