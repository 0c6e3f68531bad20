"""Every source, run day after day on a generated org whose sources move on a day at a time.

A rerun with nothing new adds nothing; after ``append_day`` only that day's changes load; the
raw tables then equal those of one clean load of the same sources; a U8 document deleted that
day disappears (key reconciliation).
"""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from devkit.demo.generate import append_day, generate
from devkit.demo.org import Simulator
from devkit.demo.writers import CONTACT_EVENTS_DIR
from devkit.standins.wecom import WeComStandIn
from ingest.crm import crm_source
from ingest.pipelines import make_pipeline
from ingest.sheets import sheets_source
from ingest.u8 import u8_source
from ingest.wecom import settings as wecom_settings
from ingest.wecom import wecom_source
from tests.support.warehouse import data_columns, raw_tables

SEED, SCALE, AS_OF = 3, "S", date(2026, 11, 20)
SECRET = "incremental-secret"
SOURCES = ("crm", "wecom", "u8", "sheets")
U8_DB = Path("u8") / "UFDATA_001_2026.db"
RUN_LOGS = {"raw_sheets.sheet_load_report"}
CONTACT_APIS = ("batch/get_by_user", "get")  # one row per sheet and run, by design


def _sources(src: Path, wecom_url: str, through: date) -> dict:
    return {
        "crm": crm_source(export_dir=str(src / "crm_export")),
        "wecom": wecom_source(
            corp_id="wwinc",
            corp_secret=SECRET,
            base_url=wecom_url,
            start_date="2026-05-01",
            end_date=through.isoformat(),
            chat_archive_dir=str(src / "chat_archive"),
            contact_events_dir=str(src / "wecom" / CONTACT_EVENTS_DIR),
            retry_base_seconds=0.01,
        ),
        "u8": u8_source(url=f"sqlite:///{src / U8_DB}"),
        "sheets": sheets_source(dir=str(src / "sheets")),
    }


def load(src: Path, wh: Path, pipelines: Path) -> tuple[dict[str, int], list[dict]]:
    """Load every source once; rows each table received (``_dlt`` tables left out) and the
    WeCom calls that carried a time window."""
    through = date.fromisoformat(
        json.loads((src / "truth" / "manifest.json").read_text(encoding="utf-8"))["through"]
    )
    loaded: dict[str, int] = {}
    with WeComStandIn(src / "wecom", corp_id="wwinc", corp_secret=SECRET) as wecom:
        for name, source in _sources(src, wecom.api_url, through).items():
            pipeline = make_pipeline(name, wh, pipelines_dir=pipelines)
            pipeline.run(source)
            counts = pipeline.last_trace.last_normalize_info.row_counts
            loaded.update({f"{name}.{t}": n for t, n in counts.items() if not t.startswith("_dlt")})
        asked = [b for _, b in wecom.log if isinstance(b, dict)]
        windows = [b for b in asked if {"start_time", "starttime"} & set(b)]
        contact_calls = {p: wecom.requests[f"/cgi-bin/externalcontact/{p}"] for p in CONTACT_APIS}
    loaded["contact calls"] = contact_calls
    return loaded, windows


