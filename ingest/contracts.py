"""Source contracts: what each source must deliver, what it may lack, and what a gap degrades.

One mechanism for all four sources. Each source declares, per object / table / sheet, which
columns are **required** (a mart cannot be right without them), which are **optional** (a named
metric degrades without them) and whether the object itself may be missing (and what that
degrades). The source compares what it finds (an export file's header, an org's describe, a
database table's columns, a sheet's header) with its declaration:

- a missing required column, or a missing required object, is an error (``ContractError``)
  that names source, object, column and the fix; that source does not load;
- a missing optional column lands as nulls, a missing optional object lands empty (typed);
- a column the declaration does not know is kept and reported;
- a column that is there but blank in every landed row (``empty``) is found after the load,
  from the raw table, and degrades what it would if it were missing (``empty_columns``); for a
  source whose rows carry their dlt load (``Source.checks_latest_load``), in the rows of the
  latest load that landed any, so a field an API stopped sending is caught on the day it
  stops, not once every row sent before has been replaced.

Every finding is a row of ``ops.source_contract`` (source, object, column, status, degrades,
fix), replaced per source on each load; the run summary prints it, the BI data-quality page
shows it, and ``salesops check`` reports it before anything loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MISSING_REQUIRED = "missing_required"
MISSING_OPTIONAL = "missing_optional"
MISSING_OBJECT = "missing_object"
UNKNOWN = "unknown"
EMPTY = "empty"  # the column is there, and blank in every landed row
OK = "ok"  # the one row of a source checked without a finding
STATUSES = (MISSING_REQUIRED, MISSING_OPTIONAL, MISSING_OBJECT, UNKNOWN, EMPTY, OK)


class ContractError(Exception):
    """A source lacks what a mart cannot be right without (required column or object)."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("; ".join(f.message for f in findings))


@dataclass(frozen=True)
class ObjectContract:
    """What one object (CRM object, U8 table, sheet) must and may hold.

    ``required``: columns without which the source fails. ``optional``: column -> the metric
    that degrades without it (columns of the object not named in either are optional and
    degrade nothing). ``required_object``: whether the object itself must exist; ``degrades``:
    what is missing when it does not. ``fix``: how to make good a missing column, where the
    generic advice ("add it to the export") does not fit.
    """

    name: str
    required: tuple[str, ...] = ()
    optional: Mapping[str, str] = field(default_factory=dict)
    required_object: bool = False
    degrades: str = ""
    fix: str = ""


@dataclass(frozen=True)
class Finding:
    source: str
    object: str
    column: str | None
    status: str
    degrades: str = ""
    fix: str = ""

    @property
    def message(self) -> str:
        where = f"{self.source} {self.object}" + (f".{self.column}" if self.column else "")
        text = {
            MISSING_REQUIRED: f"{where}: required "
            + ("column" if self.column else "object")
            + " is missing",
            MISSING_OPTIONAL: f"{where}: optional column is missing",
            MISSING_OBJECT: f"{where}: object is missing (lands empty)",
            EMPTY: f"{where}: empty or absent in every row delivered (read as missing)",
            UNKNOWN: f"{where}: not in the contract (kept as it is, not read by any model)"
            if self.column
            else f"{where}: file matches no object of the contract (not read)",
            OK: f"{self.source}: as the contract expects",
        }[self.status]
        if self.degrades:
            text += f"; degrades: {self.degrades}"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text

    def row(self) -> tuple[str, str, str | None, str, str, str]:
        return (self.source, self.object, self.column, self.status, self.degrades, self.fix)


def compare(
    source: str,
    contract: ObjectContract,
    present: Iterable[str] | None,
    known: Iterable[str] = (),
    fix_required: str = "",
) -> list[Finding]:
    """Findings for one object: ``present`` = the columns it has (None: the object is absent),
    ``known`` = every column the source reads (beyond them a column is ``unknown``). Column
    names compare case-insensitively."""
    if present is None:
        if contract.required_object:
            return [
                Finding(
                    source,
                    contract.name,
                    None,
                    MISSING_REQUIRED,
                    contract.degrades,
                    fix_required or f"export {contract.name} too",
                )
            ]
        return [Finding(source, contract.name, None, MISSING_OBJECT, contract.degrades)]
    have = {c.lower() for c in present}
    findings = [
        Finding(
            source,
            contract.name,
            col,
            MISSING_REQUIRED,
            "",
            contract.fix or fix_required or f"add column {col} to {contract.name}",
        )
        for col in contract.required
        if col.lower() not in have
    ]
    findings += [
        Finding(source, contract.name, col, MISSING_OPTIONAL, degrades)
        for col, degrades in contract.optional.items()
        if col.lower() not in have
    ]
    known_lower = {c.lower() for c in known} | {c.lower() for c in contract.required}
    known_lower |= {c.lower() for c in contract.optional}
    if known_lower:
        findings += [
            Finding(source, contract.name, col, UNKNOWN)
            for col in present
            if col.lower() not in known_lower
        ]
    return findings


