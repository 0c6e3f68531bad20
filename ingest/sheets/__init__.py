"""The team spreadsheets: org, stage config, targets, scoring, dictionaries, settings, visits.

Each sheet of ``ingest.sheets.settings.SHEETS`` lands in its own ``raw_sheets`` table with the
English column names, as a full snapshot (replace). Headers may be Chinese or English, in any
order; extra columns are kept (as JSON in ``extra_columns``, headers as written). A row with a
bad cell goes to ``sheet_quarantine`` (file, sheet, row, column, value, reason) and the rest
still load; a sheet that cannot load at all (missing required column, missing sheet) keeps its
previous snapshot. A sheet whose file is absent (or every sheet, without a folder) takes the
project's default in ``defaults/`` (settings, stage map for Salesforce's standard stages,
scoring, dictionaries) or lands empty (org, targets, competitors, legacy visits); the settings
sheet takes the default of each setting it leaves out.

A load reads only the sheets whose file changed since that sheet was last read (its content,
``helpers.file_digest``: a workbook saved again with the same cells is no change; which file
it is read from: a workbook deleted is a change, back to the default or empty), or all of them
when the shipped defaults or this code changed (:func:`sheet_digests`). The digest of what each
sheet was read from is kept in the source's dlt state with the load's id, by a load that also
reports the sheet: dlt commits the state with the load package, and a digest counts only when
that load completed in the warehouse and the table is there, so a failed or interrupted load, a
new or restored warehouse or a dropped state reads the sheets again. The other tables are left
as they are (no new load id, the same rows; their rows carry the load that wrote them,
``Source.load_id_on_rows``). A full refresh (``reread``) reads every sheet.

Each sheet read appends one ``sheet_load_report`` row (rows read = loaded + quarantined; rows
taken from the defaults apart) and its quarantined rows to ``sheet_quarantine``; a sheet not
read again appends neither, so the newest report row of a sheet is the one of the load that
read what its table holds. Every load appends one report row per file in the folder that
matches no sheet (``unknown_file``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import dlt
from dlt.extract.source import DltResource, DltSource

from ingest import contracts
from ingest.sheets.helpers import (
    SheetResult,
    file_digest,
    find_file,
    read_sheet,
    unknown_files,
)
from ingest.sheets.settings import SHEETS, Sheet

logger = logging.getLogger(__name__)


class SheetsError(Exception):
    """The spreadsheets folder cannot be read."""


DEFAULTS_DIR = Path(__file__).parent / "defaults"


@dlt.source(name="sheets")
def sheets_source(dir: str | None = None, reread: bool = False) -> list[DltResource]:
    """One resource per sheet plus ``sheet_quarantine`` and ``sheet_load_report``. Without
    ``dir`` (a company with no spreadsheets) every sheet is its shipped default or empty.
    ``reread``: every sheet is read, whatever the digests kept of the last loads say."""
    folder = Path(dir) if dir else None
    loaded_at = datetime.now(UTC)

    @cache
    def digests() -> dict[str, str]:
        if folder is not None and not folder.is_dir():
            raise SheetsError(f"spreadsheets folder not found: {folder}")
        return sheet_digests(folder)

    @cache
    def selected() -> set[str]:
        """The resources this load extracts (all, unless Dagster materialises a subset)."""
        return set(dlt.current.source().selected_resources)

    @cache
    def results() -> dict[str, SheetResult]:
        """The sheets this load reads (of those it extracts): changed since they were read."""
        now = digests()
        kept = {} if reread else kept_digests()
        out = {}
        for sheet in SHEETS:
            if sheet.table not in selected() or kept.get(sheet.table) == now[sheet.table]:
                continue
            result = read_sheet(folder, sheet) if folder is not None else None
            if result is None:
                logger.info("no %s workbook in %s: %s from the defaults", sheet.workbook,
                            folder, sheet.table)  # fmt: skip
            result = with_defaults(sheet, result)
            for q in result.quarantine:
                logger.warning(
                    "%s / %s row %s column %s: %s", q["file"], q["sheet"], q["row_number"],
                    q["column_name"], q["reason"],
                )  # fmt: skip
            out[sheet.table] = result
        return out

    @cache
    def unknown() -> list[dict[str, Any]]:
        rows = []
        for name in unknown_files(folder, SHEETS) if folder is not None else []:
            reason = unknown_reason(name)
            logger.warning("%s in %s: %s", name, folder, reason)
            rows.append({"loaded_at": loaded_at, "file": name, "status": "unknown_file",
                         "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0,
                         "rows_defaulted": 0, "reason": reason})  # fmt: skip
        return rows

    def data(sheet: Sheet) -> DltResource:
        def rows() -> Iterator[Any]:
            result = results().get(sheet.table)
            if result is None:
                return  # not changed since it was read: the table stays as it is
            # what it was read from, kept with this load (committed with its package) when the
            # load reports it too; else the next load reads it again, and reports it
            if {"sheet_load_report", "sheet_quarantine"} <= selected():
                load_id = dlt.current.load_package_state()["load_id"]
                state = dlt.current.source_state().setdefault(DIGESTS_STATE, {})
                state[sheet.table] = [digests()[sheet.table], load_id]
            if result.status in LANDED:
                # replaced: declared append, so a sheet that yields nothing leaves its table be
                yield dlt.mark.with_hints(
                    result.table(), dlt.mark.make_hints(write_disposition="replace")
                )

        rows.__name__ = rows.__qualname__ = f"sheet_{sheet.table}"
        return dlt.resource(rows, name=sheet.table, write_disposition="append")

    @dlt.resource(
        name="sheet_quarantine",
        write_disposition="append",
        # typed up front: a first quarantine whose values are all blank still makes every column
        columns={
            "file": {"data_type": "text"},
            "sheet": {"data_type": "text"},
            "table_name": {"data_type": "text"},
            "row_number": {"data_type": "bigint"},
            "column_name": {"data_type": "text"},
            "value": {"data_type": "text"},
            "reason": {"data_type": "text"},
            "loaded_at": {"data_type": "timestamp"},
        },
    )
    def sheet_quarantine() -> Iterator[list[dict[str, Any]]]:
        rows = [dict(q, loaded_at=loaded_at) for r in results().values() for q in r.quarantine]
        if rows:
            yield rows

    @dlt.resource(
        name="sheet_load_report",
        write_disposition="append",
        # typed up front: a load with no unknown file still makes the column the notes read
        columns={"reason": {"data_type": "text"}, "rows_defaulted": {"data_type": "bigint"}},
    )
    def sheet_load_report() -> Iterator[list[dict[str, Any]]]:
        # kept with the load: files that stop or start matching no sheet make a load of their
        # own even when no sheet is read again, so the latest load's rows name them all
        dlt.current.source_state()[UNKNOWN_STATE] = [r["file"] for r in unknown()]
        rows = [r.report(loaded_at) for r in results().values()] + unknown()
        if rows:
            yield rows

    return [data(s) for s in SHEETS] + [sheet_quarantine, sheet_load_report]


def files_digest(section: dict[str, Any]) -> str:
    """A hash of everything a load of the sheets reads: the files in the configured folder
    (names and content: ``helpers.file_digest``), the shipped defaults and the code that reads
    them. The same digest as at the last load: nothing to load again."""
    digest = hashlib.sha256()
    folder = Path(section["dir"]) if section.get("dir") else None
    here = Path(__file__).parent
    parts = [
        ("code", sorted(here.glob("*.py")) + [here.parent / "contracts.py"]),
        ("defaults", sorted(p for p in DEFAULTS_DIR.rglob("*") if p.is_file())),
        ("folder", sorted(p for p in folder.iterdir() if p.is_file()) if folder else []),
    ]
    if folder is not None and not folder.is_dir():
        raise SheetsError(f"spreadsheets folder not found: {folder}")
    for part, paths in parts:
        for path in paths:
            digest.update(f"{part}/{path.name}\0".encode())
            digest.update(file_digest(path).encode() if part == "folder" else path.read_bytes())
    return digest.hexdigest()


def stamp(section: dict[str, Any]) -> str:
    """What the sheets' files hold now (``ingest.stamps``): :func:`files_digest`."""
    return files_digest(section)


