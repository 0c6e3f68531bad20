"""Throughput of the U8 source against reading the same SQLite table with the driver alone.

At the pipeline's scales U8 is small (~50k rows at M), so a run's fixed cost (the dlt pipeline,
the stamp, the Dagster step) sets ``bench_pipeline``'s loader ratio. This measures the rate
once that cost is paid: a U8 SQLite file (the demo's DDL) whose ``SO_SODetails`` holds N lines
(default 1,000,000) under N/5 orders, then times:

- the U8 source (``u8_source(tables=["SO_SODetails"])``) through a full dlt run (extract +
  normalize + load) into a fresh DuckDB file as a run loads it (a first load appends, then keys
  that came twice are settled; ``ingest.pipelines.append_first_loads``), after a warm-up run on
  a 1,000-line copy (one-off imports);
- the same source again with nothing new (a merge load: the cursor and the deletes check, the
  fixed cost a daily run pays for the table);
- ``sqlite3`` reading the same table (``select *``, every row fetched), as
  ``direct_read.direct_reads`` does (DuckDB's SQLite reader is an extension it downloads).

Usage: ``python bench/bench_u8.py [rows] [work_dir]``; prints rows/s and the ratio.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from devkit.demo.writers import U8_DDL
from ingest.pipelines import append_first_loads, make_pipeline, settle_first_loads
from ingest.u8 import u8_source

TABLES = ("SO_SOMain", "SO_SODetails")


def write_u8(path: Path, lines: int) -> None:
    """A U8 SQLite file: ``lines`` order lines, five to an order, values as the demo writes
    them (money and quantities as decimal text, times as ``YYYY-MM-DD HH:MM:SS``)."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        for table in TABLES:
            con.execute(f"create table {table} ({U8_DDL[table]})")
        con.execute(
            f"""
            with recursive r(i) as (select 0 union all select i + 1 from r where i < {lines} - 1)
            insert into SO_SODetails
            select
                i + 1,
                i / 5 + 1,
                'INV' || substr('00000' || (i % 4000), -5),
                printf('%.6f', (i % 40) + 0.5),
                printf('%.2f', (i % 9000) * 13.7),
                printf('%.2f', (i % 9000) * 1.781),
                printf('%.2f', (i % 9000) * 15.481),
                printf('%.2f', (i % 9000) * 15.481),
                datetime('2025-01-01', '+' || (i % 700) || ' days'),
                i + 1
            from r
            """
        )
        con.execute(
            f"""
            with recursive r(i) as (
                select 0 union all select i + 1 from r where i < {lines // 5 or 1} - 1
            )
            insert into SO_SOMain
            select
                i + 1, 'SO' || (i + 1), datetime('2025-01-01', '+' || (i % 700) || ' days'),
                'C' || (i % 3000), 'P' || (i % 500), 'D' || (i % 20), 1, 'admin',
                datetime('2025-01-01', '+' || (i % 700) || ' days', '+2 hours'),
                datetime('2025-01-01', '+' || (i % 700) || ' days', '+3 hours'),
                i + 1
            from r
            """
        )
        con.commit()
    finally:
        con.close()


def count_lines(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("select count(*) from SO_SODetails").fetchone()[0]
    except sqlite3.Error:
        return -1
    finally:
        con.close()


def run_source(db: Path, warehouse: Path, pipelines: Path) -> tuple[float, dict[str, float]]:
    """One load of the U8 source over ``SO_SODetails`` as a run makes it (a first load appends
    and is settled, later loads merge): seconds, and seconds per dlt step."""
    pipeline = make_pipeline("u8", warehouse, pipelines)
    started = time.perf_counter()
    source = u8_source(url=f"sqlite:///{db}", tables=["SO_SODetails"])
    first = append_first_loads("u8", source, warehouse)
    pipeline.run(source)
    if first:
        settle_first_loads("u8", warehouse)
    seconds = time.perf_counter() - started
    steps = {
        s.step: (s.finished_at - s.started_at).total_seconds() for s in pipeline.last_trace.steps
    }
    return seconds, steps


def main(rows: int = 1_000_000, work: Path | None = None) -> dict[str, float]:
    work = Path(work or tempfile.mkdtemp(prefix="bench_u8_"))
    runs = work / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    db = work / "UFDATA_001_2026.db"
    if count_lines(db) != rows:
        started = time.perf_counter()
        write_u8(db, rows)
        size_mb = db.stat().st_size / 1e6
        print(f"wrote {db} ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f}s")

    # warm-up on a 1,000-line copy: one-off imports stay out of the timing
    small = runs / "warmup.db"
    write_u8(small, 1000)
    run_source(small, runs / "warmup.duckdb", runs / "warmup_pipelines")

    seconds, steps = run_source(db, runs / "u8.duckdb", runs / "pipelines")
    with duckdb.connect(str(runs / "u8.duckdb"), read_only=True) as con:
        loaded = con.execute("select count(*) from raw_u8.so_sodetails").fetchone()[0]
    assert loaded == rows, (loaded, rows)
    again, _ = run_source(db, runs / "u8.duckdb", runs / "pipelines")
    with duckdb.connect(str(runs / "u8.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw_u8.so_sodetails").fetchone()[0] == rows

    def fetch() -> int:
        con = sqlite3.connect(db)
        try:
            return len(con.execute("select * from SO_SODetails").fetchall())
        finally:
            con.close()

    started = time.perf_counter()
    fetched = fetch()
    direct = time.perf_counter() - started
    assert fetched == rows

    result = {
        "rows": rows,
        "u8_seconds": seconds,
        "u8_rows_per_s": rows / seconds,
        "u8_extract_rows_per_s": rows / steps["extract"],
        "rerun_seconds": again,
        "direct_rows_per_s": rows / direct,
        "ratio": direct / seconds,
    }
    print(
        f"U8 source (dlt run: extract {steps['extract']:.1f}s, normalize "
        f"{steps['normalize']:.1f}s, load {steps['load']:.1f}s): {seconds:.1f}s, "
        f"{result['u8_rows_per_s']:,.0f} rows/s (extract alone "
        f"{result['u8_extract_rows_per_s']:,.0f} rows/s); again with nothing new {again:.1f}s"
    )
    print(f"sqlite3 reading the table: {direct:.1f}s, {result['direct_rows_per_s']:,.0f} rows/s")
    print(f"U8 source runs at {result['ratio']:.2f}x the driver's rows/s")
    # kept for bench/report.py (the goals table)
    (work / "bench_u8.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    main(n, Path(sys.argv[2]) if len(sys.argv) > 2 else None)
