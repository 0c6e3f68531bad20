"""Reading one team spreadsheet: header matching, cell typing and quarantine of bad rows."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet import _reader as openpyxl_reader

from ingest.sheets.settings import Column, Sheet

ARROW = {
    "text": pa.string(),
    "int": pa.int64(),
    "decimal": pa.decimal128(18, 2),
    "percent": pa.decimal128(9, 4),
    "date": pa.date32(),
    "month": pa.date32(),
}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")
_MONTH_FORMATS = ("%Y-%m", "%Y/%m", "%Y.%m", "%Y年%m月")
# the usual text dates and months ("2026-03-15", "2026/3/5", "2026-03"), read without trying
# each format in turn (``strptime`` ~10 µs a try; the sheets' load at scale M 2.15 → 1.8-2.0 s);
# what it does not match, or cannot be that day, goes through the formats as before
_NUMERIC_DATE = re.compile(r"(\d{4})([-/.])(1[0-2]|0[1-9]|[1-9])(?:\2(3[01]|[12]\d|0[1-9]|[1-9]))?")


def _dimensions_before_the_data(parser: openpyxl_reader.WorkSheetParser) -> Any:
    """A sheet's declared size (its ``<dimension>`` element), or None when it declares none:
    what openpyxl's ``WorkSheetParser.parse_dimensions`` returns, without parsing the cells.

    openpyxl 3.1 reads end tags there, and ``<sheetData>`` ends after the last cell, so a sheet
    without ``<dimension>`` (written by a program rather than Excel or WPS) was parsed to its
    end every time a read-only workbook was opened, for each of its sheets, only to find
    nothing. The element comes before ``<sheetData>`` (ECMA-376 CT_Worksheet): start tags say
    as much once the cells begin. At scale M that was 0.6 s of the sheets' step's 2.9 s."""
    for _event, element in openpyxl_reader.iterparse(parser.source, events=("start",)):
        if element.tag == openpyxl_reader.DIMENSION_TAG:
            return openpyxl_reader.SheetDimension.from_tree(element).boundaries
        if element.tag == openpyxl_reader.DATA_TAG:
            return None
    return None


# openpyxl's own, kept for the tests that hold the two to the same answers
OPENPYXL_PARSE_DIMENSIONS = openpyxl_reader.WorkSheetParser.parse_dimensions
if openpyxl.__version__.startswith("3.1."):  # the parser this was written against
    openpyxl_reader.WorkSheetParser.parse_dimensions = _dimensions_before_the_data


class CellError(ValueError):
    """A cell that cannot be read as its column's type."""


@dataclass
class SheetResult:
    """What one sheet yielded: typed rows, quarantined rows and the load report."""

    sheet: Sheet
    file: str
    status: str = "loaded"
    rows: list[dict[str, Any]] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    rows_read: int = 0
    rows_defaulted: int = 0  # rows taken from the shipped defaults (ingest/sheets/defaults)

    def table(self) -> pa.Table:
        fields = [pa.field(c.name, ARROW[c.kind]) for c in self.sheet.columns]
        if self.extras:
            fields.append(pa.field("extra_columns", pa.string()))
        schema = pa.schema(fields)
        return pa.table({f.name: [r.get(f.name) for r in self.rows] for f in schema}, schema=schema)

    def report(self, loaded_at: datetime) -> dict[str, Any]:
        return {
            "loaded_at": loaded_at,
            "file": self.file,
            "sheet": self.sheet.sheet,
            "table_name": self.sheet.table,
            "status": self.status,
            "rows_read": self.rows_read,
            "rows_loaded": len(self.rows) - self.rows_defaulted,
            "rows_quarantined": self.rows_read - (len(self.rows) - self.rows_defaulted),
            "rows_defaulted": self.rows_defaulted,
        }


def norm_header(text: Any) -> str:
    return re.sub(r"\s+", "", str(text or "")).lower()


