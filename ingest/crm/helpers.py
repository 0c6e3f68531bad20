"""Salesforce plumbing: object specs and Arrow types, the export-folder reader, the REST client.

Both ways in (a Data Export folder and the REST API) produce Arrow tables with the same schema,
built from ``settings.OBJECTS``, so they land in the same raw tables with the same types.
"""

from __future__ import annotations

import csv
import json
import logging
import random
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import requests
from dlt.common.normalizers.naming.snake_case import NamingConvention

from ingest import contracts
from ingest.crm import settings
from ingest.sessions import api_session

logger = logging.getLogger("ingest.crm")


class CrmError(Exception):
    """Base class of the CRM source's errors."""


class CrmExportError(CrmError):
    """An export file cannot be read: names the file, and the row and column where known."""


class CrmAuthError(CrmError):
    """The token endpoint refused the credentials, or a fresh token is refused by the API."""


class CrmApiError(CrmError):
    """The REST API answered with an error retrying cannot fix, or the retry budget ran out."""


# -- object specs ------------------------------------------------------------------------------

# Salesforce field types (describe ``type``) -> the Arrow type a raw column lands with.
CURRENCY_TYPE = pa.decimal128(18, 2)
_ARROW_TYPES: dict[str, pa.DataType] = {
    "datetime": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "boolean": pa.bool_(),
    "currency": CURRENCY_TYPE,
    "double": pa.float64(),
    "percent": pa.float64(),
    "integer": pa.int64(),
    "int": pa.int64(),
    "long": pa.int64(),
}
_TEXT_TYPES = {
    "id",
    "reference",
    "string",
    "text",
    "textarea",
    "picklist",
    "multipicklist",
    "combobox",
    "email",
    "phone",
    "url",
}


_NAMING = NamingConvention()


def column_name(api_name: str) -> str:
    """The raw column an API field lands in: dlt's snake_case of the whole name
    (``SystemModstamp`` -> ``system_modstamp``, ``Evidence_Type__c`` -> ``evidence_type_c``).

    Columns are named here, before dlt sees the Arrow table: dlt reads ``__`` inside an Arrow
    column name as a nesting separator and would land ``evidence_type__c``.
    """
    return _NAMING.normalize_identifier(api_name)


def arrow_type(sf_type: str) -> pa.DataType:
    t = sf_type.lower()
    if t in _ARROW_TYPES:
        return _ARROW_TYPES[t]
    if t in _TEXT_TYPES:
        return pa.string()
    raise ValueError(f"unknown Salesforce field type '{sf_type}'")


@dataclass(frozen=True)
class ObjectSpec:
    """One Salesforce object: its raw table, fields (API name -> Salesforce type) and cursor."""

    name: str
    table: str
    fields: dict[str, str]
    cursor: str
    required: tuple[str, ...] = ()
    optional: dict[str, str] = field(default_factory=dict)
    required_object: bool = False
    degrades: str = ""
    # fields read under another name in this org: canonical API name -> the org's field name
    renamed: dict[str, str] = field(default_factory=dict)
    _lower: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if "Id" not in self.fields:
            raise ValueError(f"object {self.name}: field list has no 'Id'")
        if self.cursor not in self.fields:
            raise ValueError(f"object {self.name}: cursor '{self.cursor}' is not one of its fields")
        req = tuple(dict.fromkeys(("Id", self.cursor, *self.required)))
        object.__setattr__(self, "required", req)
        self._lower.update({column_name(f): f for f in self.fields if f not in self.renamed})
        self._lower.update({f.lower(): f for f in self.fields if f not in self.renamed})
        self._lower.update({org.lower(): f for f, org in self.renamed.items()})

    def source_name(self, api_name: str) -> str:
        """The org's name of a field (its canonical API name unless the run renames it)."""
        return self.renamed.get(api_name, api_name)

    @property
    def contract(self) -> contracts.ObjectContract:
        """The object's contract, in the org's field names."""
        return contracts.ObjectContract(
            name=self.name,
            required=tuple(self.source_name(f) for f in self.required),
            optional={self.source_name(f): d for f, d in self.optional.items()},
            required_object=self.required_object,
            degrades=self.degrades,
        )

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    def canonical(self, column: str) -> str | None:
        """The API field name a header column stands for: headers match case-insensitively
        (Data Loader upper-cases them), or as their landed snake_case column name."""
        key = column.strip()
        return self._lower.get(key.lower()) or self._lower.get(column_name(key))

    @property
    def cursor_column(self) -> str:
        return column_name(self.cursor)

    def arrow_field(self, name: str) -> pa.Field:
        """The landed Arrow field of API field ``name``. Required fields (``Id``, the cursor)
        are never null (checked on read), and the merge key is declared non-null."""
        return pa.field(
            column_name(name), arrow_type(self.fields[name]), nullable=name not in self.required
        )

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([self.arrow_field(f) for f in self.fields])