def source_from_config(section: dict[str, Any], reread: bool = False) -> DltSource:
    """The sheets source from its run-configuration section (``dir``); ``reread`` (a full
    refresh) reads every sheet, changed or not."""
    return sheets_source(dir=str(section["dir"]) if section.get("dir") else None, reread=reread)


# source state key: table -> [digest of what the sheet was last read from, that load's id]
DIGESTS_STATE = "sheet_digests"
# source state key: the files in the folder that match no sheet, as the latest load found them
UNKNOWN_STATE = "unknown_files"


def sheet_digests(folder: Path | None) -> dict[str, str]:
    """Per sheet table, a hash of what reading it depends on: the file it is read from (name and
    content, ``helpers.file_digest``; none when absent, so a deleted workbook is a change), the
    shipped defaults and the code that reads them (a change there is a change of every
    sheet)."""
    here = Path(__file__).parent
    base = hashlib.sha256()
    code = sorted(here.glob("*.py")) + [here.parent / "contracts.py"]
    for part, paths in (
        ("code", code),
        ("defaults", sorted(p for p in DEFAULTS_DIR.rglob("*") if p.is_file())),
    ):
        for path in paths:
            base.update(f"{part}/{path.name}\0".encode())
            base.update(path.read_bytes())
    files: dict[Path | None, str] = {None: ""}
    out = {}
    for sheet in SHEETS:
        path = find_file(folder, sheet) if folder is not None else None
        if path not in files:
            files[path] = file_digest(path)
        digest = base.copy()
        digest.update(f"{sheet.table}\0{path.name if path else ''}\0{files[path]}".encode())
        out[sheet.table] = digest.hexdigest()
    return out