def to_value(value: Any, kind: str) -> Any:
    """Read a cell as ``kind``; None for blank; CellError with the reason otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        value = value.strip()
    try:
        if kind == "text":
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            if isinstance(value, datetime | date):
                return value.isoformat()
            return str(value)
        if kind == "int":
            number = Decimal(str(value).replace(",", ""))
            if number != number.to_integral_value():
                raise CellError(f"not a whole number: {value!r}")
            return int(number)
        if kind == "decimal":
            text = re.sub(r"[,¥￥\s]", "", str(value))
            return Decimal(text).quantize(Decimal("0.01"))
        if kind == "percent":
            text = str(value)
            number = Decimal(text.rstrip("%").strip())
            if text.endswith("%") or number > 1:
                number = number / 100
            if not 0 <= number <= 1:
                raise CellError(f"not a share between 0 and 100%: {value!r}")
            return number.quantize(Decimal("0.0001"))
        if kind in ("date", "month"):
            day = _to_date(value, month=kind == "month")
            return day.replace(day=1) if kind == "month" else day
    except (InvalidOperation, ValueError, OverflowError) as exc:
        if isinstance(exc, CellError):
            raise
        raise CellError(f"not a {_KIND_NAMES[kind]}: {value!r}") from exc
    raise ValueError(f"unknown column type {kind}")


_KIND_NAMES = {
    "text": "text",
    "int": "whole number",
    "decimal": "number",
    "percent": "percentage",
    "date": "date",
    "month": "month",
}


def _to_date(value: Any, month: bool) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel serial date
            return from_excel(value).date()
        raise CellError(f"not a date: {value!r}")
    text = str(value)
    numeric = _NUMERIC_DATE.fullmatch(text)
    if numeric and (numeric[4] or month):
        try:
            return date(int(numeric[1]), int(numeric[3]), int(numeric[4] or 1))
        except ValueError:
            pass  # no such day (2026-02-30): the formats below name it
    for fmt in _DATE_FORMATS + (_MONTH_FORMATS if month else ()):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if not month:
        for fmt in _MONTH_FORMATS:
            try:
                datetime.strptime(text, fmt)
            except ValueError:
                continue
            raise CellError(f"a month, not a date: {value!r}")
    raise CellError(f"not a date (YYYY-MM-DD): {value!r}")


def find_file(folder: Path, sheet: Sheet) -> Path | None:
    """The workbook, or a CSV export of the sheet (``<workbook>__<sheet>.csv``, ``<sheet>.csv``
    or ``<table>.csv``)."""
    for name in (f"{sheet.workbook}.xlsx", f"{sheet.workbook}__{sheet.sheet}.csv",
                 f"{sheet.sheet}.csv", f"{sheet.table}.csv"):  # fmt: skip
        path = folder / name
        if path.is_file():
            return path
    if sheet.workbook == sheet.table or sheet.workbook in ("settings", "legacy_visits"):
        path = folder / f"{sheet.workbook}.csv"
        if path.is_file():
            return path
    return None


def known_files(sheets: tuple[Sheet, ...]) -> set[str]:
    """Every file name a sheet of ``sheets`` may be read from."""
    names = set()
    for sheet in sheets:
        names |= {f"{sheet.workbook}.xlsx", f"{sheet.workbook}__{sheet.sheet}.csv",
                  f"{sheet.sheet}.csv", f"{sheet.table}.csv"}  # fmt: skip
        if sheet.workbook == sheet.table or sheet.workbook in ("settings", "legacy_visits"):
            names.add(f"{sheet.workbook}.csv")
    return names


def unknown_files(folder: Path, sheets: tuple[Sheet, ...]) -> list[str]:
    """Spreadsheets (.xlsx, .xls, .csv) in ``folder`` that no sheet reads: a misnamed workbook
    (``org.csv`` for ``org.xlsx``/``销售团队.csv``) would otherwise be ignored without a word.
    Office's lock files (``~$…``) and hidden files are left out."""
    known = known_files(sheets)
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in (".xlsx", ".xls", ".xlsm", ".csv")
        and not p.name.startswith(("~$", "."))
        and p.name not in known
    )


def file_digest(path: Path) -> str:
    """A hash of what a load reads from the file: its bytes, but of a workbook (.xlsx) only the
    parts that hold its sheets, their cells and styles. Left out are the document properties
    (``docProps/``: author, the time it was saved), which every save rewrites: a workbook saved
    again, or written again by a program, with the same cells has the same digest."""
    digest = hashlib.sha256()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            with zipfile.ZipFile(path) as zf:
                for name in sorted(zf.namelist()):
                    if not name.startswith("docProps/"):
                        digest.update(name.encode() + b"\0")
                        digest.update(zf.read(name))
            return digest.hexdigest()
        except zipfile.BadZipFile:
            digest = hashlib.sha256()  # not a workbook: its bytes (openpyxl names the problem)
    digest.update(path.read_bytes())
    return digest.hexdigest()


