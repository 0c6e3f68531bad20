"""Throughput of the CRM export path against DuckDB's own CSV reader.

Writes a ``Task.csv`` of N rows (default 1,000,000) in the Salesforce Data Export shape (every
cell quoted, ``...000Z`` datetimes, ``true``/``false``, Chinese text with commas and line
breaks), then times:

- the CRM source (``crm_source(export_dir=..., objects=["Task"])``) through a full dlt run
  (extract + normalize + load) into a fresh DuckDB file as a run loads it (a first load
  appends, then keys that came twice are settled; ``ingest.pipelines.append_first_loads``),
  and its extract step alone, after a warm-up run on 1,000 rows (one-off imports);
- DuckDB ``create table ... as select * from read_csv(...)`` of the same file.

Usage: ``python bench/bench_crm.py [rows] [work_dir]``; prints rows/s and the ratio.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from ingest.crm import crm_source
from ingest.crm.helpers import object_specs
from ingest.pipelines import append_first_loads, make_pipeline, settle_first_loads

_TASK_SQL = """
copy (
  select
    '00T5g' || lpad(i::varchar, 13, '0') as "Id",
    case when i % 10 = 0 then null else '00Q5g' || lpad((i % 50000)::varchar, 13, '0') end
      as "WhoId",
    case when i % 3 = 0 then '0065g' || lpad((i % 9000)::varchar, 13, '0') end as "WhatId",
    '0055g' || lpad((i % 200)::varchar, 13, '0') as "OwnerId",
    (['电话回访', 'Call: follow up', 'Email quote, v2', '微信沟通'])[i % 4 + 1] as "Subject",
    case i % 5
      when 0 then '已电话沟通'
      when 1 then '客户反馈报价偏高, 需要再议'
      when 2 then 'Demo went well, "very" positive'
      when 3 then e'拜访客户,\n现场演示了新方案'
    end as "Description",
    'Completed' as "Status",
    'Normal' as "Priority",
    (['Call', 'Email', 'Task'])[i % 3 + 1] as "TaskSubtype",
    (['电话', '邮件', '微信', '其他'])[i % 4 + 1] as "Type",
    strftime(date '2026-03-02' - (i % 400)::int, '%Y-%m-%d') as "ActivityDate",
    strftime(ts, '%Y-%m-%dT%H:%M:%S.') || lpad((i % 1000)::varchar, 3, '0') || 'Z'
      as "CompletedDateTime",
    case when i % 7 = 0 then null else (i * 37 % 3600)::varchar end as "CallDurationInSeconds",
    'true' as "IsClosed",
    case when i % 97 = 0 then 'true' else 'false' end as "IsDeleted",
    strftime(ts + interval 2 hour, '%Y-%m-%dT%H:%M:%S.000Z') as "CreatedDate",
    '0055g' || lpad((i % 200)::varchar, 13, '0') as "CreatedById",
    strftime(ts + interval 3 hour, '%Y-%m-%dT%H:%M:%S.000Z') as "LastModifiedDate",
    strftime(ts + interval 3 hour, '%Y-%m-%dT%H:%M:%S.') || lpad((i % 1000)::varchar, 3, '0')
      || 'Z' as "SystemModstamp"
  from (
    select i, timestamp '2025-01-01' + to_seconds(i * 29) as ts from range({rows}) t(i)
  )
) to '{path}' (header, force_quote *, new_line '\\n')
"""


def write_task_csv(path: Path, rows: int) -> None:
    fields = list(object_specs()["Task"].fields)
    sql = _TASK_SQL.format(rows=rows, path=str(path).replace("'", "''"))
    with duckdb.connect() as con:
        con.execute(sql)
        header = [
            d[0] for d in con.execute("select * from read_csv(?) limit 0", [str(path)]).description
        ]
    assert header == fields, (header, fields)


def main(rows: int = 1_000_000, work: Path | None = None) -> dict[str, float]:
    work = Path(work or tempfile.mkdtemp(prefix="bench_crm_"))
    export = work / "export"
    shutil.rmtree(work / "runs", ignore_errors=True)
    export.mkdir(parents=True, exist_ok=True)
    csv_path = export / "Task.csv"
    if (
        not csv_path.exists()
        or duckdb.execute("select count(*) from read_csv(?)", [str(csv_path)]).fetchall()[0][0]
        != rows
    ):
        t = time.perf_counter()
        write_task_csv(csv_path, rows)
        size_mb = csv_path.stat().st_size / 1e6
        print(f"wrote {csv_path} ({size_mb:.0f} MB) in {time.perf_counter() - t:.1f}s")

    # warm-up on a 1,000-row copy: one-off imports (dlt pulls in pandas lazily) stay out of the
    # timing
    runs = work / "runs"
    small = runs / "warmup" / "export"
    small.mkdir(parents=True)
    write_task_csv(small / "Task.csv", 1000)
    make_pipeline("crm", runs / "warmup" / "w.duckdb").run(
        crm_source(export_dir=str(small), objects=["Task"])
    )

    # the CRM source: a full dlt run into a fresh warehouse
    warehouse = runs / "crm.duckdb"
    pipeline = make_pipeline("crm", warehouse, runs / "pipelines")
    t = time.perf_counter()
    source = crm_source(export_dir=str(export), objects=["Task"])
    first = append_first_loads("crm", source, warehouse)
    pipeline.run(source)
    if first:
        settle_first_loads("crm", warehouse)
    crm_seconds = time.perf_counter() - t
    steps = {
        s.step: (s.finished_at - s.started_at).total_seconds() for s in pipeline.last_trace.steps
    }
    with duckdb.connect(str(runs / "crm.duckdb"), read_only=True) as con:
        loaded = con.execute("select count(*) from raw_crm.tasks").fetchall()[0][0]
    assert loaded == rows, (loaded, rows)

    # DuckDB's own reader, same file, into a fresh database
    t = time.perf_counter()
    with duckdb.connect(str(runs / "duck.duckdb")) as con:
        con.execute("create table tasks as select * from read_csv(?)", [str(csv_path)])
        n = con.execute("select count(*) from tasks").fetchall()[0][0]
    duck_seconds = time.perf_counter() - t
    assert n == rows

    result = {
        "rows": rows,
        "crm_rows_per_s": rows / crm_seconds,
        "crm_extract_rows_per_s": rows / steps["extract"],
        "duckdb_rows_per_s": rows / duck_seconds,
        "ratio": duck_seconds / crm_seconds,
    }
    print(
        f"CRM export path (dlt run: extract {steps['extract']:.1f}s, normalize "
        f"{steps['normalize']:.1f}s, load {steps['load']:.1f}s): {crm_seconds:.1f}s, "
        f"{result['crm_rows_per_s']:,.0f} rows/s "
        f"(extract alone {result['crm_extract_rows_per_s']:,.0f} rows/s)"
    )
    duck_rate = result["duckdb_rows_per_s"]
    print(f"DuckDB read_csv into a table: {duck_seconds:.1f}s, {duck_rate:,.0f} rows/s")
    print(f"CRM export path runs at {result['ratio']:.2f}x DuckDB read_csv's rows/s")
    # kept for bench/report.py (the goals table)
    (work / "bench_crm.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    main(n, Path(sys.argv[2]) if len(sys.argv) > 2 else None)
