"""Backfills: the daily mart recomputed for a range equals a full run, row by row;
re-running a day changes nothing."""

from __future__ import annotations

import duckdb

from orchestration import cli, runner

FIRST, LAST = "2026-08-20", "2026-11-17"  # 90 days


def _rows(wh, where: str = "true") -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(
            f"select * from marts.fct_pipeline_daily where {where} order by all"
        ).fetchall()
    finally:
        con.close()


def _forecast(wh) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute("select * from marts.rpt_forecast_vs_actual order by all").fetchall()
    finally:
        con.close()


def test_a_90_day_backfill_equals_the_full_run_and_reruns_change_nothing(demo_run, tmp_path):
    path = demo_run.on_a_copy(tmp_path)
    wh = tmp_path / "warehouse.duckdb"

    window = f"pipeline_date between '{FIRST}' and '{LAST}'"
    full_all, full_window, forecast = _rows(wh), _rows(wh, window), _forecast(wh)
    assert len({r[0] for r in full_window}) == 90 and len(full_window) > 1000

    con = duckdb.connect(str(wh))
    con.execute(f"delete from marts.fct_pipeline_daily where {window}")
    con.execute("delete from marts.rpt_forecast_vs_actual")
    con.close()
    outcome = runner.backfill(path, FIRST, LAST, echo=lambda _m: None)
    assert outcome.success, outcome.errors
    assert "dbt_models" in outcome.steps and "ingest_crm" not in outcome.steps
    assert _rows(wh) == full_all
    assert _forecast(wh) == forecast  # and what reads it is rebuilt the same

    outcome = runner.backfill(path, "2026-10-08", "2026-10-08", echo=lambda _m: None)
    assert outcome.success, outcome.errors
    assert _rows(wh) == full_all


def test_the_backfill_command_checks_its_range(demo_run, capsys):
    code = cli.main(
        ["backfill", "--config", str(demo_run.config_path), "--from", LAST, "--to", FIRST]
    )
    assert code == 2 and "before" in capsys.readouterr().out
