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

The stamp kept (``last``, ``save``) and the question a run asks before its loads
(``unchanged_sources``) are here too, apart from Dagster: a run with nothing new anywhere is
told so without importing the pipeline's definitions (``orchestration/shortcut.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ingest import sources

# ops.run_state key: a source's stamp at its last load and the tables it left
STATE = "source_stamp:{src}"


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


def take(src: str, section: dict[str, Any], log: Callable[[str], None]) -> str | None:
    """``src``'s stamp now; None when it has none or cannot be read (the load that follows then
    says what is wrong)."""
    try:
        return source_stamp(src, section)
    except Exception as exc:
        from ingest.pipelines import error_text

        log(f"{src}: no stamp ({error_text(exc)}): loading")
        return None


def last(warehouse: str | Path, src: str) -> str | None:
    """The stamp of ``src``'s last whole load (None: never loaded so, or a table it left is
    gone)."""
    return kept(warehouse, [src])[src]


def kept(warehouse: str | Path, srcs: Iterable[str]) -> dict[str, str | None]:
    """``last`` of each of ``srcs``, read through one connection."""
    import duckdb

    from salesops import runstate

    con = duckdb.connect(str(warehouse))
    try:
        out: dict[str, str | None] = {}
        for src in srcs:
            state = runstate.read(con, STATE.format(src=src))
            present = {
                t
                for (t,) in con.execute(
                    "select table_name from information_schema.tables where table_schema = ?",
                    [f"raw_{src}"],
                ).fetchall()
            }
            out[src] = state["stamp"] if state and set(state["tables"]) <= present else None
        return out
    finally:
        con.close()


def save(warehouse: str | Path, src: str, stamp: str) -> None:
    """Keep ``stamp`` as that of ``src``'s last whole load, with the tables it left."""
    import duckdb

    from salesops import runstate

    con = duckdb.connect(str(warehouse))
    try:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1",
            [f"raw_{src}"],
        ).fetchall()
        runstate.write(
            con, STATE.format(src=src), {"stamp": stamp, "tables": [t for (t,) in tables]}
        )
    finally:
        con.close()


def take_all(cfg, srcs: Iterable[str], log: Callable[[str], None]) -> dict[str, str | None]:
    """The stamps of the configured sources of ``srcs`` now (a source not configured is left
    out: its load step says so). On the Spark engine none (its raw layer, the lake, is not
    stamped). They are taken side by side, each source's package imported first (one at a
    time, here): a stamp that asks an API mostly waits for its answers (WeCom's, ~1 s at 500
    reps), while the next package imports and the other stamps are taken."""
    if cfg.engine == "spark":
        return {}
    wanted = [src for src in srcs if cfg.has(src)]
    with ThreadPoolExecutor(max(len(wanted), 1), thread_name_prefix="stamp") as pool:
        taking = {}
        for src in wanted:
            sources.module(src)
            taking[src] = pool.submit(take, src, cfg.sources[src], log)
        return {src: future.result() for src, future in taking.items()}


def unchanged(warehouse: str | Path, now: dict[str, str | None]) -> list[str]:
    """The sources of ``now`` (source -> its stamp now) whose stamp is the one kept at their
    last load."""
    before = kept(warehouse, now) if now else {}
    return [src for src, stamp in now.items() if stamp is not None and stamp == before[src]]


def not_loaded(cfg, srcs: list[str], warn: Callable[[str], None]) -> None:
    """Sources with nothing new: recorded as loads that found nothing (``ops.source_loads``:
    the time of their last load stays), the sheets' notes of their last load said again."""
    from ingest.pipelines import record_source_loads

    record_source_loads(cfg.warehouse, srcs)
    if "sheets" in srcs:
        from ingest.sheets import load_notes

        for note in load_notes(cfg.warehouse):  # as the last load said
            warn(note)


def unchanged_sources(
    cfg,
    srcs: Iterable[str],
    echo: Callable[[str], None],
    taken: dict[str, str] | None = None,
    stamps: dict[str, str | None] | None = None,
) -> list[str]:
    """The sources of ``srcs`` whose stamp is the one taken before their last load: a run
    leaves their loads out (no step, no event per raw table), and each is recorded as the load
    step would record it (``not_loaded``). The stamps are ``stamps`` when given (``take_all``,
    a moment before), else taken now. The stamps of the sources that load go into ``taken``
    (source -> stamp, empty when it has none), for the run to hand to their steps."""
    srcs = list(srcs)
    now = take_all(cfg, srcs, echo) if stamps is None else stamps
    now = {src: now[src] for src in srcs if src in now}
    quiet = unchanged(cfg.warehouse, now)
    if quiet:
        not_loaded(cfg, quiet, echo)
    if taken is not None:
        taken.update({src: stamp or "" for src, stamp in now.items() if src not in quiet})
    return quiet
