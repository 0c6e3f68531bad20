"""The Great Expectations suites on Spark DataFrames (GX's Spark datasource): the demo org's
tables put on a local Spark session, every suite validated there finds what it finds on
DuckDB, expectation by expectation."""

from __future__ import annotations

import re

import pytest

from expectations import runner
from salesops import spark

pytest.importorskip("pyspark")


def _reads() -> list[tuple[str, str]]:
    """(schema, name) of every model a suite's QUERY reads."""
    names = set()
    for name in runner.suite_names():
        query = getattr(runner.suite_module(name), "QUERY", "")
        names |= set(re.findall(r"\{(\w+)\}", query)) - {"as_of_end"}
    return [("staging" if n.startswith("stg_") else "marts", n) for n in sorted(names)]


def _outcomes(summaries: list[runner.ValidationSummary]) -> dict:
    return {
        s.suite: (
            s.rows,
            s.failed,
            [
                (o.expectation, o.column, o.rule, o.success, o.unexpected_count, sorted(o.records))
                for o in s.outcomes
            ],
        )
        for s in summaries
    }


def test_every_suite_finds_the_same_on_spark_dataframes(demo_run, tmp_path):
    cfg = demo_run.config
    spark_dir = tmp_path / "spark"
    assert spark.load_raw(cfg.warehouse, spark_dir, _reads()) == len(_reads())
    on_duckdb = runner.validate_all(cfg.warehouse, as_of=cfg.as_of, timezone=cfg.timezone)
    on_spark = runner.validate_all(
        cfg.warehouse, as_of=cfg.as_of, timezone=cfg.timezone, spark_dir=spark_dir
    )
    assert _outcomes(on_spark) == _outcomes(on_duckdb)
    # the comparison has findings to agree on: the demo org's planted anomalies fail suites
    assert any(not s.success for s in on_spark)
    assert all(s.evaluated > 0 for s in on_spark)
