"""The Spark benchmark's projection: each engine's build as a fixed part plus a part per raw
row through two measured scales, and where Spark on a cluster would overtake one DuckDB
machine."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import bench_spark  # noqa: E402


def run(rows: int, duck_build: float, spark_build: float) -> dict:
    def engine(build: float) -> dict:
        return {
            "dbt_parts": {"dbt build": build},
            "model_seconds": build / 2,
            "models": 100,
            "peak_rss_mb_max": 1000.0 + rows / 1000,
        }

    return {"raw_rows": rows, "duckdb": engine(duck_build), "spark": engine(spark_build)}


def test_growth_and_crossover_follow_the_measured_lines():
    # DuckDB: 20 s + 4 s per million rows; Spark: 200 s + 40 s per million rows
    small = run(100_000, 20 + 0.4, 200 + 4)
    large = run(10_000_000, 20 + 40, 200 + 400)
    fits = bench_spark.growth(small, large)
    assert fits["duckdb"]["build_fixed"] == pytest.approx(20)
    assert fits["duckdb"]["build_per_row"] == pytest.approx(4e-6)
    assert fits["spark"]["build_fixed"] == pytest.approx(200)
    assert fits["spark"]["model_fixed"] == pytest.approx(1.0)  # 100 s over 100 models
    assert fits["spark"]["k_build"] == pytest.approx(math.log(600 / 204) / math.log(100))
    # 16 nodes: 200 + 2.5 s/M against 20 + 4 s/M -> equal at 120M rows
    assert bench_spark.crossover(fits, 16) == pytest.approx(120e6)
    # 8 nodes: Spark's per-row part (5 s/M) still above DuckDB's: never
    assert bench_spark.crossover(fits, 8) is None
