"""Write a simulated org in every source's real shape (docs/sources.md)."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from devkit.demo import behaviors, vocab
from devkit.demo.org import UTC_OFFSET, Org
from devkit.standins.wecom import contact_event, store_contact_events
from ingest.crm.settings import OBJECTS
from ingest.sheets import settings as sheet_settings

SHEET_DEFAULTS = Path(sheet_settings.__file__).parent / "defaults"

# under wecom/: the change_external_contact callbacks a receiver stored, a file a day
CONTACT_EVENTS_DIR = "contact_events"
EPOCH = datetime(1970, 1, 1)


def utc(t: datetime) -> datetime:
    return t - UTC_OFFSET


def sf_datetime(t: datetime) -> str:
    return f"{utc(t):%Y-%m-%dT%H:%M:%S}.000Z"


def unix(t: datetime) -> int:
    return int((utc(t) - EPOCH).total_seconds())


def iso_utc(t: datetime | None) -> str:
    return "" if t is None else f"{utc(t):%Y-%m-%dT%H:%M:%S}Z"


def whole_seconds(t: datetime | None) -> datetime | None:
    """Times as the sources carry them (Salesforce and WeCom keep whole seconds)."""
    return None if t is None else t.replace(microsecond=0)


# -- CRM ------------------------------------------------------------------------------------------
def _sf_value(value: Any, sf_type: str) -> str:
    if value is None:
        return ""
    if sf_type == "boolean":
        return "true" if value else "false"
    if sf_type == "datetime":
        return sf_datetime(value)
    if sf_type == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if sf_type == "currency":
        return f"{Decimal(str(value)):.2f}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def write_crm(org: Org, out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for obj, rows in org.crm.items():
        fields = OBJECTS[obj]["fields"]
        with (out / f"{obj}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(list(fields))
            for row in sorted(rows, key=lambda r: r["Id"]):
                w.writerow([_sf_value(row.get(f), t) for f, t in fields.items()])
        counts[OBJECTS[obj]["table"]] = len(rows)
    return counts


# -- WeCom ----------------------------------------------------------------------------------------
def write_wecom(org: Org, wecom_dir: Path, archive_dir: Path) -> dict[str, int]:
    wecom_dir.mkdir(parents=True, exist_ok=True)
    archive_dir.mkdir(parents=True, exist_ok=True)
    reps = [p for p in org.people if p.role == "rep"]
    follow = [p.wecom_userid for p in reps]
    (wecom_dir / "follow_users.json").write_text(
        json.dumps({"follow_user": follow}, ensure_ascii=False), encoding="utf-8"
    )
    with (wecom_dir / "contacts.jsonl").open("w", encoding="utf-8") as fh:
        for c in org.wecom_contacts:
            fi = dict(c["follow_info"], createtime=unix(c["follow_info"]["createtime"]))
            fh.write(json.dumps({**c, "follow_info": fi}, ensure_ascii=False) + "\n")
    # the callback receiver's store: an add_external_contact event as each contact was added
    added = sorted(
        (
            unix(c["follow_info"]["createtime"]),
            c["follow_info"]["userid"],
            c["external_contact"]["external_userid"],
        )
        for c in org.wecom_contacts
    )
    store_contact_events(
        wecom_dir / CONTACT_EVENTS_DIR,
        [contact_event("add_external_contact", u, e, t, "wwdemo") for t, u, e in added],
    )
    with (wecom_dir / "checkins.jsonl").open("w", encoding="utf-8") as fh:
        for ck in sorted(org.checkins, key=lambda r: (r["checkin_time"], r["userid"])):
            fh.write(
                json.dumps(dict(ck, checkin_time=unix(ck["checkin_time"])), ensure_ascii=False)
                + "\n"
            )
    behaviour = _behaviour(org)
    with (wecom_dir / "behavior.jsonl").open("w", encoding="utf-8") as fh:
        for row in behaviour:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    # the archive arrives as one file per month, as the decrypting job writes it
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in org.messages:
        by_month[f"{m['msgtime']:%Y-%m}"].append(m)
    for month, msgs in sorted(by_month.items()):
        with (archive_dir / f"chat_{month}.jsonl").open("w", encoding="utf-8") as fh:
            for m in msgs:
                fh.write(json.dumps(dict(m, msgtime=unix(m["msgtime"]) * 1000), ensure_ascii=False))
                fh.write("\n")
    return {
        "follow_users": len(follow),
        "external_contacts": len(org.wecom_contacts),
        "user_behavior_data": len(behaviour),
        # what the source loads: field check-ins; the file holds the work punches too
        "checkins": sum(c["checkin_type"] == "外出打卡" for c in org.checkins),
        "work_punches": sum(c["checkin_type"] != "外出打卡" for c in org.checkins),
        "chat_messages": len(org.messages),
    }


def _behaviour(org: Org) -> list[dict[str, Any]]:
    """Daily per-rep statistics, consistent with the messages and contacts generated."""
    reps = {p.wecom_userid: p for p in org.people if p.role == "rep"}
    sent: dict[tuple[str, date], list[dict]] = defaultdict(list)
    received: dict[tuple[str, date], int] = defaultdict(int)
    for m in org.messages:
        if m["from"] in reps:
            sent[(m["from"], m["msgtime"].date())].append(m)
        else:
            for to in m["tolist"]:
                received[(to, m["msgtime"].date())] += 1
    new_contacts: dict[tuple[str, date], int] = defaultdict(int)
    for c in org.wecom_contacts:
        fi = c["follow_info"]
        new_contacts[(fi["userid"], fi["createtime"].date())] += 1
    rows = []
    for userid, p in reps.items():
        day = max(org.start.date(), p.hire_date)
        last = min(p.leave_date or org.as_of, org.as_of)
        while day <= last:
            msgs = sent.get((userid, day), [])
            chats = len({t for m in msgs for t in m["tolist"]})
            got = received.get((userid, day), 0)
            rows.append(
                {
                    "userid": userid,
                    "stat_time": unix(datetime.combine(day, datetime.min.time())),
                    "chat_cnt": chats,
                    "message_cnt": len(msgs),
                    "reply_percentage": round(min(100.0, 100.0 * len(msgs) / got), 2)
                    if got
                    else 0.0,
                    "avg_reply_time": 12 + (hash_day(userid, day) % 50) if got else 0,
                    "negative_feedback_cnt": 0,
                    "new_apply_cnt": new_contacts.get((userid, day), 0),
                    "new_contact_cnt": new_contacts.get((userid, day), 0),
                }
            )
            day += timedelta(days=1)
    return rows


def hash_day(userid: str, day: date) -> int:
    """A stable small number per rep-day (Python's ``hash`` is salted per process)."""
    return sum(map(ord, userid)) * 31 + day.toordinal()


# -- U8 -------------------------------------------------------------------------------------------
U8_DDL = {
    "Customer": "cCusCode NVARCHAR(20) PRIMARY KEY, cCusName NVARCHAR(98), cCusAbbName "
    "NVARCHAR(60), cCCCode NVARCHAR(12), cCusDepart NVARCHAR(12), cCusPPerson NVARCHAR(20), "
    "dCusDevDate DATETIME, pubufts INTEGER NOT NULL",
    "Person": "cPersonCode NVARCHAR(20) PRIMARY KEY, cPersonName NVARCHAR(40), "
    "cDepCode NVARCHAR(12), pubufts INTEGER NOT NULL",
    "Department": "cDepCode NVARCHAR(12) PRIMARY KEY, cDepName NVARCHAR(255), "
    "pubufts INTEGER NOT NULL",
    "SO_SOMain": "ID INTEGER PRIMARY KEY, cSOCode NVARCHAR(30), dDate DATETIME, "
    "cCusCode NVARCHAR(20), cPersonCode NVARCHAR(20), cDepCode NVARCHAR(12), iStatus SMALLINT, "
    "cVerifier NVARCHAR(20), dverifysystime DATETIME, dmodifysystime DATETIME, "
    "ufts INTEGER NOT NULL",
    "SO_SODetails": "iSOsID INTEGER PRIMARY KEY, ID INTEGER, cInvCode NVARCHAR(60), "
    "iQuantity DECIMAL(20,6), iMoney DECIMAL(20,2), iTax DECIMAL(20,2), iSum DECIMAL(20,2), "
    "iNatSum DECIMAL(20,2), dPreDate DATETIME, ufts INTEGER NOT NULL",
    "SaleBillVouch": "SBVID INTEGER PRIMARY KEY, cSBVCode NVARCHAR(30), dDate DATETIME, "
    "cCusCode NVARCHAR(20), cPersonCode NVARCHAR(20), cSOCode NVARCHAR(30), "
    "ufts INTEGER NOT NULL",
    "SaleBillVouchs": "AutoID INTEGER PRIMARY KEY, SBVID INTEGER, iSum DECIMAL(20,2), "
    "iNatSum DECIMAL(20,2), iSOsID INTEGER, ufts INTEGER NOT NULL",
    "Ap_CloseBill": "iID INTEGER PRIMARY KEY, cVouchID NVARCHAR(30), cVouchType NVARCHAR(10), "
    "cFlag NVARCHAR(10), dVouchDate DATETIME, cDwCode NVARCHAR(20), cPerson NVARCHAR(20), "
    "iAmount DECIMAL(20,2), ufts INTEGER NOT NULL",
    "Ap_CloseBills": "ID INTEGER PRIMARY KEY, iID INTEGER, iAmt DECIMAL(20,2), "
    "ufts INTEGER NOT NULL",
}


def _u8_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return f"{v:%Y-%m-%d %H:%M:%S}"
    if isinstance(v, date):
        return f"{v:%Y-%m-%d} 00:00:00"
    if isinstance(v, float):
        return f"{Decimal(str(v)):.2f}"
    return v


def write_u8(org: Org, db_path: Path) -> dict[str, int]:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if db_path.exists():
        db_path.unlink()
    con = sqlite3.connect(db_path)
    counts = {}
    try:
        for table, ddl in U8_DDL.items():
            con.execute(f"CREATE TABLE {table} ({ddl})")
            rows = org.u8[table]
            if rows:
                cols = [c for c in rows[0] if not c.startswith("_")]
                con.executemany(
                    f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' for _ in cols)})",
                    [[_u8_value(r[c]) for c in cols] for r in rows],
                )
            counts[table.lower()] = len(rows)
        con.commit()
    finally:
        con.close()
    return counts


# -- spreadsheets ---------------------------------------------------------------------------------
def _workbook(path: Path, sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> None:
    wb = Workbook(write_only=True)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in rows:
            ws.append(row)
    wb.properties.creator = "sales ops"
    wb.properties.created = datetime(2026, 1, 1)
    wb.save(path)


def write_sheets(org: Org, out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    people = org.people
    _workbook(
        out / "org.xlsx",
        {
            "销售团队": (
                [
                    "员工编号",
                    "姓名",
                    "区域",
                    "上级编号",
                    "角色",
                    "CRM用户ID",
                    "企业微信账号",
                    "U8人员编码",
                    "入职日期",
                    "离职日期",
                ],
                [
                    [
                        p.rep_id,
                        p.name,
                        p.region,
                        p.manager.rep_id if p.manager else None,
                        p.role,
                        p.user_id,
                        p.wecom_userid,
                        p.u8_person_code if p.role != "director" else None,
                        p.hire_date,
                        p.leave_date,
                    ]
                    for p in people
                ],
            )
        },
    )
    _workbook(
        out / "stage_config.xlsx",
        {
            "阶段配置": (
                ["CRM阶段名", "标准阶段", "顺序", "赢单概率", "概率下限", "概率上限", "必需证据"],
                [list(s) for s in vocab.STAGES],
            )
        },
    )
    _workbook(
        out / "targets.xlsx",
        {
            "月度目标": (
                ["月份", "区域", "员工编号", "签约目标", "回款目标"],
                [
                    [
                        f"{t['month']:%Y-%m}",
                        t["region"],
                        t["rep_id"],
                        t["booking_target"],
                        t["collection_target"],
                    ]
                    for t in org.targets
                ],
            )
        },
    )
    _workbook(
        out / "scoring.xlsx",
        {
            "线索评分": (["行为", "分值", "信号", "匹配"], [list(s) for s in vocab.SCORING]),
            "阈值": (["等级", "最低分"], [list(g) for g in vocab.GRADES]),
        },
    )
    _workbook(
        out / "dictionary.xlsx",
        {
            "风险词典": (
                ["关键词", "风险类型", "建议动作", "风险等级"],
                [list(r) for r in vocab.RISK_WORDS],
            ),
            "竞品": (["竞品"], [[c] for c in vocab.COMPETITORS]),
            "有效动作": (["关键词", "活动类型"], [list(a) for a in vocab.EFFECTIVE_ACTIONS]),
            "无效填充": (["模式"], [[f] for f in vocab.FILLER]),
        },
    )
    # the behaviours the org plants, as the shipped default sheet defines them
    with (SHEET_DEFAULTS / "dict_win_behaviors.csv").open(encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    _workbook(
        out / "win_behaviors.xlsx",
        {"赢单行为": (header, [[int(v) if v.isdigit() else (v or None) for v in r] for r in rows])},
    )
    _workbook(
        out / "settings.xlsx", {"参数": (["参数", "值", "说明"], [list(s) for s in vocab.SETTINGS])}
    )
    _workbook(
        out / "legacy_visits.xlsx",
        {
            "拜访记录": (
                ["日期", "员工", "客户", "方式", "内容", "时长(秒)"],
                [
                    [
                        v["visit_date"],
                        v["rep_name"],
                        v["customer_name"],
                        v["channel"],
                        v["notes"],
                        v["duration_s"],
                    ]
                    for v in org.legacy_visits
                ],
            )
        },
    )
    return {
        "org_reps": len(people),
        "stage_config": len(vocab.STAGES),
        "targets": len(org.targets),
        "legacy_visits": len(org.legacy_visits),
    }


# -- truth ----------------------------------------------------------------------------------------
OPEN_STAGE_ORDERS = (1, 2, 3, 4)  # lead_confirmed .. quote_negotiation: the open pipeline


def _month(d: date) -> date:
    return d.replace(day=1)


def _mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.9f}" if values else ""


def _write_process_health_truth(org: Org, out: Path, red: float) -> None:
    """PHI's three parts per rep x month (SPEC §5), from what the generator did (times are
    business-local here, so a month is the local calendar month)."""
    response: dict[tuple[date, str], dict[str, list[float]]] = defaultdict(
        lambda: {"all": [], "crm": []}
    )
    for t in org.truth_leads:
        if t["assigned_at"] is None or t["assigned_at"] > org.end:
            continue
        key = (_month(t["assigned_at"].date()), t["rep_id"])
        assigned = whole_seconds(t["assigned_at"])
        waited = (org.end - assigned).total_seconds() / 3600
        for view, suffix in (("all", ""), ("crm", "_crm")):
            first = whole_seconds(t[f"first_touch_at{suffix}"])
            hours = None if first is None else (first - assigned).total_seconds() / 3600
            if hours is None and waited <= red:
                continue  # pending: not yet due, not counted
            response[key][view].append(1.0 if hours is not None and hours <= red else 0.0)
    key_actions: dict[tuple[date, str], list[float]] = defaultdict(list)
    for st in org.truth_stages:
        if st["stage"] in ("lead_confirmed", "lost") or not st["rep_id"]:
            continue
        key_actions[(_month(st["entered_at"].date()), st["rep_id"])].append(
            1.0 if st["has_evidence"] else 0.0
        )
    rep_of_user = {p.user_id: p.rep_id for p in org.people}
    info: dict[tuple[date, str], list[float]] = defaultdict(list)
    for opp in org.crm["Opportunity"]:
        if opp["IsDeleted"] or opp["OwnerId"] not in rep_of_user:
            continue
        filled = (
            (opp.get("Decision_Chain__c") is not None)
            + (opp.get("Objection__c") is not None)
            + (opp.get("NextStep") is not None and opp.get("Next_Step_Date__c") is not None)
        )
        info[(_month(opp["CreatedDate"].date()), rep_of_user[opp["OwnerId"]])].append(filled / 3)
    with (out / "process_health.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "month",
                "rep_id",
                "response_compliance",
                "response_compliance_crm",
                "key_action_completion",
                "info_completeness",
            ]
        )
        for month, rep_id in sorted(set(response) | set(key_actions) | set(info)):
            r = response.get((month, rep_id), {"all": [], "crm": []})
            w.writerow(
                [
                    month.isoformat(),
                    rep_id,
                    _mean(r["all"]),
                    _mean(r["crm"]),
                    _mean(key_actions.get((month, rep_id), [])),
                    _mean(info.get((month, rep_id), [])),
                ]
            )


def _write_forecast_truth(org: Org, out: Path) -> None:
    """The forecast's inputs (SPEC §5): on the first day of each month, every opportunity
    open that day (a stage before the contract) whose close date, as it stood that day, falls
    in that month, with its amount and the stage's win probability."""
    probability = {s[1]: s[3] for s in vocab.STAGES}
    region_of = {p.rep_id: p.region for p in org.people}
    amount_of = {o["Id"]: o["Amount"] for o in org.crm["Opportunity"] if not o["IsDeleted"]}
    close_changes: dict[str, list[tuple[datetime, str, date]]] = defaultdict(list)
    for h in org.crm["OpportunityHistory"]:
        if not h["IsDeleted"] and h.get("CloseDate") is not None:
            close_changes[h["OpportunityId"]].append((h["CreatedDate"], h["Id"], h["CloseDate"]))
    for changes in close_changes.values():
        changes.sort()

    def close_date_on(opp_id: str, day: date) -> date | None:
        changes = close_changes.get(opp_id)
        if not changes:
            return None
        seen = [c for c in changes if c[0].date() <= day]
        return (seen[-1] if seen else changes[0])[2]

    months, m = [], _month(org.start.date())
    while m <= org.as_of:
        months.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    with (out / "forecast_inputs.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "month",
                "region",
                "opportunity_id",
                "stage",
                "amount",
                "win_probability",
                "expected_close_date",
            ]
        )
        for month in months:
            for st in org.truth_stages:
                opp_id = st["opportunity_id"]
                if st["stage_order"] not in OPEN_STAGE_ORDERS or opp_id not in amount_of:
                    continue
                exited = st["exited_at"]
                last_day = exited.date() - timedelta(days=1) if exited else org.as_of
                if not st["entered_at"].date() <= month <= last_day:
                    continue
                close = close_date_on(st["opportunity_id"], month)
                if close is None or _month(close) != month:
                    continue
                w.writerow(
                    [
                        month.isoformat(),
                        region_of.get(st["rep_id"], ""),
                        st["opportunity_id"],
                        st["stage"],
                        f"{amount_of[st['opportunity_id']]:.2f}",
                        f"{probability[st['stage']]:.4f}",
                        close.isoformat(),
                    ]
                )


def _band(hours: float | None, waited_h: float, green: float, red: float) -> str:
    if hours is None:
        return "red" if waited_h > red else "pending"
    if hours < green:
        return "green"
    return "yellow" if hours <= red else "red"


def _write_lead_effects_truth(org: Org, out: Path) -> None:
    """The planted lead effects (devkit.demo.lead_effects): each rep's strong industry, and
    the WeCom questions planted on leads with whether the lead converted."""
    with (out / "rep_industry_skill.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["rep_id", "region", "industry"])
        for s in org.truth_rep_skills:
            w.writerow([s["rep_id"], s["region"], s["industry"]])
    with (out / "lead_signals.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["lead_id", "signal", "at", "converted"])
        for s in org.truth_lead_signals:
            w.writerow([s["lead_id"], s["signal"], iso_utc(s["at"]), str(s["converted"]).lower()])


def write_truth(
    org: Org,
    out: Path,
    counts: dict[str, dict[str, int]],
    through: date | None = None,
    anomaly_rate: float = 1.0,
) -> dict[str, Any]:
    """Ground truth for tests (of the whole org, up to ``org.as_of``; the sources show it
    through ``through``). The pipeline never reads this folder."""
    out.mkdir(parents=True, exist_ok=True)
    settings = {k: float(v) for k, v, _ in vocab.SETTINGS}
    green, red = settings["response_green_hours"], settings["response_red_hours"]
    window = settings["followup_window_hours"]
    header = [
        "lead_id",
        "rep_id",
        "region",
        "lead_source",
        "archetype",
        "created_at",
        "assigned_at",
    ]
    for suffix in ("", "_crm"):
        header += [
            f"first_touch_at{suffix}",
            f"response_hours{suffix}",
            f"response_band{suffix}",
            f"touched_within_72h{suffix}",
        ]
    header.append("converted")
    with (out / "leads.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for t in org.truth_leads:
            row = [
                t["lead_id"],
                t["rep_id"],
                t["region"],
                t["lead_source"],
                t["archetype"],
                iso_utc(t["created_at"]),
                iso_utc(t["assigned_at"]),
            ]
            for suffix in ("", "_crm"):
                first = whole_seconds(t[f"first_touch_at{suffix}"])
                assigned = whole_seconds(t["assigned_at"])
                if t["assigned_at"] is None:
                    row += ["", "", "unassigned", ""]
                    continue
                hours = None if first is None else (first - assigned).total_seconds() / 3600
                waited = (org.end - assigned).total_seconds() / 3600
                row += [
                    iso_utc(first),
                    "" if hours is None else f"{hours:.6f}",
                    _band(hours, waited, green, red),
                    "true" if hours is not None and hours <= window else "false",
                ]
            row.append("true" if t["converted"] else "false")
            w.writerow(row)
    with (out / "stage_entries.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        cols = [
            "opportunity_id",
            "rep_id",
            "stage",
            "stage_order",
            "entered_at",
            "exited_at",
            "has_evidence",
            "skipped_from",
        ]
        w.writerow(cols)
        for s in org.truth_stages:
            w.writerow(
                [
                    iso_utc(v)
                    if isinstance(v, datetime)
                    else (
                        "true" if v is True else "false" if v is False else ("" if v is None else v)
                    )
                    for v in (s[c] for c in cols)
                ]
            )
    with (out / "anomalies.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["rule", "source_table", "record_id", "rep_id", "details"])
        for a in org.anomalies:
            w.writerow(
                [
                    a["rule"],
                    a["source_table"],
                    a["record_id"],
                    a["rep_id"] or "",
                    json.dumps(a["details"], ensure_ascii=False, sort_keys=True),
                ]
            )
    with (out / "chat_risk.csv").open("w", encoding="utf-8", newline="") as fh:
        cols = ["text_source", "record_id", "opportunity_id", "kind", "origin", "is_risky"]
        w = csv.DictWriter(fh, cols, lineterminator="\n")
        w.writeheader()
        w.writerows(dict(r, is_risky="true" if r["is_risky"] else "false") for r in org.chat_risk)
    _write_process_health_truth(org, out, red)
    _write_lead_effects_truth(org, out)
    _write_forecast_truth(org, out)
    behaviors.write_truth(org.truth_behaviors, out)
    by_rule: dict[str, int] = defaultdict(int)
    for a in org.anomalies:
        by_rule[a["rule"]] += 1
    manifest = {
        "seed": org.seed,
        "scale": org.scale_name,
        "as_of": org.as_of.isoformat(),
        "through": (through or org.as_of).isoformat(),
        "anomaly_rate": anomaly_rate,
        "period_start": org.start.date().isoformat(),
        "timezone": "Asia/Shanghai",
        "counts": counts,
        "anomalies": dict(sorted(by_rule.items())),
        "reps": [
            {
                "rep_id": p.rep_id,
                "name": p.name,
                "region": p.region,
                "role": p.role,
                "archetype": p.archetype if p.role == "rep" else None,
                "hire_date": p.hire_date.isoformat(),
                "leave_date": p.leave_date.isoformat() if p.leave_date else None,
            }
            for p in org.people
        ],
        "notes": (
            "Ground truth of the generated org. first_touch_at counts CRM tasks/events and "
            "WeCom messages sent by the rep; *_crm counts CRM records only. Touches dated "
            "before the lead, after as_of, or deleted never count."
        ),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return manifest