def _spec_from_entry(name: str, entry: Any) -> ObjectSpec:
    """Build a spec from one ``settings.OBJECTS`` entry (a mapping or an object with attributes)."""

    def get(key: str, default: Any = None) -> Any:
        if isinstance(entry, Mapping):
            return entry.get(key, default)
        return getattr(entry, key, default)

    fields = get("fields")
    types = get("types") or {}
    if isinstance(fields, Mapping):
        field_types = {str(k): str(v) for k, v in fields.items()}
    else:
        field_types = {}
        for f in fields or ():
            if isinstance(f, tuple | list):
                field_types[str(f[0])] = str(f[1])
            else:
                field_types[str(f)] = str(types.get(f, "string"))
    obj = str(get("name") or get("object") or name)
    table = get("table")
    if not table:
        raise ValueError(f"settings.OBJECTS: object {obj} names no raw table")
    # history objects are immutable rows: their cursor is CreatedDate (docs/sources.md)
    history = obj.endswith("History") or "SystemModstamp" not in field_types
    cursor = get("cursor") or ("CreatedDate" if history else "SystemModstamp")
    return ObjectSpec(
        name=obj,
        table=str(table),
        fields=field_types,
        cursor=str(cursor),
        required=tuple(get("required") or ()),
        optional=dict(get("optional") or {}),
        required_object=bool(get("required_object")),
        degrades=str(get("degrades") or ""),
    )


def object_specs(
    objects: Any = None, field_names: Mapping[str, str] | None = None
) -> dict[str, ObjectSpec]:
    """Specs of every object in ``settings.OBJECTS`` (or ``objects``), keyed by API object name.

    ``field_names``: the run configuration's ``sources.crm.fields`` (a key of
    ``settings.CONFIGURABLE_FIELDS`` -> the org's field name), e.g. ``{"erp_customer_code":
    "AccountNumber"}``: that field is read from the named one and lands in the canonical column.
    """
    objects = settings.OBJECTS if objects is None else objects
    items = objects.items() if isinstance(objects, Mapping) else [(None, o) for o in objects]
    specs = {s.name: s for s in (_spec_from_entry(name, entry) for name, entry in items)}
    renamed: dict[str, dict[str, str]] = {}
    for key, org_name in (field_names or {}).items():
        if key not in settings.CONFIGURABLE_FIELDS:
            raise ValueError(
                f"unknown CRM field key '{key}' in sources.crm.fields; expected one of "
                + ", ".join(settings.CONFIGURABLE_FIELDS)
            )
        obj, api = settings.CONFIGURABLE_FIELDS[key]
        if org_name and org_name != api and obj in specs:
            renamed.setdefault(obj, {})[api] = str(org_name)
    for obj, names in renamed.items():
        specs[obj] = replace(specs[obj], renamed=names, _lower={})
    return specs


def select_specs(names: Iterable[str] | None, specs: dict[str, ObjectSpec]) -> list[ObjectSpec]:
    """The specs for ``names`` (object names like ``Lead`` or raw table names like ``leads``)."""
    if names is None:
        return list(specs.values())
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    by_any = {
        **{s.table.lower(): s for s in specs.values()},
        **{k.lower(): s for k, s in specs.items()},
    }
    chosen: list[ObjectSpec] = []
    for n in names:
        spec = by_any.get(str(n).lower())
        if spec is None:
            raise ValueError(
                f"unknown CRM object '{n}'; expected one of {', '.join(specs)} "
                f"(or their tables {', '.join(s.table for s in specs.values())})"
            )
        if spec not in chosen:
            chosen.append(spec)
    return chosen


