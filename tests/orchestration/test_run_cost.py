"""What a run costs when little is new: a run with nothing new loads and builds nothing (no
source is read again past its stamp, dbt and the checks do not run, and the run says so), yet
every changed row loads; a changed keyword sheet rebuilds the activity timeline from all
history in the next run, as a full refresh would."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import openpyxl
import pytest

from devkit.demo.serve import served_sources
from orchestration import runner
from tests.support.config import write_config
from tests.support.warehouse import query_file

pytestmark = pytest.mark.slow
AS_OF = date(2026, 11, 20)


def copy_of(run, root: Path) -> tuple[Path, Path]:
    """The run's warehouse, dlt state and spreadsheets, copied into ``root``."""
    shutil.copy(run.config.warehouse, root / "warehouse.duckdb")
    shutil.copytree(run.config.pipelines_dir, root / ".dlt_pipelines")
    shutil.copytree(run.sources / "sheets", root / "sheets")
    return root / "warehouse.duckdb", root / "sheets"


def org_config(root: Path, warehouse: Path, sections: dict, sheets: Path) -> Path:
    """The org's configuration with its spreadsheets read from ``sheets``."""
    return write_config(root, warehouse, {**sections, "sheets": {"dir": str(sheets)}}, AS_OF)


def drop_keyword(workbook: Path, keyword: str) -> None:
    wb = openpyxl.load_workbook(workbook)
    ws = wb["有效动作"]
    for row in range(ws.max_row, 1, -1):
        if str(ws.cell(row, 1).value).strip() == keyword:
            ws.delete_rows(row)
    wb.save(workbook)


