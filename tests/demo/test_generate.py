"""The demo org: deterministic, in every source's real shape, and behaving like a sales team."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import median

import openpyxl
import pytest

from devkit.demo.generate import generate
from ingest.crm.settings import OBJECTS

AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="module")
def org_s(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("org_s")
    generate(out, seed=7, scale="S", as_of=AS_OF)
    return out


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".csv", ".jsonl", ".json")
    }


def _u8_tables(db: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {n: con.execute(f"select * from {n} order by 1").fetchall() for n in sorted(names)}
    finally:
        con.close()


def _sheet_values(folder: Path) -> dict[str, list[tuple]]:
    out = {}
    for path in sorted(folder.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path, read_only=True)
        for ws in wb.worksheets:
            out[f"{path.name}/{ws.title}"] = list(ws.iter_rows(values_only=True))
    return out


def test_same_seed_same_org_other_seed_other_org(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=11, scale="XS", as_of=AS_OF)
    generate(b, seed=11, scale="XS", as_of=AS_OF)
    generate(c, seed=12, scale="XS", as_of=AS_OF)
    files_a = _files(a)
    assert len(files_a) >= 18
    assert files_a == _files(b)
    assert _u8_tables(a / "u8" / "UFDATA_001_2026.db") == _u8_tables(
        b / "u8" / "UFDATA_001_2026.db"
    )
    assert _sheet_values(a / "sheets") == _sheet_values(b / "sheets")
    assert files_a["crm_export/Lead.csv"] != _files(c)["crm_export/Lead.csv"]


def test_layout_and_manifest(org_s):
    for folder in ("crm_export", "wecom", "chat_archive", "u8", "sheets", "truth"):
        assert (org_s / folder).is_dir(), folder
    manifest = json.loads((org_s / "truth" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 7 and manifest["as_of"] == AS_OF.isoformat()
    crm = manifest["counts"]["crm"]
    # the default org: ~3,000 leads, ~900 opportunities, tens of thousands of activities
    assert 2500 <= crm["leads"] <= 3600
    assert 600 <= crm["opportunities"] <= 1100
    assert crm["tasks"] + crm["events"] + manifest["counts"]["wecom"]["chat_messages"] > 20_000
    people = manifest["reps"]
    assert {p["region"] for p in people if p["role"] == "rep"} == {"华东", "华南", "华北", "西南"}
    assert sum(p["role"] == "rep" for p in people) == 24
    assert sum(p["role"] == "manager" for p in people) == 4
    # every planted anomaly of SPEC §6 is present
    assert set(manifest["anomalies"]) >= {
        "backfill_burst", "short_visit", "unverified_visit", "stage_skip",
        "stage_without_evidence", "erp_amount_mismatch", "won_without_order",
        "duplicate_lead", "duplicate_activity", "future_timestamp", "activity_before_lead",
    }  # fmt: skip


def test_crm_export_speaks_salesforce(org_s):
    for obj, spec in OBJECTS.items():
        path = org_s / "crm_export" / f"{obj}.csv"
        with path.open(encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        assert header == list(spec["fields"]), obj
    leads = _read_csv(org_s / "crm_export" / "Lead.csv")
    ids = [r["Id"] for r in leads]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 18 and i.startswith("00Q") for i in ids)
    assert all(r["CreatedDate"].endswith(".000Z") for r in leads)
    assert {r["IsConverted"] for r in leads} == {"true", "false"}
    queued = [r for r in leads if r["CreatedById"] != r["OwnerId"]]
    history = {r["LeadId"] for r in _read_csv(org_s / "crm_export" / "LeadHistory.csv")}
    assert queued and all(r["Id"] in history for r in queued if r["OwnerId"].startswith("005"))


def test_u8_database_has_u8_tables(org_s):
    tables = _u8_tables(org_s / "u8" / "UFDATA_001_2026.db")
    assert set(tables) == {
        "Customer", "Person", "Department", "SO_SOMain", "SO_SODetails", "SaleBillVouch",
        "SaleBillVouchs", "Ap_CloseBill", "Ap_CloseBills",
    }  # fmt: skip
    con = sqlite3.connect(org_s / "u8" / "UFDATA_001_2026.db")
    cols = [r[1] for r in con.execute("pragma table_info(SO_SOMain)")]
    assert cols[:5] == ["ID", "cSOCode", "dDate", "cCusCode", "cPersonCode"]
    # order lines add up to the order; receipts are U8 receipt vouchers ('48', 'AR')
    assert {r[0] for r in con.execute("select distinct cVouchType from Ap_CloseBill")} == {"48"}
    con.close()


def test_sheets_have_chinese_headers(org_s):
    values = _sheet_values(org_s / "sheets")
    assert values["org.xlsx/销售团队"][0][:3] == ("员工编号", "姓名", "区域")
    stages = values["stage_config.xlsx/阶段配置"]
    assert [r[1] for r in stages[1:7]] == [
        "lead_confirmed", "needs_diagnosed", "solution_demo", "quote_negotiation",
        "contract_signed", "delivered_paid",
    ]  # fmt: skip
    settings = {r[0]: r[1] for r in values["settings.xlsx/参数"][1:]}
    assert settings["response_red_hours"] == "24"


def test_archetypes_behave_differently(org_s):
    truth = _read_csv(org_s / "truth" / "leads.csv")
    hours = defaultdict(list)
    for row in truth:
        if row["response_hours"]:
            hours[row["archetype"]].append(float(row["response_hours"]))
    assert median(hours["hunter"]) < median(hours["steady"]) < median(hours["veteran"])
    assert median(hours["veteran"]) > 12


def test_backfill_bursts_are_what_the_rule_describes(org_s):
    """Each planted burst: >= 10 records logged within 60 minutes, claimed times >= 2 days apart."""
    anomalies = _read_csv(org_s / "truth" / "anomalies.csv")
    burst_ids = defaultdict(set)
    for a in anomalies:
        if a["rule"] == "backfill_burst":
            burst_ids[json.loads(a["details"])["burst_start"]].add(a["record_id"])
    assert burst_ids
    tasks = {r["Id"]: r for r in _read_csv(org_s / "crm_export" / "Task.csv")}
    events = {r["Id"]: r for r in _read_csv(org_s / "crm_export" / "Event.csv")}

    def ts(text: str) -> datetime:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.000Z")

    for ids in burst_ids.values():
        created, happened = [], []
        for rid in ids:
            row = tasks.get(rid) or events[rid]
            created.append(ts(row["CreatedDate"]))
            happened.append(ts(row.get("CompletedDateTime") or row["StartDateTime"]))
        assert len(ids) >= 10
        assert max(created) - min(created) <= timedelta(minutes=60)
        assert max(happened) - min(happened) >= timedelta(days=2)


def test_truth_is_consistent_with_the_records(org_s):
    """The truth's first CRM touch is a real, non-deleted CRM record on that lead."""
    truth = {r["lead_id"]: r for r in _read_csv(org_s / "truth" / "leads.csv")}
    touches = defaultdict(list)
    for row in _read_csv(org_s / "crm_export" / "Task.csv"):
        if row["IsDeleted"] == "false" and row["WhoId"].startswith("00Q"):
            touches[row["WhoId"]].append(row["CompletedDateTime"][:19] + "Z")
    for row in _read_csv(org_s / "crm_export" / "Event.csv"):
        if row["WhoId"].startswith("00Q"):
            touches[row["WhoId"]].append(row["StartDateTime"][:19] + "Z")
    checked = 0
    for lead_id, row in truth.items():
        if row["first_touch_at_crm"]:
            assert row["first_touch_at_crm"] in touches[lead_id]
            checked += 1
    assert checked > 1500


