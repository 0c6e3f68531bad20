"""Every incremental mart, after each day appended and run on its own, equals a full rebuild
of the same warehouse, row for row (the benchmark's twin check, for every incremental model
and every day; floats to 1e-9 relative): the models are found in dbt's manifest, whatever
they are. One day also carries a task logged late, a lead edited, a lead and a task deleted,
a lead converted so that a WeCom customer resolves to the new contact instead, and a call
logged late on a deal closed in an earlier month (the win model's fit of the months after
it) whose note, words no other text says, is rewritten the next day (an edited note reaches
the chat-risk signals), when another note holding a keyword is deleted (its keywords and
signals go). The days' new WeCom messages bring keywords the scan of new texts finds."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from devkit.demo.generate import append_day, generate
from devkit.demo.serve import served_sources
from orchestration import runner
from tests.support.config import write_config
from tests.support.crm_changes import delete_note, plant_crm_changes, rewrite_note
from tests.support.rows import same_rows
from tests.support.warehouse import query_file

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 20)
DAYS = 3
# the day the CRM export also carries the changes of tests/support/crm_changes.py
CHANGES_DAY = 2
# a log of the runs (one row per run and metric), not a function of the sources: a rebuild
# starts it afresh by design
NOT_TWINS = {"fct_metric_shares"}


def incremental_models() -> dict[str, str]:
    """Model name -> its relation (``schema.table``)."""
    manifest = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    return {
        node["name"]: f"{node['schema']}.{node.get('alias') or node['name']}"
        for node in sorted(manifest["nodes"].values(), key=lambda n: n["name"])
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "incremental"
        and node["name"] not in NOT_TWINS
    }


def rows(warehouse: Path, relation: str) -> list[tuple]:
    return query_file(warehouse, f"select * from {relation} order by all")


def planted_state(warehouse: Path, changes) -> dict[str, object]:
    """What the marts say about the records the planted changes touch."""

    def one(model: str, column: str, where: str):
        found = [r[0] for r in query_file(warehouse, f"select {column} from marts.{model} {where}")]
        return found[0] if found else None

    return {
        "wecom_match": one(
            "fct_identity_links",
            "matched_by",
            f"where link_id = 'wecom_contact>crm_person:{changes.wecom_contact}'",
        ),
        "deleted_lead": one(
            "fct_lead_response", "lead_id", f"where lead_id = '{changes.deleted_lead}'"
        ),
        "late_first_touch": one(
            "fct_lead_response", "first_touch_at", f"where lead_id = '{changes.late_task_lead}'"
        ),
        "deleted_task": one(
            "fct_activities", "is_deleted", f"where activity_id = '{changes.deleted_task}'"
        ),
        "late_deal_signals": sorted(
            r[0]
            for r in query_file(
                warehouse,
                "select keyword from marts.rpt_chat_risk_signals "
                f"where text_id = '{changes.late_deal_task}'",
            )
        ),
        "late_deal_activities": one(
            "fct_win_features",
            "sum(activities_recent)",
            f"where opportunity_id = '{changes.late_deal}'",
        ),
    }


def text_keywords(warehouse: Path, where: str) -> list[tuple]:
    """Rows of the scan of texts for dictionary keywords: (text_source, text_id, keyword)."""
    return query_file(
        warehouse,
        "select text_source, text_id, keyword from intermediate.int_customer_text_keywords "
        f"where {where} order by all",
    )


def a_note_with_a_signal(warehouse: Path, besides: str) -> str:
    """A CRM task note (not ``besides``) holding a keyword the chat-risk page shows."""
    found = query_file(
        warehouse,
        "select min(text_id) from marts.rpt_chat_risk_signals "
        "where text_source = 'crm_note' and text_id like '00T%' and text_id <> ?",
        (besides,),
    )
    assert found[0][0], "no CRM task note with a chat-risk signal to delete"
    return found[0][0]


def test_each_incremental_mart_equals_a_full_rebuild_day_after_day(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    src = tmp_path / "sources"
    through = AS_OF - timedelta(days=DAYS)
    generate(src, seed=5, scale="XS", as_of=AS_OF, through=through)
    models = incremental_models()
    assert {
        "fct_activities",
        "fct_identity_links",
        "fct_lead_response",
        "fct_pipeline_daily",
        "fct_stage_history",
        "win_model_fit",
    } <= set(models)
    warehouse = tmp_path / "daily.duckdb"
    quiet = lambda _m: None  # noqa: E731
    with served_sources(src, AS_OF, crm="export") as sections:
        first = write_config(tmp_path, warehouse, sections, through)
        outcome = runner.run(first, exclude_groups=("bi",), echo=quiet)
        assert outcome.success, outcome.errors
        compared = 0
        new_wecom_keywords = 0
        for day in range(1, DAYS + 1):
            append_day(src)
            as_of = through + timedelta(days=day)
            scanned_seq = query_file(
                warehouse,
                "select coalesce(max(text_seq), 0) from intermediate.int_customer_text_keywords",
            )[0][0]
            if day == CHANGES_DAY:
                changes = plant_crm_changes(src, as_of)
                before = planted_state(warehouse, changes)
            if day == CHANGES_DAY + 1:
                rewrite_note(
                    src, changes, f"客户说预算不足，可能延期（{changes.late_deal}）", as_of
                )
                deleted_note = a_note_with_a_signal(warehouse, changes.late_deal_task)
                assert text_keywords(warehouse, f"text_id = '{deleted_note}'")
                delete_note(src, deleted_note, as_of)
            daily = runner.run(
                write_config(tmp_path, warehouse, sections, as_of),
                exclude_groups=("bi",),
                echo=quiet,
            )
            assert daily.success, daily.errors
            new_wecom_keywords += len(
                text_keywords(warehouse, f"text_source = 'wecom' and text_seq > {scanned_seq}")
            )
            if day == CHANGES_DAY:
                # the changes reached the marts the daily run updated
                after = planted_state(warehouse, changes)
                assert (before["wecom_match"], after["wecom_match"]) == (
                    "phone:lead",
                    "phone:contact",
                )
                assert (before["deleted_lead"], after["deleted_lead"]) == (
                    changes.deleted_lead,
                    None,
                )
                assert before["late_first_touch"] != changes.late_task_at
                assert after["late_first_touch"] == changes.late_task_at
                assert (before["deleted_task"], after["deleted_task"]) == (False, True)
                # the late call counts in the closed deal's training rows
                assert after["late_deal_activities"] > (before["late_deal_activities"] or 0)
                assert before["late_deal_signals"] == []
                assert "比你们低" in after["late_deal_signals"]
            if day == CHANGES_DAY + 1:
                # the edited note's words are found, those it no longer says are gone
                signals = planted_state(warehouse, changes)["late_deal_signals"]
                assert "预算不足" in signals and "比你们低" not in signals
                assert [
                    k for *_, k in text_keywords(warehouse, f"text_id = '{changes.late_deal_task}'")
                ] == ["可能", "延期", "预算不足"]
                # the deleted note's keywords and signals are gone
                assert text_keywords(warehouse, f"text_id = '{deleted_note}'") == []
                assert not query_file(
                    warehouse,
                    "select 1 from marts.rpt_chat_risk_signals where text_id = ?",
                    (deleted_note,),
                )
            twin = tmp_path / f"rebuilt{day}.duckdb"
            shutil.copy(warehouse, twin)
            # the daily run has just rebuilt every table the incremental marts read: rebuilding
            # the marts themselves from all history is a full rebuild of them
            rebuilt = runner.run(
                write_config(tmp_path, twin, sections, as_of),
                asset_keys=[dg.AssetKey([model]) for model in models],
                full_refresh=True,
                echo=quiet,
            )
            assert rebuilt.success, rebuilt.errors
            for model, relation in models.items():
                got, want = rows(warehouse, relation), rows(twin, relation)
                assert len(got) == len(want) > 0, (day, model)
                assert same_rows(got, want), (day, model, set(got) ^ set(want))
                compared += 1
    assert compared == DAYS * len(models)
    # the days' new WeCom messages held keywords, found by scanning only them
    assert new_wecom_keywords > 0