UNCACHED_FORMULA = (
    "the cell holds a formula with no saved value (the workbook was written by a program and "
    "never saved in Excel): open it in Excel or WPS, save it, and load again"
)


def raw_rows(path: Path, sheet_name: str) -> Iterator[tuple[int, tuple[Any, ...]]] | None:
    """(row number as the user sees it, values) for every row, header first; None when the
    workbook has no such sheet."""
    if path.suffix.lower() == ".csv":
        return _csv_rows(path)
    merged = _has_merged_cells(path)
    # read-only mode streams large sheets but cannot see merged ranges: used when there are none
    wb = load_workbook(path, read_only=not merged, data_only=True)
    names = {n.strip(): n for n in wb.sheetnames}
    if sheet_name not in names:
        wb.close()
        return None
    ws = wb[names[sheet_name]]
    fill: dict[tuple[int, int], Any] = {}
    if merged:
        # a merged range shows its value in every cell it covers, as the user sees it
        for rng in ws.merged_cells.ranges:
            value = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    fill[(r, c)] = value

    def rows() -> Iterator[tuple[int, tuple[Any, ...]]]:
        try:
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if fill:
                    values = tuple(fill.get((number, c), v) for c, v in enumerate(values, start=1))
                yield number, values
        finally:
            wb.close()

    return rows()


def _has_merged_cells(path: Path) -> bool:
    """Whether any worksheet of the .xlsx declares merged cells (a scan of its XML)."""
    try:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    with zf.open(name) as fh:
                        tail = b""
                        while chunk := fh.read(1 << 20):
                            if b"<mergeCell " in tail + chunk:
                                return True
                            tail = chunk[-16:]
    except zipfile.BadZipFile:
        return False  # openpyxl names the problem when it opens the file
    return False


def uncached_formulas(path: Path, sheet_name: str) -> dict[tuple[int, int], str]:
    """{(row, column): formula} of the sheet's formula cells that hold no saved value (a workbook
    written by a program and never opened and saved in Excel or WPS): read as values they are
    blank, though the user sees a figure. Empty for CSV files and workbooks without formulas."""
    if path.suffix.lower() == ".csv" or not _has_formulas(path):
        return {}
    values = load_workbook(path, read_only=True, data_only=True)
    formulas = load_workbook(path, read_only=True, data_only=False)
    try:
        names = {n.strip(): n for n in formulas.sheetnames}
        if sheet_name not in names:
            return {}
        found = {}
        rows = zip(
            formulas[names[sheet_name]].iter_rows(values_only=True),
            values[names[sheet_name]].iter_rows(values_only=True),
            strict=False,
        )
        for number, (text, value) in enumerate(rows, start=1):
            for column, (f, v) in enumerate(zip(text, value, strict=False), start=1):
                if v is None and isinstance(f, str) and f.startswith("="):
                    found[(number, column)] = f
        return found
    finally:
        values.close()
        formulas.close()


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the .xlsx holds a formula (a scan of its XML)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(
                b"<f>" in zf.read(n) or b"<f " in zf.read(n)
                for n in zf.namelist()
                if n.startswith("xl/worksheets/") and n.endswith(".xml")
            )
    except zipfile.BadZipFile:
        return False