def test_nothing_new_builds_nothing_and_a_keyword_change_refreshes(
    clean_org_run, tmp_path, monkeypatch
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    warehouse, sheets = copy_of(clean_org_run, tmp_path)
    reports = "select count(*) from raw_sheets.sheet_load_report"
    timeline = "select * from marts.fct_activities order by all"
    loaded_before = query_file(warehouse, reports)
    activities_before = query_file(warehouse, timeline)
    lines: list[str] = []
    with served_sources(clean_org_run.sources, AS_OF, crm="export") as sections:
        config = org_config(tmp_path, warehouse, sections, sheets)

        runs = len(dg.DagsterInstance.get().get_run_records())
        rerun = runner.run(config, exclude_groups=("bi",), echo=lines.append)
        assert rerun.success, rerun.errors
        assert rerun.build_note and rerun.build_note.startswith("nothing new"), rerun.build_note
        # no source loaded, no dbt test and no GX suite ran: not a Dagster run was launched
        assert sorted(rerun.unchanged_sources) == ["crm", "sheets", "u8", "wecom"]
        assert rerun.steps == {} and rerun.evaluated_checks == []
        assert len(dg.DagsterInstance.get().get_run_records()) == runs
        assert query_file(warehouse, reports) == loaded_before  # the sheets were not read again
        assert query_file(warehouse, timeline) == activities_before

        # the keyword matching the most substantive activities leaves the dictionary
        keyword = query_file(
            warehouse,
            "select k.keyword from staging.stg_sheets__effective_actions k "
            "join marts.fct_activities a on a.is_substantive "
            "and strpos(lower(a.subject), lower(k.keyword)) > 0 "
            "group by 1 order by count(*) desc, 1 limit 1",
        )[0][0]
        drop_keyword(sheets / "dictionary.xlsx", keyword)
        changed = runner.run(config, exclude_groups=("bi",), echo=lines.append)
        assert changed.success, changed.errors
        assert changed.build_note and "fct_activities" in changed.build_note, changed.build_note
        assert any(c.split(":")[-1].startswith("gx_") for c in changed.evaluated_checks)
        refreshed = query_file(warehouse, timeline)
        assert refreshed != activities_before

        # the same warehouse rebuilt by hand from all history holds the same timeline
        twin = tmp_path / "twin"
        twin.mkdir()
        shutil.copy(warehouse, twin / "twin.duckdb")
        full = runner.run(
            org_config(twin, twin / "twin.duckdb", sections, sheets),
            exclude_groups=("bi",),
            echo=lines.append,
            full_refresh=True,
        )
        assert full.success, full.errors
    assert refreshed == query_file(twin / "twin.duckdb", timeline)


def loads_of(run_id: str) -> dict[str, str]:
    """Source -> what run ``run_id``'s load of it said (``load`` metadata; "loaded" without)."""
    instance = dg.DagsterInstance.get()
    out: dict[str, str] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        event = entry.dagster_event
        source = event.asset_key.path[0]
        load = event.event_specific_data.materialization.metadata.get("load")
        said = load.value.split(":")[0] if load else "loaded"
        out[source] = said if out.get(source, said) == said else "mixed"
    return out


def test_a_source_with_nothing_new_is_not_loaded_and_a_change_always_is(tmp_path, monkeypatch):
    """No dlt pipeline starts for a source whose stamp is the one before its last load; a row
    changed or deleted in U8, a record edited in the CRM export and a check-in on the last day
    each make the next run load their source, and land. (Loads only: no model is built.)"""
    from devkit.demo.generate import generate
    from orchestration.defs.ingest import ingest_assets

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    src = tmp_path / "sources"
    generate(src, seed=21, scale="XS", as_of=AS_OF, anomaly_rate=0.0)  # it has a U8 order
    warehouse = tmp_path / "warehouse.duckdb"
    keys = sorted({k for assets in ingest_assets for k in assets.keys}, key=str)
    with served_sources(src, AS_OF, crm="export") as sections:
        config = org_config(tmp_path, warehouse, sections, src / "sheets")
        first = runner.run(config, asset_keys=keys)
        assert first.success, first.errors
        runs = len(dg.DagsterInstance.get().get_run_records())
        again = runner.run(config, asset_keys=keys)
        assert again.success, again.errors
        # every source left out of the run: no step, no event per raw table, no run at all
        assert sorted(again.unchanged_sources) == ["crm", "sheets", "u8", "wecom"]
        assert again.steps == {} and len(dg.DagsterInstance.get().get_run_records()) == runs

        # U8: an order edited (its rowversion raised) and an order line deleted outright
        u8 = sqlite3.connect(src / "u8" / "UFDATA_001_2026.db")
        order = u8.execute("select min(ID) from SO_SOMain").fetchone()[0]
        line = u8.execute("select max(iSOsID) from SO_SODetails").fetchone()[0]
        assert order is not None and line is not None
        u8.execute(
            "update SO_SOMain set cVerifier = '复核人改', "
            "ufts = (select max(ufts) from SO_SOMain) + 1000 where ID = ?",
            [order],
        )
        u8.execute("delete from SO_SODetails where iSOsID = ?", [line])
        u8.commit()
        u8.close()
        # CRM: a lead edited in the export (a later SystemModstamp)
        leads = src / "crm_export" / "Lead.csv"
        with leads.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        rows[0]["Company"] = "改名后的公司"
        # later than every stamp the export held: past the loader's cursor
        later = f"{AS_OF + timedelta(days=1)}T09:00:00.000Z"
        rows[0]["SystemModstamp"] = rows[0]["LastModifiedDate"] = later
        with leads.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        # WeCom: a field visit checked in on the last day, after the last load
        checkins = src / "wecom" / "checkins.jsonl"
        visit = next(
            json.loads(line)
            for line in checkins.read_text(encoding="utf-8").splitlines()
            if json.loads(line)["checkin_type"] == "外出打卡"
        )
        noon = datetime.combine(AS_OF, time(12, 0), ZoneInfo("Asia/Shanghai"))
        visit.update(checkin_time=int(noon.timestamp()), location_title="迟到的拜访")
        with checkins.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(visit, ensure_ascii=False) + "\n")

        changed = runner.run(config, asset_keys=keys)
        assert changed.success, changed.errors
    assert loads_of(changed.run_id) == {"crm": "loaded", "wecom": "loaded", "u8": "loaded"}
    assert changed.unchanged_sources == ["sheets"] and "ingest_sheets" not in changed.steps
    assert query_file(warehouse, f"select cverifier from raw_u8.so_somain where id = {order}") == [
        ("复核人改",)
    ]
    assert query_file(
        warehouse, f"select count(*) from raw_u8.so_sodetails where isosid = {line}"
    ) == [(0,)]
    lead = query_file(warehouse, f"select company from raw_crm.leads where id = '{rows[0]['Id']}'")
    assert lead == [("改名后的公司",)]
    assert query_file(
        warehouse, "select count(*) from raw_wecom.checkins where location_title = '迟到的拜访'"
    ) == [(1,)]


