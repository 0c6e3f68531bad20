"""make spark-parity: the demo org built on DuckDB and on Apache Spark, every published mart
compared row by row.

    python bench/spark_parity.py [--scale XS] [--out build/spark_parity]

1. The demo org is generated and run through the whole pipeline (loads, dbt build, checks)
   twice, with the run configuration's ``warehouse.engine`` set to ``duckdb`` and to
   ``spark``. On Spark the same dlt sources load into the lake (dlt's filesystem destination,
   Parquet by day of load, read as merged: salesops.lake); the dbt step registers it on Spark,
   builds the models there (``dbt build --target spark``, session mode, local PySpark) and
   copies Spark's staging and marts back into that run's warehouse file (salesops.spark).
2. Every table the BI file publishes (rpt_* plus alerts, dq_findings) is compared: rows are
   paired on their non-float columns, floats must agree within 1e-9 + 1e-6 x |value|, text and
   timestamps exactly (timestamps as UTC instants). Columns stamped with the build's wall clock
   are left out (VOLATILE_COLUMNS).

Prints one line per mart and a total; exits 1 on any difference or a model that did not build.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from orchestration import runner
from salesops import config as salesops_config
from salesops import publish

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 20)
ABS_TOL, REL_TOL = 1e-9, 1e-6
# stamped with the wall clock of each run's loads and checks (differ between any two runs)
VOLATILE_COLUMNS = {
    "rpt_source_freshness": {"last_loaded_at", "last_loaded_local", "hours_since_load"},
    "rpt_source_loads": {
        "attempted_at",
        "attempted_local",
        "last_success_at",
        "last_success_local",
    },
    "rpt_source_contract": {"checked_at"},
}
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")


def build(root: Path, src: Path, engine: str) -> salesops_config.Config:
    """The whole pipeline (loads, models, checks; no BI) on one engine: the run configuration's
    ``warehouse.engine`` is the only difference between the two builds."""
    return run_pipeline(root, src, engine)[0]


def run_pipeline(
    root: Path,
    src: Path,
    engine: str,
    echo: Callable[[str], None] = lambda _m: None,
    crm: str = "api",
) -> tuple[salesops_config.Config, runner.RunOutcome]:
    """``build``, also returning the run's outcome (step times, run id); ``echo`` gets the
    run's progress lines, ``crm`` says how the CRM is read (devkit.demo.serve)."""
    from devkit.demo.serve import served_sources

    root.mkdir(parents=True)
    with served_sources(src, AS_OF, crm=crm) as sections:
        cfg = salesops_config.from_dict(
            {
                "warehouse": {"path": str(root / "warehouse.duckdb"), "engine": engine},
                "as_of": AS_OF.isoformat(),
                "sources": sections,
            },
            base=root,
        )
        path = root / "salesops.yml"
        path.write_text(salesops_config.dump(cfg), encoding="utf-8")
        outcome = runner.run(path, exclude_groups=("bi",), echo=echo)
    if not outcome.success:
        raise SystemExit(f"the run on {engine} failed: {outcome.errors} {outcome.failed_checks}")
    dbt_seconds = sum(v for k, v in outcome.step_seconds.items() if k.startswith("dbt_"))
    print(f"{engine}: dbt steps {dbt_seconds:.0f} s of the pipeline's {outcome.seconds:.0f} s")
    return salesops_config.load(path), outcome


def _columns(con: duckdb.DuckDBPyConnection, db: str, table: str) -> dict[str, str]:
    return dict(
        con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = ? "
            "and schema_name = 'marts' and table_name = ? order by column_index",
            [db, table],
        ).fetchall()
    )


def _expr(name: str, dtype: str) -> str:
    col = f'"{name}"'
    if dtype.startswith(FLOAT_TYPES):
        return f"cast({col} as double)"
    if dtype.startswith("TIMESTAMP"):
        # an instant: DuckDB's timestamptz and Spark's timestamp (read back as UTC)
        return f"cast(timezone('UTC', cast({col} as timestamptz)) as varchar)"
    if dtype in ("BOOLEAN", "DATE", "VARCHAR"):
        return f"cast({col} as varchar)"
    return f"cast(cast({col} as hugeint) as varchar)" if "INT" in dtype else f"{col}::varchar"