def parse_datetime(value: Any) -> datetime:
    """A UTC datetime from an ISO-8601 string (``...Z``, ``...+0000``) or a datetime/date."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T00:00:00"
    dt = datetime.fromisoformat(text)
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def soql_datetime(value: datetime) -> str:
    """A SOQL datetime literal (whole seconds, UTC): ``2026-03-02T01:15:00Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- export folder -----------------------------------------------------------------------------

_ARROW_COLUMN_ERROR = re.compile(r"In CSV column #(\d+): (.*)", re.S)
_TRUE = ["true", "True", "TRUE", "1"]
_FALSE = ["false", "False", "FALSE", "0"]


def find_export_file(export_dir: Path, spec: ObjectSpec) -> Path | None:
    exact = export_dir / spec.file_name
    if exact.is_file():
        return exact
    wanted = spec.file_name.lower()
    for p in export_dir.iterdir():
        if p.is_file() and p.name.lower() == wanted:
            return p
    return None


def _read_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        try:
            return next(csv.reader(fh))
        except StopIteration:
            raise CrmExportError(f"{path}: the file is empty (no header row)") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CrmExportError(f"{path}: cannot read the header row: {exc}") from exc


def _conform(
    tbl: pa.Table, spec: ObjectSpec, rename: dict[str, str], extras: list[str]
) -> pa.Table:
    """Rename header columns to API names, add absent optional fields as nulls, fix the order."""
    tbl = tbl.rename_columns([rename.get(c, c) for c in tbl.column_names])
    arrays, fields = [], []
    for name in spec.fields:
        f = spec.arrow_field(name)
        if name in tbl.column_names:
            col = tbl[name]
            arrays.append(col if col.type == f.type else col.cast(f.type))
        else:
            arrays.append(pa.nulls(tbl.num_rows, f.type))
        fields.append(f)
    for name in extras:
        arrays.append(tbl[name])
        fields.append(pa.field(column_name(name), pa.string()))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def read_export_file(
    path: Path,
    spec: ObjectSpec,
    block_size: int | None = None,
    rows_per_table: int | None = None,
) -> Iterator[pa.Table]:
    """Arrow tables of up to ``rows_per_table`` rows from one Data Export CSV, typed by the
    object's spec.

    The header holds API field names (matched case-insensitively, as Data Loader upper-cases
    them); columns beyond the spec are kept as text; absent optional fields land as nulls; an
    absent required field, a bad value or an empty ``Id``/cursor raises ``CrmExportError``
    naming the file, the data row and the column.
    """
    header = _read_header(path)
    rename: dict[str, str] = {}
    extras: list[str] = []
    seen: dict[str, str] = {}
    landed = {column_name(f) for f in spec.fields}
    for col in header:
        api = spec.canonical(col)
        if api is None:
            if not col.strip():
                raise CrmExportError(f"{path}: the header has an empty column name")
            if column_name(col) in landed:
                raise CrmExportError(
                    f"{path}: column '{col}' would land as '{column_name(col)}', "
                    f"which is already the column of a {spec.name} field"
                )
            landed.add(column_name(col))
            extras.append(col)
            continue
        if api in seen:
            raise CrmExportError(f"{path}: column '{api}' appears twice in the header")
        seen[api] = col
        rename[col] = api
    for req in spec.required:
        if req not in seen:
            raise CrmExportError(
                f"{path}: required column '{spec.source_name(req)}' is missing (object "
                f"{spec.name}); fix: add {spec.source_name(req)} to the export of {spec.name}; "
                f"the header has: {', '.join(header)}"
            )
    if len(set(header)) != len(header):
        dup = next(c for c in header if header.count(c) > 1)
        raise CrmExportError(f"{path}: column '{dup}' appears twice in the header")

    column_types = {col: arrow_type(spec.fields[api]) for col, api in rename.items()}
    column_types.update({col: pa.string() for col in extras})
    parse_opts = pacsv.ParseOptions(newlines_in_values=True)
    convert_opts = pacsv.ConvertOptions(
        column_types=column_types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        true_values=_TRUE,
        false_values=_FALSE,
    )
    rows_per_table = rows_per_table or settings.CSV_ROWS_PER_TABLE
    block = block_size or settings.CSV_BLOCK_SIZE
    done = 0  # data rows handed on so far

    def read_options(skip: int) -> pacsv.ReadOptions:
        return pacsv.ReadOptions(
            column_names=header, skip_rows=1, skip_rows_after_names=skip, block_size=block
        )

    def explain(exc: Exception) -> CrmExportError:
        msg = str(exc)
        m = _ARROW_COLUMN_ERROR.search(msg)
        if m and int(m.group(1)) < len(header):
            col = header[int(m.group(1))]
            opts = read_options(0)
            found = _first_bad_value(path, col, column_types[col], opts, parse_opts)
            if found is not None:
                row, value = found
                api = rename.get(col)
                what = spec.fields[api] if api else "text"
                return CrmExportError(
                    f"{path}: data row {row}, column '{col}': cannot read {value!r} as {what}"
                )
            return CrmExportError(f"{path}: column '{col}': {m.group(2)}")
        if "Expected" in msg and "columns" in msg:
            ragged = _first_ragged_row(path, len(header))
            if ragged is not None:
                n, got = ragged
                return CrmExportError(
                    f"{path}: data row {n} has {got} cells, the header has {len(header)} columns"
                )
        return CrmExportError(f"{path}: {msg}")

    def table(batches: list[pa.RecordBatch]) -> pa.Table:
        tbl = _conform(pa.Table.from_batches(batches), spec, rename, extras)
        for req in spec.required:
            col = tbl[column_name(req)]
            if col.null_count:
                first = pc.index(pc.is_null(col), True).as_py()
                raise CrmExportError(
                    f"{path}: data row {done + first + 1}, column '{seen[req]}': "
                    f"empty, but {spec.name}.{req} is required"
                )
        return tbl

    # Small blocks parse fastest (threads pipeline them); they are handed on in big tables.
    # A record longer than a block (long text areas) makes Arrow stop: read on from the first
    # row not yet handed on, with bigger blocks.
    while True:
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        try:
            with pacsv.open_csv(
                path,
                read_options=read_options(done),
                parse_options=parse_opts,
                convert_options=convert_opts,
            ) as reader:
                for batch in reader:
                    if batch.num_rows == 0:
                        continue
                    pending.append(batch)
                    pending_rows += batch.num_rows
                    if pending_rows >= rows_per_table:
                        tbl = table(pending)
                        pending, pending_rows = [], 0
                        yield tbl
                        done += tbl.num_rows
            if pending:
                tbl = table(pending)
                yield tbl
                done += tbl.num_rows
            return
        except pa.ArrowInvalid as exc:
            if "straddl" in str(exc) and block < _MAX_BLOCK_SIZE:
                block = min(block * 8, _MAX_BLOCK_SIZE)
                continue
            raise explain(exc) from exc


