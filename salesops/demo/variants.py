"""Real-world export variants: each one reshapes a generated org's sources the way a real
company's exports differ from the generator's complete ones (a Data Loader export with picked
fields, an owner history with names only, a missing workbook, ...).

A variant is a function ``(out_dir, manifest) -> None`` registered with ``@variant("name")``.
It runs after every source is written, edits the files under ``out_dir`` in place, and records
what it changed in ``manifest["variants"][name]`` (the truth a test compares against).
``generate(..., variants=("name", ...))`` and ``salesops generate --variant NAME`` apply them in
the order given.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

Variant = Callable[[Path, dict[str, Any]], None]
VARIANTS: dict[str, Variant] = {}


def variant(name: str) -> Callable[[Variant], Variant]:
    def register(fn: Variant) -> Variant:
        VARIANTS[name] = fn
        return fn

    return register


def check(names: Iterable[str]) -> None:
    """Raise ``ValueError`` naming any variant that is not registered."""
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        known = ", ".join(sorted(VARIANTS)) or "none yet"
        raise ValueError(f"unknown variant(s) {', '.join(unknown)}; known: {known}")


def apply(out_dir: Path, names: Iterable[str], manifest: dict[str, Any]) -> None:
    """Apply the named variants to the sources under ``out_dir`` (order as given)."""
    names = list(names)
    check(names)
    done = manifest.setdefault("variants", {})
    for name in names:
        done.setdefault(name, {})
        VARIANTS[name](Path(out_dir), manifest)


# line table -> (its header, the key they share)
_U8_LINES = {
    "SO_SODetails": ("SO_SOMain", "ID"),
    "SaleBillVouchs": ("SaleBillVouch", "SBVID"),
    "Ap_CloseBills": ("Ap_CloseBill", "iID"),
}


@variant("u8_no_line_ufts")
def u8_no_line_ufts(out_dir: Path, manifest: dict[str, Any]) -> None:
    """A U8 whose line tables carry no ``ufts`` (SPEC §3.3 lists it for no table). Saving a
    document stamps its header, so a header's ``ufts`` becomes the highest of its own and its
    lines' (a line written after its header was written by a later save of the document)."""
    db = out_dir / "u8" / "UFDATA_001_2026.db"
    con = sqlite3.connect(db)
    restamped = 0
    try:
        for line, (header, key) in _U8_LINES.items():
            restamped += con.execute(
                f"update {header} set ufts = (select max(ufts) from {line} "
                f"where {line}.{key} = {header}.{key}) "
                f"where ufts < (select max(ufts) from {line} where {line}.{key} = {header}.{key})"
            ).rowcount
            con.execute(f"alter table {line} drop column ufts")
        con.commit()
    finally:
        con.close()
    manifest["variants"]["u8_no_line_ufts"] = {
        "tables": sorted(_U8_LINES),
        "headers_restamped": restamped,
    }
