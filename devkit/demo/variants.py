"""Real-world export variants: each one reshapes a generated org's sources the way a real
company's exports differ from the generator's complete ones (a Data Loader export with picked
fields, an owner history with names only, a missing workbook, ...).

A variant is a function ``(out_dir, manifest) -> None`` registered with ``@variant("name")``.
It runs after every source is written, edits the files under ``out_dir`` in place, and records
what it changed in ``manifest["variants"][name]`` (the truth a test compares against).
``generate(..., variants=("name", ...))`` and ``salesops generate --variant NAME`` apply them in
the order given.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

Variant = Callable[[Path, dict[str, Any]], None]
VARIANTS: dict[str, Variant] = {}


def variant(name: str) -> Callable[[Variant], Variant]:
    def register(fn: Variant) -> Variant:
        VARIANTS[name] = fn
        return fn

    return register


def check(names: Iterable[str]) -> None:
    """Raise ``ValueError`` naming any variant that is not registered."""
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        known = ", ".join(sorted(VARIANTS)) or "none yet"
        raise ValueError(f"unknown variant(s) {', '.join(unknown)}; known: {known}")


def apply(out_dir: Path, names: Iterable[str], manifest: dict[str, Any]) -> None:
    """Apply the named variants to the sources under ``out_dir`` (order as given)."""
    names = list(names)
    check(names)
    done = manifest.setdefault("variants", {})
    for name in names:
        done.setdefault(name, {})
        VARIANTS[name](Path(out_dir), manifest)


# line table -> (its header, the key they share)
_U8_LINES = {
    "SO_SODetails": ("SO_SOMain", "ID"),
    "SaleBillVouchs": ("SaleBillVouch", "SBVID"),
    "Ap_CloseBills": ("Ap_CloseBill", "iID"),
}


@variant("u8_no_line_ufts")
def u8_no_line_ufts(out_dir: Path, manifest: dict[str, Any]) -> None:
    """A U8 whose line tables carry no ``ufts`` (SPEC §3.3 lists it for no table). Saving a
    document stamps its header, so a header's ``ufts`` becomes the highest of its own and its
    lines' (a line written after its header was written by a later save of the document)."""
    db = out_dir / "u8" / "UFDATA_001_2026.db"
    con = sqlite3.connect(db)
    restamped = 0
    try:
        for line, (header, key) in _U8_LINES.items():
            restamped += con.execute(
                f"update {header} set ufts = (select max(ufts) from {line} "
                f"where {line}.{key} = {header}.{key}) "
                f"where ufts < (select max(ufts) from {line} where {line}.{key} = {header}.{key})"
            ).rowcount
            con.execute(f"alter table {line} drop column ufts")
        con.commit()
    finally:
        con.close()
    manifest["variants"]["u8_no_line_ufts"] = {
        "tables": sorted(_U8_LINES),
        "headers_restamped": restamped,
    }


# U8 table -> the amount column a U8 may leave blank in every row (SPEC §3.3)
U8_BLANK_AMOUNTS = {
    "SaleBillVouchs": "iSum",
    "Ap_CloseBill": "iAmount",
    "SO_SODetails": "iSum",
}


@variant("u8_blank_amounts")
def u8_blank_amounts(out_dir: Path, manifest: dict[str, Any]) -> None:
    """A U8 whose invoice lines, receipts and order lines have their amount column but leave it
    blank in every row (an account set that books amounts elsewhere): the invoiced and received
    actuals and the CRM-to-U8 amount check say 不适用 instead of summing to 0."""
    db = out_dir / "u8" / "UFDATA_001_2026.db"
    con = sqlite3.connect(db)
    try:
        for table, column in U8_BLANK_AMOUNTS.items():
            con.execute(f"update {table} set {column} = null")
        con.commit()
    finally:
        con.close()
    manifest["variants"]["u8_blank_amounts"] = {
        "blank_fields": [f"{t}.{c}" for t, c in U8_BLANK_AMOUNTS.items()]
    }