_MAX_BLOCK_SIZE = 1 << 30


def _first_ragged_row(path: Path, width: int) -> tuple[int, int] | None:
    """(data row, cells) of the first record whose cell count differs from the header's."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for n, row in enumerate(reader, start=1):
            if row and len(row) != width:
                return n, len(row)
    return None


def _first_bad_value(
    path: Path,
    column: str,
    target: pa.DataType,
    read_opts: pacsv.ReadOptions,
    parse_opts: pacsv.ParseOptions,
) -> tuple[int, str] | None:
    """(data row, value) of the first cell of ``column`` that does not convert to ``target``.

    Only runs after a conversion failed: reads that one column as text and converts it in
    slices, then cell by cell within the failing slice.
    """
    try:
        text = pacsv.read_csv(
            path,
            read_options=read_opts,
            parse_options=parse_opts,
            convert_options=pacsv.ConvertOptions(
                include_columns=[column],
                column_types={column: pa.string()},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )[column]
    except pa.ArrowInvalid:
        return None
    opts = pacsv.ConvertOptions(
        column_types={"v": target}, null_values=[""], true_values=_TRUE, false_values=_FALSE
    )

    def converts(values: list[str | None]) -> bool:
        lines = ["v"] + ['"' + v.replace('"', '""') + '"' if v is not None else "" for v in values]
        try:
            pacsv.read_csv(pa.py_buffer("\n".join(lines).encode()), convert_options=opts)
            return True
        except pa.ArrowInvalid:
            return False

    step = 10_000
    for start in range(0, len(text), step):
        chunk = text.slice(start, step).to_pylist()
        if converts(chunk):
            continue
        for i, value in enumerate(chunk):
            if value is not None and not converts([value]):
                return start + i + 1, value
    return None


# -- REST API ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff (capped) within a total time budget per request."""

    base_seconds: float = settings.RETRY_BASE_SECONDS
    max_seconds: float = settings.RETRY_MAX_SECONDS
    budget_seconds: float = settings.RETRY_BUDGET_SECONDS
    max_token_refreshes: int = 3

    def delay(self, attempt: int) -> float:
        capped = min(self.max_seconds, self.base_seconds * (2**attempt))
        return capped * (0.5 + random.random() / 2)