def rewrite_leads(leads: Path, edit) -> list[dict]:
    """The org's Lead records, ``edit(rows)`` applied, written back (the stand-in serves them)."""
    with leads.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    edit(rows)
    with leads.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def test_the_crm_api_is_loaded_only_when_the_org_changed(tmp_path, monkeypatch):
    """The REST API's stamp (per object its record count and newest cursor value, deleted
    records counted through queryAll): an org with nothing new is not loaded and not one page of
    its records is asked for; a record edited, a record added and a record deleted after the last
    load each make the next run load the CRM, and land."""
    from devkit.demo.generate import generate
    from devkit.standins.salesforce import SalesforceStandIn
    from ingest.crm import settings
    from orchestration.defs.ingest import ingest_assets

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.setenv("SOURCES__CRM__CLIENT_ID", "stamp-client")
    monkeypatch.setenv("SOURCES__CRM__CLIENT_SECRET", "stamp-secret")
    src = tmp_path / "sources"
    generate(src, seed=21, scale="XS", as_of=AS_OF, anomaly_rate=0.0)
    warehouse = tmp_path / "warehouse.duckdb"
    keys = sorted(next(a for a in ingest_assets if a.node_def.name == "ingest_crm").keys, key=str)
    leads = src / "crm_export" / "Lead.csv"
    later = [f"{AS_OF + timedelta(days=1)}T{hour:02d}:00:00.000Z" for hour in (9, 10, 11)]

    def edit(rows):
        rows[0]["Company"] = "改名后的公司"
        rows[0]["SystemModstamp"] = rows[0]["LastModifiedDate"] = later[0]

    def add(rows):
        rows.append({**rows[1], "Id": "00Q000000000NEWAAA", "Company": "新客户"})
        rows[-1]["CreatedDate"] = rows[-1]["SystemModstamp"] = later[1]

    def delete(rows):
        rows[2]["IsDeleted"] = "true"
        rows[2]["SystemModstamp"] = later[2]

    with SalesforceStandIn(
        src / "crm_export", page_size=100, client_id="stamp-client", client_secret="stamp-secret"
    ) as sf:

        def asked(what: str) -> int:  # requests to paths holding ``what``
            return sum(n for path, n in sf.requests.items() if what in path)

        config = write_config(tmp_path, warehouse, {"crm": {"instance_url": sf.base_url}}, AS_OF)
        first = runner.run(config, asset_keys=keys)
        assert first.success, first.errors
        assert first.unchanged_sources == [] and "ingest_crm" in first.steps

        queries, described, pages = len(sf.soql), asked("/describe"), asked("/query/")
        assert pages > 0  # the first load paged (nextRecordsUrl)
        again = runner.run(config, asset_keys=keys)
        assert again.success, again.errors
        assert again.unchanged_sources == ["crm"] and again.steps == {}
        # per object a COUNT() and its newest cursor value: no describe, no page of records
        stamp_queries = sf.soql[queries:]
        assert len(stamp_queries) == 2 * len(settings.OBJECTS), stamp_queries
        assert all(q.startswith("SELECT COUNT() ") or q.endswith(" LIMIT 1") for q in stamp_queries)
        assert (asked("/describe"), asked("/query/")) == (described, pages)

        landed = {}
        for name, change in (("edited", edit), ("added", add), ("deleted", delete)):
            rows = rewrite_leads(leads, change)
            queries = len(sf.soql)
            changed = runner.run(config, asset_keys=keys)
            assert changed.success, changed.errors
            assert changed.unchanged_sources == [], name
            # stamped once, before the run: its load step takes that stamp, not another
            counted = [q for q in sf.soql[queries:] if q.startswith("SELECT COUNT() ")]
            assert len(counted) == len(settings.OBJECTS), (name, counted)
            assert loads_of(changed.run_id)["crm"] == "loaded", name
            landed[name] = query_file(
                warehouse,
                "select company, is_deleted from raw_crm.leads where id = "
                f"'{rows[{'edited': 0, 'added': -1, 'deleted': 2}[name]]['Id']}'",
            )
        quiet = runner.run(config, asset_keys=keys)
        assert quiet.unchanged_sources == ["crm"], "the last load's stamp was kept"
    assert landed["edited"] == [("改名后的公司", False)]
    assert landed["added"] == [("新客户", False)]
    assert landed["deleted"][0][1] is True