def tables(wh: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        out = {}
        for schema, table in raw_tables(con):
            if f"{schema}.{table}" in RUN_LOGS:
                continue
            cols = data_columns(con, schema, table)
            out[f"{schema}.{table}"] = con.execute(
                f"select {', '.join(cols)} from {schema}.{table} order by all"
            ).fetchall()
        return out
    finally:
        con.close()


def _csv_rows(folder: Path) -> dict[str, set[tuple]]:
    out = {}
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            out[path.stem] = {tuple(r) for r in csv.reader(fh)}
    return out


def _u8_rows(db: Path) -> dict[str, set[tuple]]:
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {n: set(con.execute(f"select * from {n}").fetchall()) for n in names}
    finally:
        con.close()


def _lines(folder: Path, pattern: str) -> set[str]:
    return {line for p in folder.glob(pattern) for line in p.read_text("utf-8").splitlines()}


def _source_rows(src: Path) -> dict:
    """What each source's files hold: the CRM export's rows, U8's, the chat archive's and the
    WeCom stand-in's lines."""
    return {
        "crm": _csv_rows(src / "crm_export"),
        "u8": _u8_rows(src / U8_DB),
        "chat": _lines(src / "chat_archive", "*.jsonl"),
        "checkins": _lines(src / "wecom", "checkins.jsonl"),
        "contacts": _lines(src / "wecom", "contacts.jsonl"),
    }


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    """An org whose sources stand at the day before a duplicate U8 order is deleted; the
    warehouse loaded from them; then the next days appended and loaded one by one."""
    world = Simulator(SEED, SCALE, AS_OF).run()
    deletions = sorted(
        r["_deleted_at"].date()
        for r in world.u8["SO_SOMain"]
        if r.get("_deleted_at") and r["_at"].date() < r["_deleted_at"].date()
    )
    assert deletions, "the org has no U8 order keyed one day and deleted on a later one"
    through = deletions[-1] - timedelta(days=1)  # the deletion's day is the one appended
    base = tmp_path_factory.mktemp("incremental")
    src = base / "sources"
    generate(src, seed=SEED, scale=SCALE, as_of=AS_OF, through=through)
    wh, pipelines = base / "w.duckdb", base / "p"
    load(src, wh, pipelines)
    before = tables(wh)
    rerun, _ = load(src, wh, pipelines)
    after_rerun = tables(wh)
    old = _source_rows(src)
    append_day(src)
    new = _source_rows(src)
    day, windows = load(src, wh, pipelines)
    return {
        "src": src,
        "wh": wh,
        "base": base,
        "through": through,
        "before": before,
        "rerun": rerun,
        "after_rerun": after_rerun,
        "old": old,
        "new": new,
        "day": day,
        "windows": windows,
    }


def test_a_rerun_with_nothing_new_adds_no_rows(days):
    assert days["after_rerun"] == days["before"]
    rerun = days["rerun"]
    # cursor-driven tables read nothing at all
    for table, n in rerun.items():
        if table.split(".")[0] in ("crm", "u8") or table == "wecom.chat_messages":
            assert n == 0, table
    # no contact change event since the first run: no contact is asked for
    assert rerun["contact calls"] == {"batch/get_by_user": 0, "get": 0}
    assert rerun.get("wecom.external_contacts", 0) == 0


def test_an_appended_day_loads_only_its_changes(days):
    old, new, day = days["old"], days["new"], days["day"]
    from ingest.crm.settings import OBJECTS

    for obj, rows in new["crm"].items():
        changed = len(rows - old["crm"].get(obj, set()))
        assert day.get(f"crm.{OBJECTS[obj]['table']}", 0) == changed, obj
    assert sum(day.get(f"crm.{OBJECTS[o]['table']}", 0) for o in new["crm"]) > 0
    for table, rows in new["u8"].items():
        appeared = len(rows - old["u8"][table])
        vanished = len({r[0] for r in old["u8"][table]} - {r[0] for r in rows})
        assert day.get(f"u8.{table.lower()}", 0) == appeared + vanished, table
    assert day["wecom.chat_messages"] == len(new["chat"] - old["chat"]) > 0
    # the day's new customers come from their add_external_contact events, one call each
    added = [json.loads(line) for line in new["contacts"] - old["contacts"]]
    customers = {c["external_contact"]["external_userid"] for c in added}
    assert day["contact calls"] == {"batch/get_by_user": 0, "get": len(customers)}
    assert day["wecom.external_contacts"] == len(added) > 0
    # field check-ins only: the start/end-of-work punches in the same file are not asked for
    field = {line for line in new["checkins"] - old["checkins"] if '"外出打卡"' in line}
    assert day.get("wecom.checkins", 0) >= len(field)
    # windowed WeCom endpoints ask only for the days since the last run (and the refetch day)
    oldest = min(int(b.get("start_time", b.get("starttime"))) for b in days["windows"])
    first_asked = date.fromtimestamp(oldest + 8 * 3600)
    assert (days["through"] - first_asked).days == wecom_settings.REFETCH_DAYS - 1


def test_the_tables_equal_one_clean_load_and_hold_no_duplicates(days, tmp_path):
    clean = tmp_path / "clean.duckdb"
    load(days["src"], clean, tmp_path / "p")
    got = tables(days["wh"])
    assert got == tables(clean)
    for table, rows in got.items():
        assert len(rows) == len(set(rows)), table


def test_a_u8_order_deleted_that_day_is_gone(days):
    old_ids = {r[0] for r in days["old"]["u8"]["SO_SOMain"]}
    new_ids = {r[0] for r in days["new"]["u8"]["SO_SOMain"]}
    gone = old_ids - new_ids
    assert gone, "the appended day deletes an order"
    con = duckdb.connect(str(days["wh"]), read_only=True)
    try:
        landed = {r[0] for r in con.execute("select id from raw_u8.so_somain").fetchall()}
        lines = {r[0] for r in con.execute("select id from raw_u8.so_sodetails").fetchall()}
    finally:
        con.close()
    assert landed == new_ids and not gone & lines
