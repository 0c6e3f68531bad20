"""Loader throughput per source against reading the same data directly, in one run.

Generates a demo org (scale M by default) and times, for each source, the full dlt run into
a fresh DuckDB file against a direct read of the same data:

- WeCom chat archive (JSON lines): ``wecom_source(...).with_resources("chat_messages")`` vs
  DuckDB ``read_json`` of the same files into a table;
- U8 (SQLite): ``u8_source`` vs fetching every table with ``sqlite3`` (no typing, no load);
- spreadsheets: ``sheets_source`` vs openpyxl reading every row of the same workbooks.

Usage: ``python bench/bench_sources.py [scale] [work_dir]``; prints rows/s and the ratios.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
from openpyxl import load_workbook

from ingest.pipelines import make_pipeline
from ingest.sheets import sheets_source
from ingest.u8 import u8_source
from ingest.wecom import wecom_source
from salesops.demo.generate import generate
from salesops.standins.wecom import WeComStandIn


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(scale: str = "M", work: Path | None = None) -> None:
    work = Path(work or tempfile.mkdtemp(prefix="bench_sources_"))
    org = work / "org"
    generate(org, seed=11, scale=scale, as_of=date(2026, 11, 20))
    archive, db, sheets = org / "chat_archive", org / "u8" / "UFDATA_001_2026.db", org / "sheets"
    lines = sum(1 for f in archive.glob("*.jsonl") for _ in f.open(encoding="utf-8"))
    con = sqlite3.connect(db)
    u8_rows = sum(
        con.execute(f"select count(*) from {t}").fetchone()[0]
        for (t,) in con.execute("select name from sqlite_master where type='table'").fetchall()
    )
    con.close()
    results = []

    def run(name: str, source, rows: int, direct, direct_label: str) -> None:
        wh = work / f"{name}.duckdb"
        pipeline = make_pipeline(name, wh, pipelines_dir=work / f"p_{name}", dev_mode=True)
        t_dlt = timed(lambda: pipeline.run(source))
        t_direct = timed(direct)
        results.append((name, rows, rows / t_dlt, rows / t_direct, direct_label))

    with WeComStandIn(org / "wecom", corp_secret="bench") as standin:
        chat = wecom_source(
            corp_id="wwstandin",
            corp_secret="bench",
            base_url=standin.api_url,
            chat_archive_dir=str(archive),
        ).with_resources("chat_messages")

        def read_json() -> None:
            c = duckdb.connect(str(work / "direct.duckdb"))
            c.execute(f"create or replace table m as select * from read_json('{archive}/*.jsonl')")
            c.close()

        run("wecom", chat, lines, read_json, "DuckDB read_json into a table")

    def fetch_u8() -> None:
        c = sqlite3.connect(db)
        for (t,) in c.execute("select name from sqlite_master where type='table'").fetchall():
            c.execute(f"select * from {t}").fetchall()
        c.close()

    run("u8", u8_source(url=f"sqlite:///{db}"), u8_rows, fetch_u8, "sqlite3 fetchall")

    sheet_rows = 0
    for path in sheets.glob("*.xlsx"):
        wb = load_workbook(path, read_only=True)
        sheet_rows += sum(sum(1 for _ in ws.iter_rows(min_row=2)) for ws in wb.worksheets)
        wb.close()

    def read_sheets() -> None:
        for path in sheets.glob("*.xlsx"):
            wb = load_workbook(path, read_only=True, data_only=True)
            for ws in wb.worksheets:
                for _ in ws.iter_rows(values_only=True):
                    pass
            wb.close()

    run("sheets", sheets_source(dir=str(sheets)), sheet_rows, read_sheets, "openpyxl read")
    print(f"scale {scale}: {lines:,} chat lines, {u8_rows:,} U8 rows, {sheet_rows:,} sheet rows")
    for name, rows, dlt_rate, direct_rate, label in results:
        print(
            f"{name:7s} {rows:>9,} rows: loader {dlt_rate:>10,.0f} rows/s, {label} "
            f"{direct_rate:>10,.0f} rows/s, ratio {dlt_rate / direct_rate:.2f}x"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(*(sys.argv[1:2] or ["M"]), *(sys.argv[2:3] or []))
