"""On a local Spark session with the demo org's tables: the Great Expectations suites validate
Spark DataFrames (GX's Spark datasource) and find what they find on DuckDB, expectation by
expectation; the win model fitted from Spark's features has DuckDB's coefficients."""

from __future__ import annotations

import math
import re

import duckdb
import pytest

from expectations import runner
from salesops import spark, win_model

pytest.importorskip("pyspark")


def _tables() -> list[tuple[str, str]]:
    """(schema, name) of every model a suite's QUERY reads, and the win model's inputs."""
    names = set()
    for name in runner.suite_names():
        query = getattr(runner.suite_module(name), "QUERY", "")
        names |= set(re.findall(r"\{(\w+)\}", query)) - {"as_of_end"}
    reads = {("staging" if n.startswith("stg_") else "marts", n) for n in names}
    return sorted(reads | {win_model.FEATURES, win_model.SETTINGS})


@pytest.fixture(scope="module")
def spark_dir(demo_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("spark")
    assert spark.load_raw(demo_run.config.warehouse, path, _tables()) == len(_tables())
    return path


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


def test_every_suite_finds_the_same_on_spark_dataframes(demo_run, spark_dir):
    cfg = demo_run.config
    on_duckdb = runner.validate_all(cfg.warehouse, as_of=cfg.as_of, timezone=cfg.timezone)
    on_spark = runner.validate_all(
        cfg.warehouse, as_of=cfg.as_of, timezone=cfg.timezone, spark_dir=spark_dir
    )
    assert _outcomes(on_spark) == _outcomes(on_duckdb)
    # the comparison has findings to agree on: the demo org's planted anomalies fail suites
    assert any(not s.success for s in on_spark)
    assert all(s.evaluated > 0 for s in on_spark)


def _fit_rows(spark_session) -> list[tuple]:
    table = f"`{win_model.FIT_SCHEMA}`.`{win_model.FIT_TABLE}`"
    return [tuple(r) for r in spark_session.table(table).collect()]


def test_the_win_model_fitted_on_spark_has_duckdbs_coefficients(demo_run, spark_dir):
    rows = spark.fit_win_model(spark_dir)
    on_spark = {
        (month, feature, stage): (coefficient, closed, won, trained)
        for month, feature, stage, coefficient, closed, won, _rows, trained, _l2, _hash in (
            spark.run_in_session(_fit_rows, spark_dir)
        )
    }
    with duckdb.connect(str(demo_run.config.warehouse), read_only=True) as con:
        built = con.execute(
            "select model_month, feature, stage, coefficient, closed_deals, won_deals, "
            "is_trained from marts.fct_win_model_coefficients"
        ).fetchall()
    assert rows == len(built) == len(on_spark)
    assert sum(trained for *_, trained in built) > 0  # months with a model to compare
    for month, feature, stage, coefficient, closed, won, trained in built:
        got = on_spark[(month, feature, stage)]
        assert got[1:] == (closed, won, trained), (month, feature, stage)
        if coefficient is None:
            assert got[0] is None
        else:
            assert math.isclose(got[0], coefficient, rel_tol=1e-9, abs_tol=1e-9), (month, feature)