def _sf_errors(resp: requests.Response) -> list[dict[str, Any]]:
    """Salesforce's error body ``[{"message", "errorCode"}]`` (empty when it is something else)."""
    try:
        body = resp.json()
    except ValueError:
        return []
    if isinstance(body, dict):
        body = [body]
    return [e for e in body if isinstance(e, dict)] if isinstance(body, list) else []


def _describe(errors: list[dict[str, Any]], resp: requests.Response) -> str:
    if errors:
        return "; ".join(f"{e.get('errorCode')}: {e.get('message')}" for e in errors)
    return f"HTTP {resp.status_code}: {resp.text[:200]!r}"


class SalesforceClient:
    """OAuth 2.0 token + SOQL queries with ``nextRecordsUrl`` paging, retries and token refresh.

    Token flows against ``/services/oauth2/token``: username-password when ``username`` and
    ``password`` are given, otherwise client credentials. A 401 ``INVALID_SESSION_ID`` gets a
    fresh token and a retry; ``REQUEST_LIMIT_EXCEEDED`` (403), 5xx, 429, dropped connections and
    truncated or invalid JSON bodies are retried with capped exponential backoff until the
    retry budget runs out. Secrets are never logged or put in error messages.
    """

    def __init__(
        self,
        instance_url: str,
        client_id: str,
        client_secret: str,
        username: str | None = None,
        password: str | None = None,
        token_url: str | None = None,
        api_version: str = settings.API_VERSION,
        batch_size: int = settings.QUERY_BATCH_SIZE,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (10.0, 120.0),
        session: requests.Session | None = None,
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.token_url = token_url or f"{self.instance_url}/services/oauth2/token"
        self.api_version = api_version.lstrip("vV")
        self.batch_size = batch_size
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.session = api_session(session)
        self._client_id = client_id
        self._client_secret = client_secret
        self._username = username
        self._password = password
        self._token: str | None = None
        self._api_base: str = self.instance_url
        self.calls = 0
        self.retries = 0
        self.token_requests = 0

    # -- auth -----------------------------------------------------------------------------------
    def authenticate(self) -> None:
        if self._username and self._password:
            form = {
                "grant_type": "password",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "username": self._username,
                "password": self._password,
            }
        else:
            form = {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            }
        body = self._send("POST", self.token_url, data=form, authorized=False)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise CrmAuthError(f"POST {self.token_url}: the answer holds no access_token")
        self._token = token
        # Salesforce names the instance API calls go to (it differs from a login.salesforce.com
        # token URL); the configured URL otherwise.
        self._api_base = str(body.get("instance_url") or self.instance_url).rstrip("/")
        self.token_requests += 1

    # -- queries --------------------------------------------------------------------------------
    @property
    def data_path(self) -> str:
        return f"/services/data/v{self.api_version}"

    def describe_fields(self, sobject: str) -> list[str] | None:
        """Field names of ``sobject`` in this org (``GET .../sobjects/<Object>/describe``);
        None when the org has no such object (``NOT_FOUND``)."""
        if self._token is None:
            self.authenticate()
        url = f"{self._api_base}{self.data_path}/sobjects/{sobject}/describe"
        try:
            body = self._send("GET", url)
        except CrmApiError as exc:
            if "NOT_FOUND" in str(exc):
                return None
            raise
        if not isinstance(body, dict) or not isinstance(body.get("fields"), list):
            raise CrmApiError(f"GET {url}: the answer is not an sObject describe")
        return [str(f["name"]) for f in body["fields"] if isinstance(f, dict) and "name" in f]

    def query(self, soql: str, include_deleted: bool = True) -> Iterator[list[dict[str, Any]]]:
        """Pages of records (``attributes`` dropped) of one SOQL query, following
        ``nextRecordsUrl`` until ``done``. ``include_deleted`` uses ``queryAll`` so deleted
        records (``IsDeleted = true``) reach the warehouse and merge over their live rows."""
        if self._token is None:
            self.authenticate()
        endpoint = "queryAll" if include_deleted else "query"
        url = f"{self._api_base}{self.data_path}/{endpoint}"
        params: dict[str, str] | None = {"q": soql}
        while True:
            page = self._send("GET", url, params=params)
            if not isinstance(page, dict) or "records" not in page:
                raise CrmApiError(f"GET {url}: the answer is not a query result")
            records = page["records"]
            for rec in records:
                rec.pop("attributes", None)
            if records:
                yield records
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            url = f"{self._api_base}{next_url}"
            params = None

    def count(self, soql: str, include_deleted: bool = True) -> int:
        """The number of records a ``SELECT COUNT() FROM ...`` query counts (its ``totalSize``;
        ``include_deleted``: deleted records too, through ``queryAll``)."""
        if self._token is None:
            self.authenticate()
        endpoint = "queryAll" if include_deleted else "query"
        url = f"{self._api_base}{self.data_path}/{endpoint}"
        page = self._send("GET", url, params={"q": soql})
        if not isinstance(page, dict) or not isinstance(page.get("totalSize"), int):
            raise CrmApiError(f"GET {url}: the answer to a COUNT() query holds no totalSize")
        return page["totalSize"]

    def change_stamp(self, spec: ObjectSpec, include_deleted: bool = True) -> list[Any] | None:
        """What ``spec``'s object holds now, in two answers Salesforce gives without paging its
        records: how many there are and the newest cursor value (``SystemModstamp``; history
        objects: ``CreatedDate``). A record created, edited or deleted (with ``queryAll``: a
        deleted record's ``SystemModstamp`` moves on) changes it. None when the org has no such
        object."""
        try:
            total = self.count(f"SELECT COUNT() FROM {spec.name}", include_deleted)
        except CrmApiError as exc:
            if "INVALID_TYPE" in str(exc):
                return None
            raise
        newest = (
            f"SELECT {spec.cursor} FROM {spec.name} ORDER BY {spec.cursor} DESC NULLS LAST LIMIT 1"
        )
        first = next(iter(self.query(newest, include_deleted=include_deleted)), [])
        return [total, first[0].get(spec.cursor) if first else None]

    # -- transport ------------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        authorized: bool = True,
    ) -> Any:
        started = time.monotonic()
        attempt = 0
        refreshes = 0
        where = f"{method} {url.split('?')[0]}"
        if authorized and self._token is None:
            self.authenticate()
        while True:
            headers = {"Accept": "application/json"}
            if authorized:
                headers["Authorization"] = f"Bearer {self._token}"
                headers["Sforce-Query-Options"] = f"batchSize={self.batch_size}"
            problem: str
            retry_after: float | None = None
            self.calls += 1
            try:
                resp = self.session.request(
                    method, url, params=params, data=data, headers=headers, timeout=self.timeout
                )
                status = resp.status_code
                if status == 200:
                    try:
                        return json.loads(resp.content.decode("utf-8"), parse_float=Decimal)
                    except (ValueError, UnicodeDecodeError) as exc:
                        problem = f"invalid or truncated JSON ({exc})"
                else:
                    errors = _sf_errors(resp)
                    codes = {e.get("errorCode") for e in errors}
                    if not authorized:
                        if status >= 500 or status == 429:
                            problem = f"HTTP {status}"
                        else:
                            desc = ""
                            try:
                                j = resp.json()
                                desc = f"{j.get('error')}: {j.get('error_description')}"
                            except (ValueError, AttributeError):
                                desc = f"HTTP {status}"
                            raise CrmAuthError(
                                f"{where}: the token request was refused ({desc}); check "
                                "SOURCES__CRM__CLIENT_ID / CLIENT_SECRET / USERNAME / PASSWORD"
                            )
                    elif status == 401:
                        if refreshes >= self.retry.max_token_refreshes:
                            raise CrmAuthError(
                                f"{where}: {_describe(errors, resp)} even after "
                                f"{refreshes} fresh tokens"
                            )
                        refreshes += 1
                        logger.info("%s: session expired or invalid, fetching a new token", where)
                        self.authenticate()
                        continue
                    elif status >= 500 or status == 429 or "REQUEST_LIMIT_EXCEEDED" in codes:
                        problem = _describe(errors, resp)
                        ra = resp.headers.get("Retry-After")
                        if ra and ra.isdigit():
                            retry_after = float(ra)
                    else:
                        raise CrmApiError(f"{where}: {_describe(errors, resp)}")
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:  # dropped connection or a body cut short
                problem = f"{type(exc).__name__}: {exc}"
            delay = self.retry.delay(attempt)
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.retry.max_seconds))
            elapsed = time.monotonic() - started
            if elapsed + delay > self.retry.budget_seconds:
                raise CrmApiError(
                    f"{where}: gave up after {attempt + 1} attempts in {elapsed:.1f}s "
                    f"(retry budget {self.retry.budget_seconds:g}s); last error: {problem}"
                )
            logger.warning("%s: %s; retrying in %.2fs", where, problem, delay)
            self.retries += 1
            attempt += 1
            time.sleep(delay)