def run_events(run_id: str, kind: dg.DagsterEventType) -> list[dg.DagsterEvent]:
    return [e.dagster_event for e in dg.DagsterInstance.get().all_logs(run_id, of_type=kind)]


def checks_of(run_id: str, kind: dg.DagsterEventType) -> set[tuple[str, str]]:
    """(model, check) of every check event of ``kind`` run ``run_id`` holds."""
    return {
        (e.event_specific_data.asset_key.path[-1], e.event_specific_data.check_name)
        for e in run_events(run_id, kind)
    }


def test_a_day_with_one_source_changed_builds_only_the_models_it_reaches(
    clean_org_run, tmp_path, monkeypatch
):
    """Only U8 changed since the last build (an order edited), same as-of day and models: the
    build is decided once, before the run that follows the loads is launched, and that run
    holds only the models reached by what changed (and those reading the clock or querying the
    warehouse as they build), with their dbt tests: the rest stand as built, not in the run at
    all, and hold what a build from all history gives. The GX suites run as they would. The
    next run, with nothing new, builds nothing: the build's key is the whole selection's."""
    from orchestration.buildplan import (
        DECISION_STATE,
        HANDED_PLAN,
        reached_models,
        read_manifest,
        relations,
    )
    from orchestration.defs.quality import SPECS

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    warehouse, sheets = copy_of(clean_org_run, tmp_path)
    shutil.copytree(clean_org_run.sources / "u8", tmp_path / "u8")
    u8_db = tmp_path / "u8" / "UFDATA_001_2026.db"
    u8 = sqlite3.connect(u8_db)
    u8.execute(
        "update SO_SOMain set cVerifier = '复核人改', "
        "ufts = (select max(ufts) from SO_SOMain) + 1000 where ID = (select min(ID) from SO_SOMain)"
    )
    u8.commit()
    u8.close()
    manifest = read_manifest()
    models = set(relations(manifest))
    reached = reached_models(manifest, {"raw_u8.so_somain"}, set(), {"as_of": AS_OF.isoformat()})
    assert "fct_identity_links" not in reached and len(reached & models) < len(models)
    # the models a GX suite that blocks guards: one of them read by a model of the run stays
    # in it, reported unchanged (else the dbt step would be split in two around the suite)
    blocking = {spec.asset_key.path[-1] for _, spec in SPECS.values() if spec.blocking}
    lines: list[str] = []
    with served_sources(clean_org_run.sources, AS_OF, crm="export") as sections:
        sections = {**sections, "u8": {"url": f"sqlite:///{u8_db}"}}
        config = org_config(tmp_path, warehouse, sections, sheets)
        day = runner.run(config, exclude_groups=("bi",), echo=lines.append)
        assert day.success, day.errors
        assert sorted(day.unchanged_sources) == ["crm", "sheets", "wecom"]
        assert day.build_note and " models reached by what changed" in day.build_note
        (decision,) = (
            json.loads(v)
            for (v,) in query_file(
                warehouse, "select value from ops.run_state where key = ?", (DECISION_STATE,)
            )
        )
        (plan,) = (
            json.loads(v)
            for (v,) in query_file(
                warehouse, "select value from ops.run_state where key = ?", (HANDED_PLAN,)
            )
        )
        # decided once: the dbt step took the plan made before its run, it did not read every
        # table dbt reads again
        assert plan["run_id"] == day.run_id and decision["run_id"] == day.run_id
        assert decision["planned"] == "at launch", decision
        assert any(line.startswith("dbt builds the ") for line in lines), lines
        said = {}
        for event in run_events(day.run_id, dg.DagsterEventType.ASSET_MATERIALIZATION):
            build = event.event_specific_data.materialization.metadata.get("build")
            said[event.asset_key.path[-1]] = build.value if build else "built"
        planned = {
            e.asset_key.path[-1]
            for e in run_events(day.run_id, dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
        }
        built = {m for m in models if said.get(m) == "built"}
        unchanged = models - built
        assert built == set(plan["only"]) and built <= reached
        # fct_stage_history reads the source contract as it builds: always built
        assert {"stg_u8__sales_orders", "fct_activities", "fct_stage_history"} <= built
        assert {"dim_customer", "fct_identity_links", "rpt_identity_match"} <= unchanged
        # the models nothing reached are not in the run: no planned output, no event
        kept = {m for m in models & planned if m not in built}
        assert kept <= blocking and {m for m in models if m in said} == built | kept
        assert "fct_identity_links" not in planned and "rpt_identity_match" not in planned
        # nor are their dbt tests, planned or evaluated; the GX suites run as they would
        ran = checks_of(day.run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED)
        ran |= checks_of(day.run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        assert {c for m, c in ran if m in unchanged and not c.startswith("gx_")} == set()
        assert {(m, c) for m, c in ran if m in built and not c.startswith("gx_")}
        assert {f"gx_{name}" for name, _ in SPECS.values()} <= {c for _, c in ran}

        # nothing new since: no load, no build, no Dagster run (the key is the whole selection's)
        runs = len(dg.DagsterInstance.get().get_run_records())
        quiet = runner.run(config, exclude_groups=("bi",))
        assert quiet.success, quiet.errors
        assert quiet.build_note and quiet.build_note.startswith("nothing new"), quiet.build_note
        assert len(dg.DagsterInstance.get().get_run_records()) == runs

        twin = tmp_path / "twin"
        twin.mkdir()
        shutil.copy(warehouse, twin / "twin.duckdb")
        full = runner.run(
            org_config(twin, twin / "twin.duckdb", sections, sheets),
            exclude_groups=("bi",),
            full_refresh=True,
        )
        assert full.success, full.errors
    tables = {
        f"{schema}.{name}"
        for schema, name in query_file(
            warehouse,
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE'",
        )
    }
    # the twin loaded every source again: what reads when each was last loaded or checked
    # (ops.source_loads, ops.source_contract) holds other times there
    when = reached_models(
        manifest, {"ops.source_loads", "ops.source_contract"}, set(), {"as_of": AS_OF.isoformat()}
    )
    compared = 0
    for model, relation in sorted(relations(manifest, unchanged - when).items()):
        if relation in tables:
            sql = f"select * from {relation} order by all"
            assert query_file(warehouse, sql) == query_file(twin / "twin.duckdb", sql), model
            compared += 1
    assert compared >= 3


def test_a_sheets_load_replaces_only_the_changed_sheets_and_a_full_refresh_reads_all(
    tmp_path, monkeypatch
):
    """Through the run: a workbook whose cells changed is the only sheet read and replaced (the
    other raw_sheets tables keep the load that wrote them); a full refresh reads every sheet,
    its stamp unchanged."""
    from devkit.demo.generate import generate
    from orchestration.defs.ingest import ingest_assets

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    src = tmp_path / "sources"
    generate(src, seed=21, scale="XS", as_of=AS_OF, anomaly_rate=0.0)
    warehouse = tmp_path / "warehouse.duckdb"
    config = write_config(tmp_path, warehouse, {"sheets": {"dir": str(src / "sheets")}}, AS_OF)
    sheets = next(a for a in ingest_assets if a.node_def.name == "ingest_sheets")
    keys = sorted(sheets.keys, key=str)
    tables = ("org_reps", "targets", "stage_config", "settings", "legacy_visits")
    newest = " union all ".join(
        f"select '{t}', max(_dlt_load_id) from raw_sheets.{t}" for t in tables
    )
    first = runner.run(config, asset_keys=keys)
    assert first.success, first.errors
    before = dict(query_file(warehouse, newest))

    workbook = openpyxl.load_workbook(src / "sheets" / "targets.xlsx")
    sheet = workbook["月度目标"]
    sheet.append(["2027-01", "华东", None, 1000, 800])
    workbook.save(src / "sheets" / "targets.xlsx")
    changed = runner.run(config, asset_keys=keys)
    assert changed.success, changed.errors
    after = dict(query_file(warehouse, newest))
    assert after["targets"] != before["targets"]
    assert {t: after[t] for t in tables if t != "targets"} == {
        t: before[t] for t in tables if t != "targets"
    }
    assert query_file(
        warehouse, "select count(*) from raw_sheets.targets where month = date '2027-01-01'"
    ) == [(1,)]

    full = runner.run(config, asset_keys=keys, full_refresh=True)
    assert full.success, full.errors
    again = dict(query_file(warehouse, newest))
    assert all(again[t] != after[t] for t in tables)
