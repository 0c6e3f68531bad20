"""What a source holds now, in a few cheap numbers, to tell a load with nothing new before it
starts.

A source's package may define ``stamp(section)``: what the source holds now, read cheaply and
never past what a load would read (file names, sizes and modification times; per table its row
count and newest change stamp; for an API, the answers to exactly what an incremental load asks
again). A load takes the stamp before it reads anything and keeps it once it succeeds
(``ops.run_state``, orchestration/defs/ingest.py); a later run whose stamp is the same (the
settings it is read by are part of it) and whose code reading the source is the same has
nothing to load and does not start a dlt pipeline. Whatever arrives while or after a load
reads gives the next run another stamp, so a skip never hides it. A source without ``stamp``,
or whose stamp is None, always loads.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ingest import sources


def file_stats(folder: str | Path, pattern: str = "*") -> list[list[Any]]:
    """[name, size, modification time (ns)] of each file in ``folder`` matching ``pattern``."""
    return [
        [p.name, p.stat().st_size, p.stat().st_mtime_ns]
        for p in sorted(Path(folder).glob(pattern))
        if p.is_file()
    ]


def settings(section: dict[str, Any], *where: str) -> dict[str, Any]:
    """The configuration section but the keys that say ``where`` the source is (a folder, a
    URL): what it holds there is in the stamp, and a copy elsewhere holds the same."""
    return {k: v for k, v in section.items() if k not in where}


def content_digest(value: Any) -> str:
    """A hash of ``value`` (JSON-like: answers of an API, rows)."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def source_stamp(src: str, section: dict[str, Any]) -> str | None:
    """Source ``src``'s stamp (with the settings it reads them by) and the code that reads
    it, as one hash; None when the source cannot tell cheaply (it loads every run)."""
    module = sources.module(src)
    stamp = getattr(module, "stamp", None)
    now = stamp(section) if stamp is not None else None
    if now is None:
        return None
    here = Path(module.__file__).parent
    code = hashlib.sha256()
    for path in [*sorted(here.glob("*.py")), Path(__file__)]:
        code.update(path.name.encode() + b"\0" + path.read_bytes())
    return content_digest([src, code.hexdigest(), now])