def build_soql(
    spec: ObjectSpec, since: datetime | None, fields: Iterable[str] | None = None
) -> str:
    """The one query shape the source sends:
    ``SELECT <fields> FROM <Object> [WHERE <cursor> >= <datetime>] ORDER BY <cursor>``.

    ``>=`` on the cursor floored to the second: records sharing the last cursor value are
    fetched again and dropped by the incremental's boundary de-duplication, so none is missed.
    """
    where = f" WHERE {spec.cursor} >= {soql_datetime(since)}" if since is not None else ""
    names = ", ".join(spec.source_name(f) for f in (fields if fields is not None else spec.fields))
    return f"SELECT {names} FROM {spec.name}{where} ORDER BY {spec.cursor}"


def queryable_fields(spec: ObjectSpec, org_fields: Iterable[str]) -> list[str]:
    """The spec's fields the org has (by its describe), in spec order.

    Custom fields (``__c``) differ between orgs: an absent optional field lands as NULL, as it
    does from an export without that column; an absent required field is an error.
    """
    have = {f.lower() for f in org_fields}
    missing = [f for f in spec.fields if spec.source_name(f).lower() not in have]
    required = [spec.source_name(f) for f in missing if f in spec.required]
    if required:
        raise CrmApiError(
            f"{spec.name} has no field {', '.join(required)} in this org (describe), "
            f"but the source requires it; fix: give the integration user access to it"
        )
    if missing:
        logger.warning(
            "Salesforce object %s has no field %s: its column %s lands empty",
            spec.name,
            ", ".join(spec.source_name(f) for f in missing),
            ", ".join(column_name(f) for f in missing),
        )
    return [f for f in spec.fields if spec.source_name(f).lower() in have]


