"""Every incremental mart, after each day appended and run on its own, equals a full rebuild
of the same warehouse, row for row (the benchmark's twin check, for every incremental model
and every day; floats to 1e-9 relative): the models are found in dbt's manifest, whatever
they are. One day also carries a task logged late, a lead edited, a lead and a task deleted,
a lead converted so that a WeCom customer resolves to the new contact instead, and a call
logged late on a deal closed in an earlier month (the win model's fit of the months after
it) whose note, words no other text says, is rewritten the next day (an edited note reaches
the chat-risk signals), when another note holding a keyword is deleted (its keywords and
signals go). The days' new WeCom messages bring keywords the scan of new texts finds. The
changes' day also carries a task whose subject shows a scored lead behaviour, which the next
day moves to another lead, and a WeCom customer whose saved mobile is edited the next day to
another lead's (the lead scores' WeCom signals move with it)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from devkit.demo.generate import append_day, generate
from devkit.demo.serve import served_sources
from devkit.demo.variants import _read_csv, _write_csv
from devkit.demo.writers import CONTACT_EVENTS_DIR
from devkit.standins.wecom import contact_event, store_contact_events
from orchestration import runner
from tests.support.config import write_config
from tests.support.crm_changes import (
    _stamp,
    _task_like,
    delete_note,
    plant_crm_changes,
    rewrite_note,
)
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


def parse_lines(work_dir: Path) -> list[str]:
    """What the newest dbt build under ``work_dir`` logged about parsing the project."""
    newest = max((work_dir / ".dbt").glob("dbt_models-*"), key=lambda p: p.stat().st_mtime)
    return [
        line
        for line in (newest / "dbt.log").read_text(encoding="utf-8").splitlines()
        if "partial parsing" in line.lower()
    ]


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


def open_leads_without(
    warehouse: Path,
    behavior: str,
    now: datetime,
    order: str = "asc",
    besides: tuple[str, ...] = (),
    without_wecom: bool = False,
) -> list[str]:
    """Open, unconverted leads created two days before ``now`` or earlier that do not show
    ``behavior`` (fct_lead_behaviors), but ``besides``; with ``without_wecom``, only those whose
    mobile no WeCom customer was saved with. Ordered by lead id (``order``)."""
    conditions = [
        "not leads.is_deleted",
        "not leads.is_converted",
        f"leads.created_at < timestamptz '{now - timedelta(days=2):%Y-%m-%d %H:%M:%S}+00'",
        "leads.lead_id not in (select behaviors.lead_id from marts.fct_lead_behaviors as "
        f"behaviors where behaviors.behavior = '{behavior}')",
    ]
    if besides:
        conditions.append(f"leads.lead_id not in ({', '.join(repr(b) for b in besides)})")
    if without_wecom:
        conditions.append(
            "leads.mobile_phone_hash not in (select contacts.mobile_phone_hash from "
            "staging.stg_wecom__external_contacts as contacts "
            "where contacts.mobile_phone_hash is not null)"
        )
    sql = (
        "select leads.lead_id from staging.stg_crm__leads as leads where "
        + " and ".join(conditions)
        + f" order by 1 {order}"
    )
    return [row[0] for row in query_file(warehouse, sql)]


def plant_scored_task(src: Path, warehouse: Path, day: date) -> dict[str, str]:
    """A task logged ``day`` (dated the day before) whose subject holds the keyword of the
    scoring sheet's first CRM-activity behaviour, on an open lead without that behaviour;
    written into ``src/crm_export``. Returns the task's record."""
    now = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
    behavior, keyword = query_file(
        warehouse,
        "select behavior, match_value from staging.stg_sheets__scoring_behaviors "
        "where signal_type = 'crm_activity' order by behavior limit 1",
    )[0]
    lead = open_leads_without(warehouse, behavior, now, order="desc")[0]
    export = src / "crm_export"
    fields, tasks = _read_csv(export / "Task.csv")
    template = next(t for t in tasks if t["WhoId"].startswith("00Q") and t["IsClosed"] == "true")
    task = _task_like(
        template, "ZZX", now - timedelta(days=1), now, WhoId=lead, Subject=f"客户{keyword}"
    )
    tasks.append(task)
    _write_csv(export / "Task.csv", fields, tasks)
    return {**task, "behavior": behavior}