def kept_digests() -> dict[str, str]:
    """Per sheet table, the digest of what it was last read from, from the running pipeline's
    source state: only those whose load completed in the destination and whose table is
    there (the state a load left behind on this machine can be ahead of the warehouse: a load
    that failed or was cut short, a new warehouse file). None on a destination other than
    SQL (the lake): every sheet is read."""
    kept = dlt.current.source_state().get(DIGESTS_STATE, {})
    pipeline = dlt.current.pipeline()
    if not kept or pipeline.destination.destination_name == "filesystem":
        return {}
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return {}
        loads = client.make_qualified_table_name("_dlt_loads")
        try:
            rows = client.execute_sql(f"select load_id from {loads} where status = 0")
            done = {r[0] for r in rows}
        except Exception as exc:  # no load completed yet
            if client.is_dbapi_exception(exc) and "exist" in str(exc).lower():
                return {}
            raise
        tables = {
            r[0]
            for r in client.execute_sql(
                "select table_name from information_schema.tables where table_schema = %s",
                client.dataset_name,
            )
        }
    return {
        table: digest
        for table, (digest, load_id) in kept.items()
        if load_id in done and table in tables
    }


# scoring signals whose 匹配 is a number of days
DAY_SIGNALS = ("no_reply_days",)

# a sheet with one of these statuses replaces its table; any other keeps the previous snapshot
LANDED = ("loaded", "default", "absent")


def with_defaults(sheet: Sheet, result: SheetResult | None) -> SheetResult:
    """The sheet as the company wrote it, over the shipped default (``defaults/<table>.csv``).
    No file: the default sheet (status ``default``), or an empty one where the project ships
    none (``absent``: org, targets, competitors, legacy visits). Settings merge per row: a
    setting the company's sheet leaves out takes its default. Any other sheet of the company
    replaces the default whole (its own stage map, its own dictionaries)."""
    default = read_sheet(DEFAULTS_DIR, sheet)
    if result is None:
        if default is None:
            return SheetResult(sheet=sheet, file="", status="absent")
        default.file = f"defaults/{default.file}"
        default.status = "default"
        default.rows_read = 0
        default.rows_defaulted = len(default.rows)
        return default
    if sheet.table == "settings" and result.status == "loaded" and default is not None:
        numeric = {str(r["name"]).strip().lower(): r["value"] for r in default.rows}
        for row in list(result.rows):
            name = str(row["name"]).strip().lower()
            if name in numeric and not _is_number(row["value"]):
                # a threshold that is not a number would compute on nulls: its default applies
                result.rows.remove(row)
                result.quarantine.append({
                    "file": result.file, "sheet": sheet.sheet, "table_name": sheet.table,
                    "row_number": row.get("_row"), "column_name": "值 (value)",
                    "value": row["value"],
                    "reason": f"{name} is not a number: the default {numeric[name]} applies",
                })  # fmt: skip
        named = {str(r["name"]).strip().lower() for r in result.rows}
        missing = [r for r in default.rows if str(r["name"]).strip().lower() not in named]
        result.rows.extend(missing)
        result.rows_defaulted = len(missing)
    if sheet.table == "scoring_behaviors" and result.status == "loaded":
        for row in list(result.rows):
            if row.get("signal_type") in DAY_SIGNALS and not _is_days(row.get("match_value")):
                # a day count that is not a whole number would stop the scoring model's cast
                result.rows.remove(row)
                result.quarantine.append({
                    "file": result.file, "sheet": sheet.sheet, "table_name": sheet.table,
                    "row_number": row.get("_row"), "column_name": "匹配 (match_value)",
                    "value": row.get("match_value"),
                    "reason": f"{row['signal_type']} needs a whole number of days in 匹配",
                })  # fmt: skip
    return result