# -- CRM export variants -----------------------------------------------------------------------


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or ()), list(reader)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, header, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _owner_names(export: Path) -> dict[str, str]:
    """Owner id -> display name as Salesforce writes it in LeadHistory: users by ``Name``,
    queues (00G...) by a queue name."""
    _, users = _read_csv(export / "User.csv")
    names = {u["Id"]: u["Name"] for u in users}
    _, history = _read_csv(export / "LeadHistory.csv")
    queues = sorted({v for h in history for v in (h["OldValue"], h["NewValue"]) if v[:3] == "00G"})
    names.update({q: f"线索队列 {i + 1}" for i, q in enumerate(queues)})
    return names


def _named(row: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    return dict(
        row,
        OldValue=names.get(row["OldValue"], row["OldValue"]),
        NewValue=names.get(row["NewValue"], row["NewValue"]),
    )


@variant("history_names_only")
def history_names_only(out: Path, manifest: dict[str, Any]) -> None:
    """LeadHistory owner changes carry display names only (the export kept the name rows of
    Salesforce's id + name pair): assignment must resolve them through ``User.Name``."""
    export = out / "crm_export"
    names = _owner_names(export)
    header, rows = _read_csv(export / "LeadHistory.csv")
    _write_csv(export / "LeadHistory.csv", header, [_named(r, names) for r in rows])
    manifest["variants"]["history_names_only"] = {"owner_changes": len(rows)}


@variant("history_ids_and_names")
def history_ids_and_names(out: Path, manifest: dict[str, Any]) -> None:
    """LeadHistory as Salesforce writes it: every owner change twice, once with ids (005... /
    00G...) and once with display names, at the same time."""
    export = out / "crm_export"
    names = _owner_names(export)
    header, rows = _read_csv(export / "LeadHistory.csv")
    twins = [dict(_named(r, names), Id=r["Id"][:15] + "NMX") for r in rows]
    _write_csv(export / "LeadHistory.csv", header, sorted(rows + twins, key=lambda r: r["Id"]))
    manifest["variants"]["history_ids_and_names"] = {"owner_changes": len(rows)}


DATALOADER_DROPPED = (
    "CompletedDateTime",
    "IsClosed",
    "IsDeleted",
    "Priority",
    "CallDurationInSeconds",
    "CreatedById",
    "LastModifiedDate",
)


@variant("dataloader_minimal")
def dataloader_minimal(out: Path, manifest: dict[str, Any]) -> None:
    """A Data Loader export of Task with the fields someone picked: no ``CompletedDateTime``,
    ``IsClosed``, ``IsDeleted`` (Data Loader's plain Export leaves deleted rows out) and a few
    others. Task times come from the documented fallback (ActivityDate + CreatedDate)."""
    path = out / "crm_export" / "Task.csv"
    header, rows = _read_csv(path)
    live = [r for r in rows if r["IsDeleted"] != "true"]
    _write_csv(path, [h for h in header if h not in DATALOADER_DROPPED], live)
    manifest["variants"]["dataloader_minimal"] = {
        "object": "Task",
        "dropped_fields": list(DATALOADER_DROPPED),
        "deleted_rows_left_out": len(rows) - len(live),
    }


MISSING_OBJECTS = ("Contact", "Event", "Task", "LeadHistory", "ContentVersion")


@variant("missing_objects")
def missing_objects(out: Path, manifest: dict[str, Any]) -> None:
    """An export without Contact, Event, Task, LeadHistory and ContentVersion: those land
    empty and the metrics that need them say so."""
    for obj in MISSING_OBJECTS:
        (out / "crm_export" / f"{obj}.csv").unlink()
    manifest["variants"]["missing_objects"] = {"objects": list(MISSING_OBJECTS)}


OPPORTUNITY_DROPPED = ("Amount", "Decision_Chain__c")


@variant("opportunity_no_amount")
def opportunity_no_amount(out: Path, manifest: dict[str, Any]) -> None:
    """An Opportunity export without ``Amount`` and ``Decision_Chain__c`` (fields the export
    did not pick): the forecast, pipeline amounts and information completeness say 不适用
    instead of summing nothing to 0."""
    path = out / "crm_export" / "Opportunity.csv"
    header, rows = _read_csv(path)
    _write_csv(path, [h for h in header if h not in OPPORTUNITY_DROPPED], rows)
    manifest["variants"]["opportunity_no_amount"] = {
        "object": "Opportunity",
        "dropped_fields": list(OPPORTUNITY_DROPPED),
    }


@variant("lead_no_is_converted")
def lead_no_is_converted(out: Path, manifest: dict[str, Any]) -> None:
    """A Lead export without ``IsConverted``: lead conversion says 不适用 instead of reading
    every lead as not converted (0%)."""
    path = out / "crm_export" / "Lead.csv"
    header, rows = _read_csv(path)
    _write_csv(path, [h for h in header if h != "IsConverted"], rows)
    manifest["variants"]["lead_no_is_converted"] = {
        "object": "Lead",
        "dropped_fields": ["IsConverted"],
    }


@variant("opportunity_blank_objection")
def opportunity_blank_objection(out: Path, manifest: dict[str, Any]) -> None:
    """An Opportunity export whose ``Objection__c`` column is there but blank in every row (a
    field the org never used): information completeness says 不适用 as if it were missing."""
    path = out / "crm_export" / "Opportunity.csv"
    header, rows = _read_csv(path)
    _write_csv(path, header, [{**r, "Objection__c": ""} for r in rows])
    manifest["variants"]["opportunity_blank_objection"] = {
        "object": "Opportunity",
        "blank_fields": ["Objection__c"],
    }


@variant("account_number_erp")
def account_number_erp(out: Path, manifest: dict[str, Any]) -> None:
    """The U8 customer code sits in the standard ``AccountNumber`` field instead of the custom
    ``ERP_Customer_Code__c``; the run configuration names it (``sources.crm.fields``)."""
    path = out / "crm_export" / "Account.csv"
    header, rows = _read_csv(path)
    for r in rows:
        r["AccountNumber"] = r.pop("ERP_Customer_Code__c")
    _write_csv(path, ["AccountNumber" if h == "ERP_Customer_Code__c" else h for h in header], rows)
    manifest["variants"]["account_number_erp"] = {
        "config": {"fields": {"erp_customer_code": "AccountNumber"}},
        "accounts_with_code": sum(1 for r in rows if r["AccountNumber"]),
    }


# -- hostile: text that breaks hand-built SQL, JSON, CSV and spreadsheets -------------------------
HOSTILE_NOTES = (
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1 制表符开头",
    "'; drop table x; --",
    'O\'Brien 说 "报价 100%折扣" \\ 反斜杠 😀',
    "客户要求 50% 预付款_分期，型号 ＡＢ１２３",
)
HOSTILE_REP_NAMES = ('=HYPERLINK("http://x","y")', "王１２３", 'O\'Neil "小\\王" 😀')
# company-name cores: the same replacement in every source, so CRM and U8 still match by name
HOSTILE_CORES = (
    'O\'Brien"引号"\\反斜杠',
    "'; drop table x; --",
    "😀表情🚀",
    "１２３全角",
    "100%_通配",
    "=SUM(1+1)",
    "长" * 4999 + "名",
)
# dictionary rows whose keywords hold LIKE's wildcards: matching must stay literal
HOSTILE_KEYWORDS = {
    "有效动作": [["%", "material"], ["_", "quote"], ["100%折扣", "quote"]],
    "风险词典": [
        ["太贵'了", "价格", "强调总拥有成本"],
        ["%", "符号", "核对金额与折扣", "中"],
        ["_", "符号", "核对型号与付款方式", "中"],
    ],
}


def _rewrite_value(value: Any, fix: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, list):
        return [_rewrite_value(v, fix) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite_value(v, fix) for k, v in value.items()}
    return value


def _rewrite_sources(out_dir: Path, fix: Callable[[str], str]) -> None:
    """Apply ``fix`` to every text of every source file (CSV, JSON, JSON lines, the U8
    database, workbooks); the truth folder is left as generated."""
    import json

    from openpyxl import load_workbook

    for path in sorted(out_dir.rglob("*")):
        if not path.is_file() or "truth" in path.relative_to(out_dir).parts:
            continue
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as fh:
                rows = [[fix(c) for c in row] for row in csv.reader(fh)]
            with path.open("w", encoding="utf-8", newline="") as fh:
                csv.writer(fh, lineterminator="\n").writerows(rows)
        elif path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            text = json.dumps(_rewrite_value(data, fix), ensure_ascii=False)
            path.write_text(text, encoding="utf-8")
        elif path.suffix == ".jsonl":
            lines = path.read_text(encoding="utf-8").splitlines()
            path.write_text(
                "".join(
                    json.dumps(_rewrite_value(json.loads(line), fix), ensure_ascii=False) + "\n"
                    for line in lines
                    if line.strip()
                ),
                encoding="utf-8",
            )
        elif path.suffix == ".db":
            con = sqlite3.connect(path)
            tables = [
                t for (t,) in con.execute("select name from sqlite_master where type='table'")
            ]
            for table in tables:
                columns = [r[1] for r in con.execute(f'pragma table_info("{table}")')]
                for column in columns:
                    changed = [
                        (fix(v), rowid)
                        for rowid, v in con.execute(f'select rowid, "{column}" from "{table}"')
                        if isinstance(v, str) and fix(v) != v
                    ]
                    con.executemany(f'update "{table}" set "{column}" = ? where rowid = ?', changed)
            con.commit()
            con.close()
        elif path.suffix == ".xlsx":
            wb = load_workbook(path)
            for ws in wb:
                for row in ws.iter_rows():
                    for cell in row:
                        if isinstance(cell.value, str) and cell.data_type != "f":
                            cell.value = fix(cell.value)
                            cell.data_type = "s"  # text, even when it starts with "="
            wb.save(path)


@variant("hostile")
def hostile(out_dir: Path, manifest: dict[str, Any]) -> None:
    """Quotes, backslashes, emoji, SQL fragments, formula-looking text, full-width digits and a
    5,000-character company name in rep names, company names (the same in every source), CRM
    notes and chat texts, and ``%`` / ``_`` in dictionary keywords. Recorded: every text put in,
    so a test can find each one verbatim in the warehouse."""
    import json
    import re

    from openpyxl import load_workbook

    from devkit.demo import vocab

    accounts = (out_dir / "crm_export" / "Account.csv").read_text(encoding="utf-8")
    cores = [c for c in vocab.COMPANY_CORE if c in accounts][: len(HOSTILE_CORES)]
    core_map = dict(zip(cores, HOSTILE_CORES, strict=False))
    org = load_workbook(out_dir / "sheets" / "org.xlsx", read_only=True)
    header, *people = org.active.iter_rows(values_only=True)
    org.close()
    names = [p[header.index("姓名")] for p in people if p[header.index("角色")] == "rep"]
    rep_map = dict(zip(names, HOSTILE_REP_NAMES, strict=False))
    core_re = re.compile("|".join(map(re.escape, sorted(core_map, key=len, reverse=True))))

    def fix(text: str) -> str:
        if text in rep_map:
            return rep_map[text]
        return core_re.sub(lambda m: core_map[m.group(0)], text) if core_map else text

    _rewrite_sources(out_dir, fix)

    # CRM notes: every fifth task's and event's description
    import csv

    notes = 0
    for obj in ("Task", "Event"):
        path = out_dir / "crm_export" / f"{obj}.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            header_row, *rows = list(csv.reader(fh))
        col = header_row.index("Description")
        for i in range(0, len(rows), 5):
            rows[i][col] = HOSTILE_NOTES[notes % len(HOSTILE_NOTES)]
            notes += 1
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows([header_row, *rows])
    # chat texts: every sixth text message
    chats = 0
    for path in sorted((out_dir / "chat_archive").glob("*.jsonl")):
        messages = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for i, message in enumerate(messages):
            if message.get("msgtype") == "text" and i % 6 == 0:
                message["text"]["content"] = HOSTILE_NOTES[chats % len(HOSTILE_NOTES)]
                chats += 1
        path.write_text(
            "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in messages), encoding="utf-8"
        )
    # dictionary keywords with LIKE wildcards
    path = out_dir / "sheets" / "dictionary.xlsx"
    wb = load_workbook(path)
    for sheet, rows in HOSTILE_KEYWORDS.items():
        for row in rows:
            wb[sheet].append(row)
    wb.save(path)
    manifest["variants"]["hostile"] = {
        "notes": list(HOSTILE_NOTES),
        "crm_notes_rewritten": notes,
        "chat_texts_rewritten": chats,
        "rep_names": rep_map,
        "company_cores": core_map,
        "keywords": HOSTILE_KEYWORDS,
    }