def plant_behavior_changes(
    src: Path, warehouse: Path, day: date, scored_task: dict[str, str]
) -> dict[str, str]:
    """Stamped ``day``: the WeCom customer of a lead that replied on WeCom (its only customer)
    has its saved mobile edited to a lead's no customer had (an ``edit_external_contact``
    event), and ``scored_task`` (of ``plant_scored_task``) moves to another lead."""
    now = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
    replied_lead, customer = query_file(
        warehouse,
        """
        select behaviors.lead_id, min(contacts.external_userid)
        from marts.fct_lead_behaviors as behaviors
        inner join staging.stg_crm__leads as leads on behaviors.lead_id = leads.lead_id
        inner join staging.stg_wecom__external_contacts as contacts
            on leads.mobile_phone_hash = contacts.mobile_phone_hash
        where behaviors.signal_type = 'wecom_reply'
        group by behaviors.lead_id
        having count(distinct contacts.external_userid) = 1
        order by 1
        limit 1
        """,
    )[0]
    # open leads no WeCom customer resolves to, without the scored task's behaviour
    candidates = open_leads_without(
        warehouse,
        scored_task["behavior"],
        now,
        besides=(replied_lead, scored_task["WhoId"]),
        without_wecom=True,
    )
    export = src / "crm_export"
    mobiles = {lead["Id"]: lead["MobilePhone"] for lead in _read_csv(export / "Lead.csv")[1]}
    new_lead = next(lead_id for lead_id in candidates if mobiles.get(lead_id))
    task_to = next(lead_id for lead_id in candidates if lead_id != new_lead)

    wecom = src / "wecom"
    lines = (wecom / "contacts.jsonl").read_text(encoding="utf-8").splitlines()
    edited, events = [], []
    for line in lines:
        contact = json.loads(line)
        if contact["external_contact"]["external_userid"] == customer:
            contact["follow_info"]["remark_mobiles"] = [mobiles[new_lead]]
            events.append(
                contact_event(
                    "edit_external_contact",
                    contact["follow_info"]["userid"],
                    customer,
                    int(now.timestamp()),
                    "wwdemo",
                )
            )
        edited.append(json.dumps(contact, ensure_ascii=False))
    (wecom / "contacts.jsonl").write_text("\n".join(edited) + "\n", encoding="utf-8")
    store_contact_events(wecom / CONTACT_EVENTS_DIR, events)

    # the day's export no longer carries the task: it is written again, on the other lead
    fields, tasks = _read_csv(export / "Task.csv")
    tasks = [t for t in tasks if t["Id"] != scored_task["Id"]]
    moved = {**scored_task, "WhoId": task_to}
    moved.update(LastModifiedDate=_stamp(now), SystemModstamp=_stamp(now))
    tasks.append({k: v for k, v in moved.items() if k in fields})
    _write_csv(export / "Task.csv", fields, tasks)
    return {
        "customer": customer,
        "replied_lead": replied_lead,
        "new_lead": new_lead,
        "task_from": scored_task["WhoId"],
        "task_to": task_to,
        "behavior": scored_task["behavior"],
    }


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
        # the signals whose lead behaviour rows the daily runs wrote (new, moved or gone)
        behaviors_written: set[str] = set()
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
                scored_task = plant_scored_task(src, warehouse, as_of)
            if day == CHANGES_DAY + 1:
                rewrite_note(
                    src, changes, f"客户说预算不足，可能延期（{changes.late_deal}）", as_of
                )
                deleted_note = a_note_with_a_signal(warehouse, changes.late_deal_task)
                assert text_keywords(warehouse, f"text_id = '{deleted_note}'")
                delete_note(src, deleted_note, as_of)
                moved = plant_behavior_changes(src, warehouse, as_of, scored_task)
            behaviors_before = set(rows(warehouse, "marts.fct_lead_behaviors"))
            daily = runner.run(
                write_config(tmp_path, warehouse, sections, as_of),
                exclude_groups=("bi",),
                echo=quiet,
            )
            assert daily.success, daily.errors
            # a new as-of day reuses the parse of the day before (the day is not a dbt var)
            parsing = parse_lines(tmp_path)
            assert any("Partial parsing enabled" in line for line in parsing), parsing
            assert not any("Unable to do partial parsing" in line for line in parsing), parsing
            # and the models are as of the new day all the same
            assert query_file(
                warehouse, "select max(pipeline_date) from marts.fct_pipeline_daily"
            ) == [(as_of,)]
            new_wecom_keywords += len(
                text_keywords(warehouse, f"text_source = 'wecom' and text_seq > {scanned_seq}")
            )
            behaviors_written |= {
                row[3]
                for row in behaviors_before ^ set(rows(warehouse, "marts.fct_lead_behaviors"))
            }
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
                # the task logged today scores for its lead
                assert query_file(
                    warehouse,
                    "select 1 from marts.fct_lead_behaviors where lead_id = "
                    f"'{scored_task['WhoId']}' and behavior = '{scored_task['behavior']}'",
                )
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
                assert "预算不足" in planted_state(warehouse, changes)["late_deal_signals"]
                # the edited customer's messages score for the lead with its new mobile, the
                # moved task's behaviour for the lead it moved to
                scored = query_file(
                    warehouse,
                    "select lead_id, behavior, wecom_contacts from marts.fct_lead_behaviors "
                    f"where lead_id in ('{moved['new_lead']}', '{moved['replied_lead']}', "
                    f"'{moved['task_to']}')",
                )
                assert (moved["new_lead"], "客户回复消息", moved["customer"]) in scored
                assert all(
                    moved["customer"] not in (contacts or "")
                    for lead_id, _, contacts in scored
                    if lead_id == moved["replied_lead"]
                )
                assert (moved["task_to"], moved["behavior"]) in {r[:2] for r in scored}
                assert not query_file(
                    warehouse,
                    "select 1 from marts.fct_lead_behaviors "
                    f"where lead_id = '{moved['task_from']}' and behavior = '{moved['behavior']}'",
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
    # the days exercised what moves a lead's behaviours: a task on the lead, a WeCom reply, a
    # rep's message left unanswered past its window
    assert {"crm_activity", "wecom_reply", "no_reply_days"} <= behaviors_written
