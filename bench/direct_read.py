"""The plain drivers reading an org's source files into tables, as anyone would without this
project: DuckDB for the CSV and JSON-lines files, sqlite3 for U8's file, openpyxl for the
workbooks. ``bench_pipeline`` compares each loader with it.

Run in an interpreter of its own (``python bench/direct_read.py <sources> <work_dir>``, which
prints {source: {rows, seconds}} as JSON): in the benchmark's process the pipeline has been
imported, and what it changes in a driver (``ingest.sheets.helpers`` reads a sheet's size
without openpyxl's parse of every cell) is not the plain driver's."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb


def timed(fn: Callable[[], object]) -> dict:
    """What ``fn`` returned (``rows``) and how long it took (``seconds``)."""
    started = time.perf_counter()
    rows = fn()
    return {"rows": rows, "seconds": time.perf_counter() - started}


def direct_reads(src: Path, work: Path) -> dict[str, dict[str, float]]:
    """DuckDB (or, for U8's SQLite file and the workbooks, the plain driver) reading the same
    source files into tables: rows and seconds per source."""
    db = work / "direct.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute("set enable_progress_bar = false")  # stdout carries the answer
    out: dict[str, dict[str, float]] = {}

    def load(globs: dict[str, str], reader: str) -> int:
        rows = 0
        for name, pattern in globs.items():
            con.execute(f"create or replace table {name} as select * from {reader}(?)", [pattern])
            rows += con.execute(f"select count(*) from {name}").fetchone()[0]
        return rows

    crm = {f"crm_{p.stem.lower()}": str(p) for p in sorted((src / "crm_export").glob("*.csv"))}
    out["crm"] = timed(lambda: load(crm, "read_csv"))
    wecom = {f"wecom_{p.stem}": str(p) for p in sorted((src / "wecom").glob("*.jsonl"))}
    wecom["chat_archive"] = str(src / "chat_archive" / "*.jsonl")
    out["wecom"] = timed(lambda: load(wecom, "read_json"))
    con.close()
    db.unlink(missing_ok=True)

    u8_db = src / "u8" / "UFDATA_001_2026.db"

    def fetch_u8() -> int:
        c = sqlite3.connect(u8_db)
        n = 0
        for (table,) in c.execute("select name from sqlite_master where type='table'").fetchall():
            n += len(c.execute(f'select * from "{table}"').fetchall())
        c.close()
        return n

    out["u8"] = timed(fetch_u8)

    from openpyxl import load_workbook

    def read_sheets() -> int:
        n = 0
        for path in sorted((src / "sheets").glob("*.xlsx")):
            wb = load_workbook(path, read_only=True, data_only=True)
            for ws in wb.worksheets:
                n += sum(1 for _ in ws.iter_rows(min_row=2, values_only=True))
            wb.close()
        return n

    out["sheets"] = timed(read_sheets)
    return out


def in_own_interpreter(src: Path, work: Path) -> dict[str, dict[str, float]]:
    """``direct_reads`` in a fresh interpreter (this file run as a script)."""
    done = subprocess.run(
        [sys.executable, __file__, str(src), str(work)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


if __name__ == "__main__":
    if any(m == "ingest" or m.startswith(("ingest.", "salesops")) for m in sys.modules):
        raise SystemExit("the direct reads must run without the pipeline imported")
    print(json.dumps(direct_reads(Path(sys.argv[1]), Path(sys.argv[2]))))
