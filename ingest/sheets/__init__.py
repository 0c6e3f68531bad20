"""The team spreadsheets: org, stage config, targets, scoring, dictionaries, settings, visits.

Each sheet of ``ingest.sheets.settings.SHEETS`` lands in its own ``raw_sheets`` table with the
English column names, as a full snapshot (replace). Headers may be Chinese or English, in any
order; extra columns are kept (as JSON in ``extra_columns``, headers as written). A row with a
bad cell goes to ``sheet_quarantine`` (file, sheet, row, column, value, reason) and the rest
still load; a sheet that cannot load at all (missing required column, missing sheet or file)
keeps its previous snapshot. Every load appends one ``sheet_load_report`` row per
sheet: rows read = loaded + quarantined.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.source import DltResource, DltSource

from ingest import contracts
from ingest.sheets.helpers import SheetResult, read_sheet
from ingest.sheets.settings import SHEETS, Sheet

logger = logging.getLogger(__name__)


class SheetsError(Exception):
    """The spreadsheets folder cannot be read."""


@dlt.source(name="sheets")
def sheets_source(dir: str = dlt.config.value) -> list[DltResource]:  # noqa: A002 (config key)
    """One resource per sheet plus ``sheet_quarantine`` and ``sheet_load_report``."""
    folder = Path(dir)
    loaded_at = datetime.now(UTC)

    @cache
    def results() -> dict[str, SheetResult]:
        if not folder.is_dir():
            raise SheetsError(f"spreadsheets folder not found: {folder}")
        out = {}
        for sheet in SHEETS:
            result = read_sheet(folder, sheet)
            if result is None:
                logger.info("no %s workbook in %s: %s not loaded", sheet.workbook, folder,
                            sheet.table)  # fmt: skip
                continue
            for q in result.quarantine:
                logger.warning(
                    "%s / %s row %s column %s: %s", q["file"], q["sheet"], q["row_number"],
                    q["column_name"], q["reason"],
                )  # fmt: skip
            out[sheet.table] = result
        return out

    def data(sheet: Sheet) -> DltResource:
        def rows() -> Iterator[pa.Table]:
            result = results().get(sheet.table)
            if result is not None and result.status == "loaded":
                yield result.table()

        rows.__name__ = rows.__qualname__ = f"sheet_{sheet.table}"
        resource = dlt.resource(rows, name=sheet.table, write_disposition="replace")
        if folder.is_dir():
            result = results().get(sheet.table)
            if result is None or result.status != "loaded":
                # nothing to load: append nothing rather than replace with nothing
                resource.apply_hints(write_disposition="append")
        return resource

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

    @dlt.resource(name="sheet_load_report", write_disposition="append")
    def sheet_load_report() -> Iterator[list[dict[str, Any]]]:
        yield [r.report(loaded_at) for r in results().values()]

    return [data(s) for s in SHEETS] + [sheet_quarantine, sheet_load_report]


def source_from_config(section: dict[str, Any]) -> DltSource:
    """The sheets source from its run-configuration section (``dir``)."""
    if not section.get("dir"):
        raise ValueError("the sheets section of the run configuration needs 'dir'")
    return sheets_source(dir=str(section["dir"]))


def contract_findings(section: dict[str, Any]) -> list[contracts.Finding]:
    """What the configured spreadsheets folder holds against the sheets' contract: per sheet a
    missing workbook or sheet, missing required and optional columns, and files no sheet reads.
    (A sheet that lacks a required column keeps its previous snapshot; the rest still load.)"""
    folder = Path(section.get("dir") or "")
    if not folder.is_dir():
        return [contracts.Finding("sheets", str(folder), None, contracts.MISSING_OBJECT)]
    findings: list[contracts.Finding] = []
    used: set[str] = set()
    for sheet in SHEETS:
        result = read_sheet(folder, sheet)
        name = f"{sheet.workbook}/{sheet.sheet}"
        if result is None or result.status == "missing_sheet":
            findings.append(contracts.Finding("sheets", name, None, contracts.MISSING_OBJECT))
            continue
        used.add(result.file.lower())
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
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in (".xlsx", ".csv") and p.name.lower() not in used:
            findings.append(contracts.Finding("sheets", p.name, None, contracts.UNKNOWN))
    return findings