def test_crm_export_variants_reshape_the_files_and_record_it(tmp_path):
    """Each CRM variant edits the export as a real one differs, and the manifest says so."""
    plain, shaped = tmp_path / "plain", tmp_path / "shaped"
    generate(plain, seed=5, scale="XS", as_of=AS_OF)
    manifest = generate(
        shaped,
        seed=5,
        scale="XS",
        as_of=AS_OF,
        variants=("history_ids_and_names", "dataloader_minimal", "account_number_erp"),
    )
    users = {u["Id"]: u["Name"] for u in _read_csv(plain / "crm_export" / "User.csv")}
    ids = _read_csv(plain / "crm_export" / "LeadHistory.csv")
    both = _read_csv(shaped / "crm_export" / "LeadHistory.csv")
    assert len(both) == 2 * len(ids) > 0
    named = {(r["LeadId"], r["CreatedDate"], r["NewValue"]) for r in both}
    for r in ids:  # each id row has its twin with the user's display name, at the same time
        assert (r["LeadId"], r["CreatedDate"], users[r["NewValue"]]) in named
    tasks = _read_csv(shaped / "crm_export" / "Task.csv")
    assert "CompletedDateTime" not in tasks[0] and "IsClosed" not in tasks[0]
    assert "ActivityDate" in tasks[0] and "CreatedDate" in tasks[0]
    accounts = _read_csv(shaped / "crm_export" / "Account.csv")
    assert "AccountNumber" in accounts[0] and "ERP_Customer_Code__c" not in accounts[0]
    assert manifest["variants"]["account_number_erp"]["config"] == {
        "fields": {"erp_customer_code": "AccountNumber"}
    }
    assert manifest["variant_names"] == [
        "history_ids_and_names",
        "dataloader_minimal",
        "account_number_erp",
    ]

    gone = tmp_path / "gone"
    generate(gone, seed=5, scale="XS", as_of=AS_OF, variants=("missing_objects",))
    left = {p.stem for p in (gone / "crm_export").glob("*.csv")}
    assert left == set(OBJECTS) - {"Contact", "Event", "Task", "LeadHistory", "ContentVersion"}