def _converter(t: pa.DataType) -> Any:
    """Salesforce JSON value -> Python value Arrow takes for type ``t`` (None stays None)."""
    if t == pa.string():
        return str
    if pa.types.is_timestamp(t):
        return parse_datetime
    if pa.types.is_date(t):
        return lambda v: date.fromisoformat(str(v))
    if pa.types.is_decimal(t):
        return lambda v: v if isinstance(v, Decimal) else Decimal(str(v))
    if pa.types.is_floating(t):
        return float
    if pa.types.is_integer(t):
        return lambda v: _exact_int(v)
    if pa.types.is_boolean(t):
        return lambda v: v if isinstance(v, bool) else _bool(v)
    raise TypeError(f"no converter for {t}")  # pragma: no cover - arrow_type covers every type


def _exact_int(v: Any) -> int:
    i = int(v)
    if i != v and not isinstance(v, str):
        raise ValueError(f"{v!r} is not a whole number")
    return i


def _bool(v: Any) -> bool:
    text = str(v).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError(f"{v!r} is not a boolean")


def records_to_arrow(records: list[dict[str, Any]], spec: ObjectSpec) -> pa.Table:
    """One Arrow table from REST records (Salesforce JSON typing), with the spec's schema.
    A value that does not fit its field's type raises ``CrmApiError`` naming object, field
    and record ``Id``."""
    arrays = []
    for name in spec.fields:
        f = spec.arrow_field(name)
        convert = _converter(f.type)
        values = [r.get(spec.source_name(name)) for r in records]
        try:
            arr = pa.array([None if v is None else convert(v) for v in values], f.type)
        except (pa.ArrowException, TypeError, ValueError, ArithmeticError) as exc:
            for rec in records:
                v = rec.get(name)
                try:
                    if v is not None:
                        pa.array([convert(v)], f.type)
                except (pa.ArrowException, TypeError, ValueError, ArithmeticError):
                    raise CrmApiError(
                        f"{spec.name}.{name} on record {rec.get('Id')}: cannot read {v!r} "
                        f"as {spec.fields[name]}"
                    ) from exc
            raise CrmApiError(f"{spec.name}.{name}: {exc}") from exc
        if not f.nullable and arr.null_count:
            first = next(r for r in records if r.get(name) is None)
            raise CrmApiError(f"{spec.name}.{name} is empty on record {first.get('Id')}")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=spec.schema)


