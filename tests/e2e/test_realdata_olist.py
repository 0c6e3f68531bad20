"""A real (third-party) marketing funnel as a plain Salesforce org with no sheets at all: the
conversion rate of every lead source in the marts equals the raw CSV's, and the BI site builds.

The Olist "Marketing Funnel" (8,000 marketing-qualified leads, 842 closed deals; see SOURCE.txt
in ../shared/realdata) is reshaped into a Salesforce Data Export in a temporary folder: each MQL
a Lead (its ``origin`` the ``LeadSource``), each closed deal an Account (the seller), an
Opportunity in the standard stage ``Closed Won`` and its one OpportunityHistory row; SDRs and
SRs are the Users. The run configuration names only the CRM export: the settings, the stage map
(Salesforce's standard stages) and every other rule come from the project's defaults, the reps
from the CRM users; only the lead-scoring sheet is the company's, its points for each origin
and landing page (``Landing_Page__c``) learnt from the MQLs before ``SCORE_CUTOFF``, so the
score's AUC is measured on the later ones. Nothing of the data is kept in the repository.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest

from devkit.demo.org import sf_id
from ingest import contracts
from ingest.crm.settings import OBJECTS
from orchestration import runner
from tests.support.ranking import auc
from tests.support.realdata import delivered, read_rows, realdata_dir, run_export, write_rows

OLIST = realdata_dir("olist_marketing_funnel")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(OLIST is None, reason="the shared real-data folder is not beside the repo"),
]
MQLS = "olist_marketing_qualified_leads_dataset.csv"
DEALS = "olist_closed_deals_dataset.csv"
# MQLs the data does not show reaching an SDR sit in a lead queue, as Salesforce routes them
QUEUE = sf_id("00G", 1)
# the scoring sheet learns from the MQLs first contacted before this day; AUC on the rest
SCORE_CUTOFF = "2018-03-01"
# an origin or landing page scores once it has this many MQLs before the cutoff
SCORE_MIN_LEADS = 30


def _read(name: str) -> list[dict[str, str]]:
    return read_rows(OLIST, name)


def _stamp(day: str) -> str:
    """A CSV date or timestamp as Salesforce writes a datetime (UTC)."""
    return f"{day[:10]}T{day[11:19] or '09:00:00'}.000Z"


def _export(export: Path) -> None:
    mqls, deals = _read(MQLS), _read(DEALS)
    deal_of = {d["mql_id"]: d for d in deals}
    people = sorted({d["sdr_id"] for d in deals} | {d["sr_id"] for d in deals})
    user = {p: sf_id("005", i + 1) for i, p in enumerate(people)}
    first = _stamp(min(m["first_contact_date"] for m in mqls))
    users = [
        {"Id": user[p], "Name": p, "Username": f"{p}@olist.example", "IsActive": "true",
         "CreatedDate": first, "LastModifiedDate": first, "SystemModstamp": first}
        for p in people
    ]  # fmt: skip
    leads, accounts, opps, history = [], [], [], []
    for i, m in enumerate(mqls):
        created = _stamp(m["first_contact_date"])
        deal = deal_of.get(m["mql_id"])
        lead = {
            "Id": sf_id("00Q", i + 1),
            "OwnerId": user[deal["sdr_id"]] if deal else QUEUE,
            "LastName": m["mql_id"],
            "Name": m["mql_id"],
            "Company": m["mql_id"],
            "LeadSource": m["origin"],
            "Landing_Page__c": m["landing_page_id"],
            "Status": "Closed - Converted" if deal else "Open - Not Contacted",
            "IsConverted": "true" if deal else "false",
            "IsDeleted": "false",
            "CreatedDate": created,
            "LastModifiedDate": created,
            "SystemModstamp": created,
        }
        if deal:
            won = _stamp(deal["won_date"])
            account_id, opp_id = sf_id("001", len(accounts) + 1), sf_id("006", len(opps) + 1)
            lead |= {
                "ConvertedDate": deal["won_date"][:10],
                "ConvertedAccountId": account_id,
                "ConvertedOpportunityId": opp_id,
                "LastModifiedDate": won,
                "SystemModstamp": won,
            }
            accounts.append({
                "Id": account_id, "Name": deal["seller_id"], "OwnerId": user[deal["sr_id"]],
                "Industry": deal["business_segment"], "Type": deal["business_type"],
                "IsDeleted": "false", "CreatedDate": won, "LastModifiedDate": won,
                "SystemModstamp": won,
            })  # fmt: skip
            opps.append({
                "Id": opp_id, "Name": deal["seller_id"], "AccountId": account_id,
                "OwnerId": user[deal["sr_id"]], "StageName": "Closed Won",
                "CloseDate": deal["won_date"][:10], "LeadSource": m["origin"],
                "IsClosed": "true", "IsWon": "true", "IsDeleted": "false",
                "CreatedDate": won, "LastModifiedDate": won, "SystemModstamp": won,
            })  # fmt: skip
            history.append({
                "Id": sf_id("008", len(history) + 1), "OpportunityId": opp_id,
                "StageName": "Closed Won", "CloseDate": deal["won_date"][:10],
                "CreatedById": user[deal["sr_id"]], "CreatedDate": won,
                "SystemModstamp": won, "IsDeleted": "false",
            })  # fmt: skip
        leads.append(lead)
    files = {
        "User": users,
        "Lead": leads,
        "Account": accounts,
        "Opportunity": opps,
        "OpportunityHistory": history,
    }
    # five objects and no file for the others (Contact, Task, Event, LeadHistory,
    # ContentVersion): the source contract lands them empty and says what that degrades; each
    # file carries only the fields the data has (no Amount: Olist records no deal value)
    for obj, rows in files.items():
        write_rows(export / f"{obj}.csv", delivered(list(OBJECTS[obj]["fields"]), rows), rows)


def _scoring_sheet(path: Path) -> None:
    """线索评分 with points for each origin and landing page: how far its conversion before
    the cutoff lies above the base rate, in percentage points."""
    won = {d["mql_id"] for d in _read(DEALS)}
    early = [m for m in _read(MQLS) if m["first_contact_date"] < SCORE_CUTOFF]
    base = sum(m["mql_id"] in won for m in early) / len(early)
    rows = []
    for signal, field in (("lead_source", "origin"), ("landing_page", "landing_page_id")):
        groups: dict[str, list[bool]] = defaultdict(list)
        for m in early:
            if m[field]:
                groups[m[field]].append(m["mql_id"] in won)
        for value, outcomes in sorted(groups.items()):
            points = round(100 * (sum(outcomes) / len(outcomes) - base))
            if len(outcomes) >= SCORE_MIN_LEADS and points:
                rows.append({"行为": f"{field}={value}", "分值": points, "信号": signal,
                             "匹配": value})  # fmt: skip
    write_rows(path, ["行为", "分值", "信号", "匹配"], rows)


@pytest.fixture(scope="module")
def olist_run(tmp_path_factory) -> tuple[Path, runner.RunOutcome, list[str]]:
    root = tmp_path_factory.mktemp("olist")
    export = root / "export"
    export.mkdir()
    _export(export)
    sheets = root / "sheets"
    sheets.mkdir()
    _scoring_sheet(sheets / "scoring_behaviors.csv")
    lines: list[str] = []
    # the CRM export and the scoring sheet: no other sheet, no WeCom, no U8
    outcome = run_export(root, export, sheets, date(2018, 12, 31), ("report",), lines.append)
    return root, outcome, lines


def _conversion_by_origin() -> dict[str | None, float]:
    won = {d["mql_id"] for d in _read(DEALS)}
    counts: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for m in _read(MQLS):
        key = m["origin"] or None
        counts[key][0] += m["mql_id"] in won
        counts[key][1] += 1
    return {k: w / n for k, (w, n) in counts.items()}


def test_conversion_by_lead_source_equals_the_raw_csv(olist_run):
    root, outcome, lines = olist_run
    steps = {k: v for k, v in outcome.steps.items() if not k.startswith(("bi", "publish"))}
    assert all(v == "ok" for v in steps.values()), outcome.errors
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    marts = dict(
        con.execute(
            "select lead_source, avg(case when converted then 1.0 else 0 end) "
            "from marts.fct_lead_response group by lead_source"
        ).fetchall()
    )
    leads = con.execute("select count(*) from marts.fct_lead_response").fetchone()[0]
    reps = con.execute("select count(*), count(distinct region) from marts.dim_rep").fetchone()
    stages = dict(
        con.execute("select stage, count(*) from marts.fct_stage_history group by 1").fetchall()
    )
    con.close()
    raw = _conversion_by_origin()
    assert leads == 8000 and len(raw) == 11
    assert marts.keys() == raw.keys()
    for source, rate in raw.items():
        assert float(marts[source]) == pytest.approx(rate, abs=1e-12), source
    # no org sheet: the 41 SDRs and SRs are the reps, in the one unknown region
    assert reps == (41, 1)
    # the default stage map knows Salesforce's Closed Won
    assert stages == {"contract_signed": 842}
    # and the run summary says where the rules and the reps came from
    assert any("sheets: no org sheet" in line for line in lines)
    # the objects the export lacks are recorded as missing (landed empty), not failed
    missing = {f.object for f in contracts.recorded(root / "warehouse.duckdb")
               if f.source == "crm" and f.status == contracts.MISSING_OBJECT}  # fmt: skip
    assert missing == {"Contact", "Task", "Event", "LeadHistory", "ContentVersion"}


def test_the_bi_site_builds(olist_run):
    root, outcome, _ = olist_run
    assert outcome.success, outcome.errors
    assert (root / "site" / "index.html").is_file()


def test_lead_score_auc_on_the_later_leads(olist_run):
    """The score from origin and landing page points learnt before the cutoff, on the MQLs
    first contacted from the cutoff on: how well it ranks the ones that closed a deal."""
    root, outcome, _ = olist_run
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "select score_before_conversion, is_converted from marts.fct_lead_scores "
        "where created_at >= cast(? as timestamptz)",
        [SCORE_CUTOFF],
    ).fetchall()
    behaviours = dict(
        con.execute(
            "select signal_type, count(*) from marts.fct_lead_behaviors group by 1"
        ).fetchall()
    )
    con.close()
    value = auc([(float(s), bool(c)) for s, c in rows])
    print(f"Olist funnel: score AUC {value:.3f} on {len(rows)} MQLs from {SCORE_CUTOFF}")
    assert behaviours.keys() == {"lead_source", "landing_page"}
    assert len(rows) > 1000 and sum(c for _, c in rows) > 50
    assert 0.5 < value < 1


def test_what_olist_lacks_says_not_applicable_on_its_pages(olist_run):
    """Olist records no deal value and no lost deal: the forecast is not applicable (never
    ¥0), and the win-path page says why every win rate is 100%."""
    from tests.support import pages

    root, outcome, _ = olist_run
    assert outcome.success, outcome.errors
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    applicable = dict(
        con.execute("select metric, is_applicable from marts.rpt_metric_applicability").fetchall()
    )
    forecasts = con.execute(
        "select count(*), count(forecast_amount) from marts.rpt_forecast_vs_actual"
    ).fetchone()
    con.close()
    assert applicable["forecast"] is False and applicable["pipeline_amount"] is False
    assert forecasts[1] == 0
    reports = {r.page: r for r in pages.inspect_pages(root / "site", ["forecast", "win-paths"])}
    for report in reports.values():
        assert report.console_errors == [] and report.error_boxes == [], report
    assert "赢单预测：不适用" in reports["forecast"].text
    assert "Opportunity.Amount" in reports["forecast"].text
    assert "数据中没有输单：全部 842 个已结束的商机都是赢单" in reports["win-paths"].text