def load_notes(warehouse: str | Path) -> list[str]:
    """What the run summary says about the sheets as loaded: files that matched no sheet at the
    latest load, and the sheets whose table holds their default or nothing (each sheet's newest
    report row: that of the load that last read it)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select file, table_name, status, reason from raw_sheets.sheet_load_report "
            "where status = 'unknown_file' and _dlt_load_id = "
            "(select max(load_id) from raw_sheets._dlt_loads where status = 0) "
            "union all "
            "select file, table_name, status, reason from raw_sheets.sheet_load_report "
            "where status <> 'unknown_file' "
            "qualify _dlt_load_id = max(_dlt_load_id) over (partition by table_name) "
            "order by file, table_name"
        ).fetchall()
    except duckdb.CatalogException:
        return []
    finally:
        con.close()
    notes = [f"sheets: {file} {reason}" for file, _, status, reason in rows
             if status == "unknown_file"]  # fmt: skip
    for status, what in (("default", "from the project's defaults"), ("absent", "empty")):
        tables = sorted(t for _, t, s, _ in rows if s == status)
        if tables:
            notes.append(f"sheets: no workbook for {', '.join(tables)}: {what}")
    if any(t == "org_reps" and s == "absent" for _, t, s, _ in rows):
        notes.append("sheets: no org sheet: the reps are the CRM users, their region unknown")
    return notes


def _is_days(value: Any) -> bool:
    return str(value if value is not None else "").strip().isdigit()


def _is_number(value: Any) -> bool:
    try:
        float(str(value).strip())
    except ValueError:
        return False
    return True


def default_settings() -> dict[str, float]:
    """The shipped default of every setting (``defaults/settings.csv``), as numbers."""
    result = read_sheet(DEFAULTS_DIR, next(s for s in SHEETS if s.table == "settings"))
    return {str(r["name"]).strip().lower(): float(r["value"]) for r in result.rows}


def unknown_reason(name: str) -> str:
    """Why a file in the sheets folder was not read, and the names it could have."""
    stem = Path(name).stem
    like = [
        s for s in SHEETS if stem.lower() in (s.workbook.lower(), s.table.lower(), s.sheet.lower())
    ]
    hint = "; ".join(
        f"{s.table}: {s.workbook}.xlsx (sheet {s.sheet}), {s.workbook}__{s.sheet}.csv, "
        f"{s.sheet}.csv or {s.table}.csv"
        for s in like
    )
    return "matches no known sheet, not loaded" + (f" (did you mean {hint}?)" if hint else "")


def contract_findings(section: dict[str, Any]) -> list[contracts.Finding]:
    """What the configured spreadsheets folder holds against the sheets' contract: per sheet a
    missing workbook or sheet, missing required and optional columns, and files no sheet reads.
    (A sheet that lacks a required column keeps its previous snapshot; the rest still load.)"""
    if not section.get("dir") or not Path(section["dir"]).is_dir():
        return []  # no folder: every sheet comes from the shipped defaults (the load report says)
    folder = Path(section["dir"])
    findings: list[contracts.Finding] = []
    for sheet in SHEETS:
        result = read_sheet(folder, sheet, header_only=True)
        name = f"{sheet.workbook}/{sheet.sheet}"
        if result is None or result.status == "missing_sheet":
            if find_file(DEFAULTS_DIR, sheet) is None:  # else its shipped default applies
                findings.append(contracts.Finding("sheets", name, None, contracts.MISSING_OBJECT))
            continue
        for q in result.quarantine:
            if result.status == "missing_columns" and q["row_number"] is not None:
                for col in str(q["column_name"]).split(", "):
                    findings.append(
                        contracts.Finding(
                            "sheets",
                            name,
                            col,
                            contracts.MISSING_REQUIRED,
                            f"{sheet.table} keeps its previous snapshot",
                            f"add column {col} to {result.file}",
                        )
                    )
        findings += [
            contracts.Finding("sheets", name, extra, contracts.UNKNOWN) for extra in result.extras
        ]
    findings += [
        contracts.Finding("sheets", name, None, contracts.UNKNOWN)
        for name in unknown_files(folder, SHEETS)
    ]
    return findings
