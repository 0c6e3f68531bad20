"""dq_findings is incremental: a daily run re-examines what changed (with each rule's evidence
window) and what was flagged before. A finding whose cause is fixed in a later day's data goes;
a record arriving later than ``late_arriving_days`` waits for the periodic full rebuild, which
the runner makes every ``runs.models_full_every_days``."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb

from orchestration import runner
from orchestration.buildplan import last_full_build, save_full_build
from tests.support.config import write_config
from tests.support.dbt import dbt_run


def findings(warehouse) -> dict[str, tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            r[0]: r[1:]
            for r in con.execute(
                "select finding_id, rule, record_id, details, detected_at from marts.dq_findings"
            ).fetchall()
        }
    finally:
        con.close()


def test_a_finding_goes_when_its_cause_is_fixed_the_next_day(demo_run, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_run.config.warehouse, warehouse)
    day = demo_run.config.as_of + timedelta(days=1)
    stamp = datetime(day.year, day.month, day.day, 2, tzinfo=UTC)
    before = findings(warehouse)
    con = duckdb.connect(str(warehouse))
    # a short visit lengthened, and a stage's missing evidence filed, in the next day's data
    (short,) = con.execute(
        "select record_id from marts.dq_findings where rule = 'short_visit' "
        "order by record_id limit 1"
    ).fetchone()
    con.execute(
        "update raw_crm.events set end_date_time = start_date_time + interval 1 hour, "
        "system_modstamp = ? where id = ?",
        [stamp, short],
    )
    opportunity, evidence = con.execute("""
        select details ->> 'opportunity_id', details ->> 'required_evidence'
        from marts.dq_findings where rule = 'stage_without_evidence'
        order by record_id limit 1
    """).fetchone()  # fmt: skip
    con.execute(
        "insert into raw_crm.content_versions by name select * replace "
        "('FIXED-EVIDENCE' as id, ? as first_publish_location_id, ? as evidence_type_c, "
        "false as is_deleted, ? as created_date) from raw_crm.content_versions limit 1",
        [opportunity, evidence, stamp],
    )
    con.close()
    fixed = {
        finding_id
        for finding_id, (rule, record_id, details, _) in before.items()
        if (rule, record_id) == ("short_visit", short)
        or (
            rule == "stage_without_evidence"
            and json.loads(details)["opportunity_id"] == opportunity
            and json.loads(details)["required_evidence"] == evidence
        )
    }
    assert len(fixed) >= 2

    dbt_run(warehouse, day, "dq_findings", tmp_path / "target")
    daily = findings(warehouse)
    assert daily.keys() == before.keys() - fixed
    assert len({row[3] for row in daily.values()}) == 1  # every finding as of the new day
    # the same findings as a rebuild from all history
    dbt_run(warehouse, day, "dq_findings", tmp_path / "target", full_refresh=True)
    assert findings(warehouse) == daily


def test_a_record_later_than_the_window_is_found_by_the_weekly_full_rebuild(
    demo_run, tmp_path, monkeypatch
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_run.config.warehouse, warehouse)
    day = demo_run.config.as_of + timedelta(days=1)
    # a 10-second visit logged ten days ago (late_arriving_days is 3) reaches us only today
    logged = datetime(day.year, day.month, day.day, 2, tzinfo=UTC) - timedelta(days=10)
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into raw_crm.events by name select * replace ('LATE-VISIT' as id, "
        "? as created_date, ? as system_modstamp, ? as start_date_time, "
        "? + interval 10 second as end_date_time, false as is_deleted, "
        "null as who_id, null as what_id) "
        "from raw_crm.events where type = '拜访' limit 1",
        [logged, logged, logged, logged],
    )
    con.close()
    config = write_config(tmp_path, warehouse, {}, day, runs={"models_full_every_days": 7})
    late = "short_visit:LATE-VISIT"

    # a full build two days ago: the daily run re-examines only its window
    save_full_build(warehouse, datetime.now(UTC) - timedelta(days=2))
    outcome = runner.run(config, asset_keys=[dg.AssetKey("dq_findings")], echo=lambda _m: None)
    assert outcome.steps and all(s == "ok" for k, s in outcome.steps.items() if "dbt" in k)
    assert late not in findings(warehouse)

    # the last full build a week old: the run rebuilds from all history and finds it
    save_full_build(warehouse, datetime.now(UTC) - timedelta(days=7, hours=1))
    started = datetime.now(UTC)
    outcome = runner.run(config, asset_keys=[dg.AssetKey("dq_findings")], echo=lambda _m: None)
    assert outcome.steps and all(s == "ok" for k, s in outcome.steps.items() if "dbt" in k)
    assert late in findings(warehouse)
    assert last_full_build(warehouse) >= started
