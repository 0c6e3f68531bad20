"""Writing the configuration of a test org."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from salesops import config as salesops_config


def write_config(root: Path, warehouse: Path, sections: dict, as_of: date, **settings: Any) -> Path:
    """``<warehouse's name>.yml`` in ``root``: an org whose warehouse is ``warehouse``, whose
    sources are ``sections`` (as devkit.demo.serve's ``served_sources`` gives them), as of
    ``as_of``; ``settings`` are further top-level sections (``runs``, ``bi``). Read by the
    product's loader first, so a wrong key fails here."""
    cfg = salesops_config.from_dict(
        {
            "warehouse": {"path": str(warehouse)},
            "as_of": as_of.isoformat(),
            "sources": sections,
            **settings,
        },
        base=root,
    )
    path = root / f"{warehouse.stem}.yml"
    path.write_text(salesops_config.dump(cfg), encoding="utf-8")
    return path