def raise_for_required(findings: Iterable[Finding]) -> None:
    """``ContractError`` when any finding is a missing required column or object."""
    blocking = [f for f in findings if f.status == MISSING_REQUIRED]
    if blocking:
        raise ContractError(blocking)


DDL = """
create schema if not exists ops;
create table if not exists ops.source_contract (
    checked_at timestamp with time zone,
    source varchar,
    object varchar,
    column_name varchar,
    status varchar,
    degrades varchar,
    fix varchar
)
"""


def _replace(
    warehouse: str | Path, source: str, findings: list[Finding], statuses: tuple[str, ...] = ()
) -> None:
    """In one transaction: delete ``source``'s rows of ``ops.source_contract`` (of ``statuses``
    only, when given) and insert ``findings``."""
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        con.execute(DDL)
        con.execute("begin")
        only = f" and status in ({', '.join('?' * len(statuses))})" if statuses else ""
        con.execute(f"delete from ops.source_contract where source = ?{only}", [source, *statuses])
        if findings:
            con.executemany(
                "insert into ops.source_contract values (current_timestamp, ?, ?, ?, ?, ?, ?)",
                [f.row() for f in findings],
            )
        con.execute("commit")
    finally:
        con.close()


def record(warehouse: str | Path, source: str, findings: Iterable[Finding]) -> None:
    """Replace ``source``'s rows of ``ops.source_contract`` with ``findings`` (one ``ok`` row
    when there is none, so every checked source is listed)."""
    _replace(warehouse, source, list(findings) or [Finding(source, "", None, OK)])


@dataclass(frozen=True)
class LandedObject:
    """Where an object of the contract lands: its raw table, and per column the contract names
    (in the org's or database's spelling) its raw column and what degrades when it is empty."""

    name: str
    table: str
    columns: Mapping[str, tuple[str, str]]


def empty_columns(
    warehouse: str | Path,
    source: str,
    objects: Iterable[LandedObject],
    latest_load: bool = False,
) -> list[Finding]:
    """``empty`` findings of ``source``: the columns of its landed objects (``raw_<source>``)
    that hold rows but no value in any of them (with ``latest_load``, in any row of the newest
    ``_dlt_load_id`` of the table: rows landed before the table had one count as one load). A
    column already found missing, an object missing or landed without rows, and a raw column
    that is not there are not reported."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {
            t: {
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [f"raw_{source}", t],
                ).fetchall()
            }
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [f"raw_{source}"],
            ).fetchall()
        }
        try:
            gaps = {
                (o, (c or "").lower())
                for o, c in con.execute(
                    "select object, column_name from ops.source_contract "
                    "where source = ? and status <> ?",
                    [source, EMPTY],
                ).fetchall()
            }
        except duckdb.CatalogException:
            gaps = set()
        findings = []
        for obj in objects:
            landed = tables.get(obj.table, set())
            checked = {
                col: raw
                for col, (raw, _) in obj.columns.items()
                if raw in landed and (obj.name, col.lower()) not in gaps
            }
            if not checked or (obj.name, "") in gaps:
                continue
            counts = ", ".join(f'count("{raw}")' for raw in checked.values())
            relation = f'"raw_{source}"."{obj.table}"'
            where = (
                f"where coalesce(_dlt_load_id, '') = "
                f"(select coalesce(max(_dlt_load_id), '') from {relation})"
                if latest_load and "_dlt_load_id" in landed
                else ""
            )
            row = con.execute(f"select count(*), {counts} from {relation} {where}").fetchone()
            if not row[0]:
                continue
            findings += [
                Finding(source, obj.name, col, EMPTY, obj.columns[col][1])
                for col, filled in zip(checked, row[1:], strict=True)
                if not filled
            ]
    finally:
        con.close()
    return findings


def record_empty(warehouse: str | Path, source: str, findings: Iterable[Finding]) -> None:
    """Replace ``source``'s ``empty`` rows of ``ops.source_contract`` with ``findings``, keeping
    what the check before the load found (its ``ok`` row goes when there is a finding)."""
    findings = list(findings)
    _replace(warehouse, source, findings, (EMPTY, OK) if findings else (EMPTY,))


def recorded(warehouse: str | Path) -> list[Finding]:
    """The findings in the warehouse's ``ops.source_contract`` (none when there is no table)."""
    import duckdb

    if not Path(warehouse).exists():
        return []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select source, object, column_name, status, degrades, fix "
            "from ops.source_contract where status <> 'ok' order by source, object, column_name"
        ).fetchall()
    except duckdb.CatalogException:
        return []
    finally:
        con.close()
    return [Finding(s, o, c, st, d or "", f or "") for s, o, c, st, d, f in rows]