def _csv_rows(path: Path) -> Iterator[tuple[int, tuple[Any, ...]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for number, values in enumerate(csv.reader(fh), start=1):
            yield number, tuple(values)


def read_sheet(folder: Path, sheet: Sheet, header_only: bool = False) -> SheetResult | None:
    """Read and type one sheet. None when its file is absent (an optional workbook).
    ``header_only``: stop once the header is read (what the sheet's contract needs): the status
    and the header's findings (a missing sheet or required columns, extra columns), no rows."""
    path = find_file(folder, sheet)
    if path is None:
        return None
    result = SheetResult(sheet=sheet, file=path.name)
    rows = raw_rows(path, sheet.sheet)
    try:
        return _read_sheet(result, path, rows, header_only)
    finally:
        if rows is not None:
            rows.close()  # the workbook, wherever the read stopped


def _read_sheet(
    result: SheetResult,
    path: Path,
    rows: Iterator[tuple[int, tuple[Any, ...]]] | None,
    header_only: bool,
) -> SheetResult:
    sheet = result.sheet
    if rows is None:
        result.status = "missing_sheet"
        result.quarantine.append(_q(result, None, None, None, f"no sheet named {sheet.sheet}"))
        return result
    header_row: tuple[Any, ...] | None = None
    header_no = 0
    for number, values in rows:
        if any(v not in (None, "") for v in values):
            header_row, header_no = values, number
            break
    if header_row is None:
        result.status = "empty"
        result.quarantine.append(_q(result, None, None, None, "the sheet is empty"))
        return result

    positions, extras = _match_header(sheet, header_row)
    # a two-row header (a merged group title such as 目标 above 签约目标 | 回款目标): the
    # second row names the columns, the first fills in where the second is blank. Taken when
    # it names more of the sheet's columns than the first row alone and all required ones.
    pending: list[tuple[int, tuple[Any, ...]]] = []
    for number, values in rows:
        pending.append((number, values))
        if any(v not in (None, "") for v in values):
            break
    if pending and any(v not in (None, "") for v in pending[-1][1]):
        second_no, second = pending[-1]
        combined = tuple(
            (second[i] if i < len(second) and second[i] not in (None, "") else None)
            or (header_row[i] if i < len(header_row) else None)
            for i in range(max(len(header_row), len(second)))
        )
        positions2, extras2 = _match_header(sheet, combined)
        if len(positions2) > len(positions) and all(
            c in positions2.values() for c in sheet.columns if c.required
        ):
            header_row, header_no = combined, second_no
            positions, extras, pending = positions2, extras2, []
    missing = [c for c in sheet.columns if c.required and c not in positions.values()]
    rows = itertools.chain(pending, rows)
    if missing:
        result.status = "missing_columns"
        names = ", ".join(f"{c.zh} ({c.name})" for c in missing)
        result.quarantine.append(
            _q(result, header_no, names, None, f"required column(s) missing: {names}")
        )
        if not header_only:
            # count what the sheet held, so the report still says how much did not load
            result.rows_read = sum(1 for _, v in rows if any(x not in (None, "") for x in v))
        return result
    # extra columns keep their header as written, as JSON (column names would lose Chinese)
    result.extras = list(extras.values())
    if header_only:
        return result
    formulas: dict[tuple[int, int], str] | None = None  # read when a blank cell is met
    for number, values in rows:
        if not any(v not in (None, "") for v in values):
            continue
        result.rows_read += 1
        record: dict[str, Any] = {}
        problem = None
        for i, col in positions.items():
            raw = values[i] if i < len(values) else None
            if raw is None:
                if formulas is None:
                    formulas = uncached_formulas(path, sheet.sheet)
                if (number, i + 1) in formulas:
                    problem = (col, formulas[number, i + 1], UNCACHED_FORMULA)
                    break
            try:
                value = to_value(raw, col.kind)
            except CellError as exc:
                problem = (col, raw, str(exc))
                break
            if value is None and col.required:
                problem = (col, raw, "required value is blank")
                break
            record[col.name] = value
        if problem:
            col, raw, reason = problem
            header = str(header_row[[k for k, c in positions.items() if c is col][0]]).strip()
            result.quarantine.append(_q(result, number, header, raw, reason))
            continue
        if extras:
            record["extra_columns"] = json.dumps(
                {name: to_value(values[i] if i < len(values) else None, "text")
                 for i, name in extras.items()},
                ensure_ascii=False,
            )  # fmt: skip
        record["_row"] = number  # for a later check to name the row (not landed)
        result.rows.append(record)
    return result


def _match_header(sheet: Sheet, header_row: tuple[Any, ...]) -> tuple[dict, dict]:
    """Columns of ``sheet`` found in ``header_row`` by position, and the extra headers."""
    by_header = {}
    for col in sheet.columns:
        by_header[norm_header(col.zh)] = col
        by_header[norm_header(col.name)] = col
    positions: dict[int, Column] = {}
    extras: dict[int, str] = {}
    for i, text in enumerate(header_row):
        key = norm_header(text)
        if not key:
            continue
        col = by_header.get(key)
        if col is not None and col not in positions.values():
            positions[i] = col
        else:
            extras[i] = str(text).strip()
    return positions, extras


def _q(result: SheetResult, row: int | None, column: str | None, value: Any, reason: str):
    return {
        "file": result.file,
        "sheet": result.sheet.sheet,
        "table_name": result.sheet.table,
        "row_number": row,
        "column_name": column,
        "value": None if value is None else str(value),
        "reason": reason,
    }