def compare_table(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int, int, str]:
    """(DuckDB rows, Spark rows, differing rows, note) for one published mart."""
    left, right = _columns(con, "duck", table), _columns(con, "spark", table)
    if not right:
        return _count(con, "duck", table), 0, -1, "missing on Spark"
    skip = VOLATILE_COLUMNS.get(table, set())
    names = [c for c in left if c not in skip]
    missing = sorted(set(names) - set(right))
    if missing:
        return _count(con, "duck", table), _count(con, "spark", table), -1, f"columns {missing}"
    floats = [c for c in names if left[c].startswith(FLOAT_TYPES)]
    keys = [c for c in names if c not in floats]
    # both sides' values as the same text / double types
    sides = {}
    for db in ("duck", "spark"):
        cols = left if db == "duck" else right
        select = ", ".join(f'{_expr(c, cols[c])} as "{c}"' for c in names)
        order = ", ".join(f'"{c}"' for c in floats) or "1"
        part = ", ".join(f'"{c}"' for c in keys) or "1"
        sides[db] = (
            f"(select *, row_number() over (partition by {part} order by {order}) as rn__ "
            f'from (select {select} from {db}.marts."{table}"))'
        )
    on = " and ".join([f'l."{k}" is not distinct from r."{k}"' for k in keys] + ["l.rn__ = r.rn__"])
    float_diff = " or ".join(
        f'(l."{c}" is distinct from r."{c}" and (l."{c}" is null or r."{c}" is null or '
        f'abs(l."{c}" - r."{c}") > {ABS_TOL} + {REL_TOL} * abs(l."{c}")))'
        for c in floats
    )
    differing = con.execute(
        f"select count(*) filter (where l.rn__ is null or r.rn__ is null"
        f"{' or ' + float_diff if floats else ''}) "
        f"from {sides['duck']} l full outer join {sides['spark']} r on {on}"
    ).fetchone()[0]
    note = f"left out {sorted(skip)}" if skip else ""
    return _count(con, "duck", table), _count(con, "spark", table), differing, note


def _count(con: duckdb.DuckDBPyConnection, db: str, table: str) -> int:
    return con.execute(f'select count(*) from {db}.marts."{table}"').fetchone()[0]


def compare(duck_file: Path, spark_file: Path) -> int:
    con = duckdb.connect()
    con.execute("attach ? as duck (read_only)", [str(duck_file)])
    con.execute("attach ? as spark (read_only)", [str(spark_file)])
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'duck' "
            "and schema_name = 'marts' and (table_name like 'rpt\\_%' escape '\\' "
            "or table_name in ?) order by 1",
            [list(publish.EXTRA_MARTS)],
        ).fetchall()
    ]
    failed = 0
    for table in tables:
        n_duck, n_spark, differing, note = compare_table(con, table)
        ok = differing == 0
        failed += not ok
        status = "ok  " if ok else "DIFF"
        print(
            f"{status} {table:<28} duckdb {n_duck:>7} spark {n_spark:>7} "
            f"differing {differing:>6} {note}".rstrip()
        )
    print(
        f"total: {len(tables) - failed} of {len(tables)} published marts "
        f"equal on DuckDB and Spark (floats within {ABS_TOL} + {REL_TOL} x |value|)"
    )
    return failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="XS")
    ap.add_argument("--out", default=str(ROOT / "build" / "spark_parity"))
    args = ap.parse_args(argv)
    from devkit.demo.generate import generate

    root = Path(args.out).resolve()
    if root.exists():
        shutil.rmtree(root)
    os.environ["DAGSTER_HOME"] = str(root / "dagster_home")
    (root / "dagster_home").mkdir(parents=True)
    src = root / "sources"
    generate(src, seed=3, scale=args.scale, as_of=AS_OF)
    duck = build(root / "duckdb", src, "duckdb")
    on_spark = build(root / "spark", src, "spark")
    failed = compare(duck.warehouse, on_spark.warehouse)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
