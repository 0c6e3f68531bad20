"""One model's SQL at two commits, run on the same built warehouse: time of each, and proof that
both return the same rows.

A model rewritten for speed must return what it returned before. This compiles the named
models at ``--old`` (a commit) and at ``--new`` (a commit, or the working tree when left out;
either may instead name a dbt project folder),
runs each compiled query on a copy of a built warehouse (``create temp table ... as``), the two
sides taking turns ``--repeat`` times, and compares the results with ``except all`` both ways
(floating-point columns rounded to ``--digits`` places, 9 by default).
It prints a Markdown table (median seconds, rows, rows only in one side) and exits 1 when any
model's rows differ.

Usage::

    python bench/bench_model_rewrite.py --old <commit> [--new <commit>] \\
        --warehouse <built warehouse.duckdb> [--as-of YYYY-MM-DD] [--repeat 3] model [model ...]

The warehouse is one a run has built (``build/demo/warehouse.duckdb`` after ``make demo``, or
``<work_dir>/warehouse.duckdb`` after ``bench/bench_pipeline.py``); it is copied, never written.
An incremental model compiles as its incremental step when its table exists in the warehouse,
as for a full build with ``--full-refresh``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).with_name("dbt")


def project_at(commit: str | None, into: Path) -> Path:
    """The dbt project as it stands at ``commit``: the working tree's when None, the folder
    itself when ``commit`` names a dbt project folder (one holding dbt_project.yml)."""
    if commit is None:
        return ROOT / "dbt_project"
    if (Path(commit) / "dbt_project.yml").is_file():
        return Path(commit)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "dbt_project"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "dbt_project"


def compile_models(
    project: Path,
    models: list[str],
    warehouse: Path,
    target: Path,
    dbt_vars: dict,
    full_refresh: bool = False,
) -> dict[str, str]:
    """Each model's compiled SQL, compiled against ``warehouse`` (relations exist as built)."""
    env = {**os.environ, "SALESOPS_WAREHOUSE": str(warehouse)}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    command = [str(DBT), "compile", "--quiet", "-s", *models, "--project-dir", str(project)]
    command += ["--profiles-dir", str(project), "--target-path", str(target)]
    command += ["--vars", json.dumps(dbt_vars)] + (["--full-refresh"] if full_refresh else [])
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        output = done.stdout[-3000:] + done.stderr[-3000:]
        raise SystemExit(f"dbt compile failed in {project}:\n{output}")
    compiled = {}
    for model in models:
        found = list((target / "compiled").rglob(f"{model}.sql"))
        if len(found) != 1:
            raise SystemExit(f"{model}: {len(found)} compiled files under {target}, not one")
        compiled[model] = found[0].read_text()
    return compiled


def timed(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> float:
    con.execute(f"drop table if exists {table}")
    started = time.perf_counter()
    con.execute(f"create temp table {table} as {sql}")
    return time.perf_counter() - started


def compare(
    con: duckdb.DuckDBPyConnection, model: str, old: str, new: str, repeat: int, digits: int
) -> dict:
    times: dict[str, list[float]] = {"old": [], "new": []}
    for turn in range(repeat):
        sides = ("old", "new") if turn % 2 == 0 else ("new", "old")
        for side in sides:
            times[side].append(timed(con, side, old if side == "old" else new))

    def count(sql: str) -> int:
        return con.execute(f"select count(*) from ({sql})").fetchone()[0]

    # floating-point columns compared to `digits` places: a sum or mean taken in another order
    # moves the last bits, not the figure
    columns = ", ".join(
        f'round("{name}", {digits})' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
        for name, kind, *_ in con.execute("describe old").fetchall()
    )
    return {
        "model": model,
        "old_s": statistics.median(times["old"]),
        "new_s": statistics.median(times["new"]),
        "old_rows": count("select * from old"),
        "new_rows": count("select * from new"),
        "only_old": count(f"select {columns} from old except all select {columns} from new"),
        "only_new": count(f"select {columns} from new except all select {columns} from old"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--old", required=True, help="commit of the SQL before")
    parser.add_argument("--new", help="commit of the SQL after (default: the working tree)")
    parser.add_argument("--warehouse", required=True, type=Path, help="a built warehouse file")
    parser.add_argument("--as-of", help="the dbt var as_of (default: the project's)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads for the queries")
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="compile incremental models as for a full build (default: their incremental step)",
    )
    parser.add_argument(
        "--digits", type=int, default=9, help="decimal places floating-point columns agree to"
    )
    args = parser.parse_args()
    if not args.warehouse.is_file():
        raise SystemExit(f"{args.warehouse}: no such warehouse file")
    dbt_vars = {"as_of": args.as_of} if args.as_of else {}

    with tempfile.TemporaryDirectory(prefix="model_rewrite_") as tmp:
        work = Path(tmp)
        # compiled SQL names the database after the file: the copy keeps the file's name
        (work / "db").mkdir()
        warehouse = work / "db" / args.warehouse.name
        shutil.copyfile(args.warehouse, warehouse)
        sql = {}
        for side, commit in (("old", args.old), ("new", args.new)):
            project = project_at(commit, work / f"src_{side}")
            target = work / f"target_{side}"
            sql[side] = compile_models(
                project, args.models, warehouse, target, dbt_vars, args.full_refresh
            )
        con = duckdb.connect(str(warehouse), read_only=True)
        con.execute(f"set threads = {args.threads}")
        results = [
            compare(con, m, sql["old"][m], sql["new"][m], args.repeat, args.digits)
            for m in args.models
        ]
        con.close()

    new = args.new or "the working tree"
    print(f"old {args.old} vs new {new}, on {args.warehouse}, median of {args.repeat}")
    print()
    print("| model | old s | new s | new ÷ old | rows old | rows new | only old | only new |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        ratio = r["new_s"] / r["old_s"] if r["old_s"] else float("nan")
        print(
            f"| {r['model']} | {r['old_s']:.2f} | {r['new_s']:.2f} | {ratio:.2f} | "
            f"{r['old_rows']} | {r['new_rows']} | {r['only_old']} | {r['only_new']} |"
        )
    differ = [r["model"] for r in results if r["only_old"] or r["only_new"]]
    if differ:
        print(f"\nrows differ: {', '.join(differ)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