# -- contract ----------------------------------------------------------------------------------


def header_findings(spec: ObjectSpec, header: Iterable[str] | None) -> list[contracts.Finding]:
    """The contract findings of one object whose file header (or describe) is ``header``
    (None: the object is absent)."""
    present = None
    if header is not None:
        present = []
        for col in header:
            api = spec.canonical(col)
            present.append(spec.source_name(api) if api else col.strip())
    known = [spec.source_name(f) for f in spec.fields]
    return contracts.compare("crm", spec.contract, present, known)


def export_findings(export_dir: Path, specs: Iterable[ObjectSpec]) -> list[contracts.Finding]:
    """Contract findings of an export folder, from the files' header rows (nothing is loaded):
    per object its missing and unknown columns, a missing file, and files no object reads."""
    specs = list(specs)
    findings: list[contracts.Finding] = []
    for spec in specs:
        path = find_export_file(export_dir, spec)
        findings += header_findings(spec, None if path is None else _read_header(path))
    read = {s.file_name.lower() for s in object_specs().values()}
    for p in sorted(export_dir.iterdir()):
        if p.is_file() and p.suffix.lower() == ".csv" and p.name.lower() not in read:
            findings.append(contracts.Finding("crm", p.name, None, contracts.UNKNOWN))
    return findings


def api_findings(client: SalesforceClient, specs: Iterable[ObjectSpec]) -> list[contracts.Finding]:
    """Contract findings of an org over the REST API, from each object's describe (an org's
    other fields are not read, so they are not reported)."""
    return [
        f
        for spec in specs
        for f in header_findings(spec, client.describe_fields(spec.name))
        if f.status != contracts.UNKNOWN
    ]
