"""A Salesforce REST API stand-in serving the org an export folder holds.

Speaks the parts of the contract the CRM source uses:

- ``POST /services/oauth2/token`` (``grant_type=password`` or ``client_credentials``,
  form-encoded; the client's id and secret in the form or in a Basic ``Authorization``
  header) -> ``{"access_token", "instance_url", "id", "token_type", "issued_at",
  "signature"}``; bad credentials -> 400 ``{"error": "invalid_grant" | "invalid_client", ...}``.
- ``GET /services/data/vXX.X/query?q=<SOQL>`` and ``.../queryAll?q=`` (``queryAll`` also
  returns deleted records) for the query shapes the source sends:
  ``SELECT f1, f2 FROM Object [WHERE Field > | >= <datetime>] [ORDER BY Field [ASC | DESC]
  [NULLS FIRST | LAST]] [LIMIT n]`` (nulls sort first unless ``NULLS LAST``, as in SOQL) and
  ``SELECT COUNT() FROM Object [WHERE ...]`` (``totalSize`` is the count, ``records`` empty;
  ``COUNT()`` with ``ORDER BY`` is ``MALFORMED_QUERY``);
  pages via ``nextRecordsUrl`` = ``/services/data/vXX.X/query/<locator>-<offset>``. The result
  is a snapshot taken when the query ran, as Salesforce's query cursors are. ``soql`` keeps
  every query asked.
- Salesforce JSON typing: numbers, booleans, ``"2026-03-02T01:15:00.000+0000"`` datetimes,
  ``"2026-03-02"`` dates, ``null`` for empty, and ``attributes {type, url}`` on every record.
- ``GET /services/data/vXX.X/sobjects/<Object>/describe``: the object's fields (the columns its
  file has; all of the object's known fields when there is no file).
- Errors as Salesforce writes them: ``[{"message": ..., "errorCode": ...}]``
  (``INVALID_SESSION_ID`` 401, ``REQUEST_LIMIT_EXCEEDED`` 403, ``MALFORMED_QUERY`` /
  ``INVALID_FIELD`` / ``INVALID_TYPE`` 400, ``INVALID_QUERY_LOCATOR`` 400, ``NOT_FOUND`` 404).

Faults (``Faults.kinds``): ``"5xx"`` (500/502/503), ``"rate_limit"`` (403
REQUEST_LIMIT_EXCEEDED), ``"expired_token"`` (the presented token is revoked: 401
INVALID_SESSION_ID until the client fetches a new one), ``"slow"``, ``"truncated"`` (half a
body with the full ``Content-Length``). The token endpoint is never faulted.
"""

from __future__ import annotations

import base64
import csv
import random
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from devkit.standins.base import Faults, Request, Response, StandIn
from ingest.crm.helpers import ObjectSpec, object_specs, parse_datetime

_VERSION = r"v(?P<version>\d+\.\d)"
_QUERY_PATH = re.compile(rf"^/services/data/{_VERSION}/(?P<endpoint>query|queryAll)/?$")
_DESCRIBE_PATH = re.compile(rf"^/services/data/{_VERSION}/sobjects/(?P<object>\w+)/describe/?$")
_MORE_PATH = re.compile(
    rf"^/services/data/{_VERSION}/(?P<endpoint>query|queryAll)/(?P<locator>01g\w+)-(?P<offset>\d+)$"
)
_SOQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<wfield>\w+)\s*(?P<op>>=|>)\s*(?P<literal>\S+))?"
    r"(?:\s+ORDER\s+BY\s+(?P<ofield>\w+)(?:\s+(?P<direction>ASC|DESC))?"
    r"(?:\s+NULLS\s+(?P<nulls>FIRST|LAST))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.I | re.S,
)
_SOQL_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})$"
)
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def _errors(code: str, message: str, status: int) -> Response:
    return Response.json([{"message": message, "errorCode": code}], status=status)


def sf_datetime(value: datetime) -> str:
    """Salesforce's JSON datetime: ``2026-03-02T01:15:00.000+0000``."""
    v = value.astimezone(UTC)
    return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}+0000"


@dataclass
class _Table:
    """One object's records (typed Python values) and the file state they were read from."""

    stamp: tuple[int, int]
    records: list[dict[str, Any]]
    fields: dict[str, str]  # every served field (API name -> Salesforce type)


class SalesforceStandIn(StandIn):
    """Serves ``export_dir`` (one ``<Object>.csv`` per object) as a Salesforce org.

    Files are re-read when they change, so a test can edit the org between runs.
    ``requests`` counts calls by path; ``tokens_issued`` counts tokens handed out.
    """

    def __init__(
        self,
        export_dir: str | Path,
        faults: Faults | None = None,
        page_size: int = 2000,
        client_id: str = "standin-client-id",
        client_secret: str = "standin-client-secret",
        username: str | None = None,
        password: str | None = None,
        objects: Any = None,
    ) -> None:
        super().__init__(faults)
        self.export_dir = Path(export_dir)
        self.page_size = page_size
        self.client_id = client_id
        self.client_secret = client_secret
        self.username = username
        self.password = password
        self.specs: dict[str, ObjectSpec] = object_specs(objects)
        self._by_lower = {k.lower(): k for k in self.specs}
        self._tokens: set[str] = set()
        self.tokens_issued = 0
        self.issued_tokens: list[str] = []  # every token handed out (tests look for leaks)
        # query locator -> (object, the result snapshot as JSON records, page size)
        self._cursors: dict[str, tuple[str, list[dict[str, Any]], int]] = {}
        self._tables: dict[str, _Table] = {}
        self._data_lock = threading.Lock()
        self._fault_rng = random.Random(self.faults.seed + 1)
        self.soql: list[str] = []  # every query asked, in order

    def start(self) -> SalesforceStandIn:
        super().start()
        # Headers and body go out as two writes; without TCP_NODELAY (inherited by accepted
        # sockets) Nagle + delayed ACK stall every keep-alive answer by ~40 ms.
        assert self._server is not None
        self._server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    # -- data -----------------------------------------------------------------------------------
    def _table(self, obj: str) -> _Table | None:
        spec = self.specs[obj]
        path = self.export_dir / spec.file_name
        if not path.is_file():
            return None
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        with self._data_lock:
            cached = self._tables.get(obj)
            if cached is not None and cached.stamp == stamp:
                return cached
            table = self._load(path, spec, stamp)
            self._tables[obj] = table
            return table

    def _load(self, path: Path, spec: ObjectSpec, stamp: tuple[int, int]) -> _Table:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            names = [spec.canonical(h) or h for h in header]
            fields = {n: spec.fields.get(n, "string") for n in names}
            records = []
            for row in reader:
                rec = {n: self._typed(v, fields[n]) for n, v in zip(names, row, strict=True)}
                records.append(rec)
        return _Table(stamp, records, fields)

    @staticmethod
    def _typed(text: str, sf_type: str) -> Any:
        if text == "":
            return None
        t = sf_type.lower()
        if t == "datetime":
            return parse_datetime(text)
        if t == "date":
            return text
        if t == "boolean":
            low = text.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(f"not a boolean: {text!r}")
        if t in ("integer", "int", "long"):
            return int(text)
        if t in ("currency", "double", "percent"):
            return Decimal(text)
        return text

    def _json_record(self, obj: str, version: str, rec: dict[str, Any], fields: list[str]) -> dict:
        out: dict[str, Any] = {
            "attributes": {
                "type": obj,
                "url": f"/services/data/v{version}/sobjects/{obj}/{rec.get('Id')}",
            }
        }
        for f in fields:
            v = rec.get(f)
            if isinstance(v, datetime):
                v = sf_datetime(v)
            elif isinstance(v, Decimal):
                v = float(v)
            out[f] = v
        return out

    # -- HTTP -----------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path == "/services/oauth2/token":
            return self._token(request)
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        if token is None or token not in self._tokens:
            return _errors("INVALID_SESSION_ID", "Session expired or invalid", 401)
        fault = self.faults.draw()
        if fault == "5xx":
            status = self._fault_rng.choice((500, 502, 503))
            return _errors("SERVER_UNAVAILABLE", "Server temporarily unavailable", status)
        if fault == "rate_limit":
            return _errors("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 403)
        if fault == "expired_token":
            with self._lock:
                self._tokens.discard(token)
            return _errors("INVALID_SESSION_ID", "Session expired or invalid", 401)
        if fault == "slow":
            self.slow()
        resp = self._route(request)
        if fault == "truncated" and resp.status == 200:
            resp.truncate = True
        return resp

    def _route(self, request: Request) -> Response:
        if request.method != "GET":
            return _errors("METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed", 405)
        m = _QUERY_PATH.match(request.path)
        if m:
            soql = request.query.get("q")
            if not soql:
                return _errors("MALFORMED_QUERY", "The 'q' parameter is required", 400)
            size = self._batch_size(request)
            return self._query(soql, m["version"], m["endpoint"] == "queryAll", size)
        m = _MORE_PATH.match(request.path)
        if m:
            return self._more(m["locator"], int(m["offset"]), m["version"], m["endpoint"])
        m = _DESCRIBE_PATH.match(request.path)
        if m:
            return self._describe(m["object"], m["version"])
        return _errors("NOT_FOUND", "The requested resource does not exist", 404)

    def _batch_size(self, request: Request) -> int:
        opts = request.headers.get("sforce-query-options", "")
        m = re.search(r"batchSize\s*=\s*(\d+)", opts)
        if not m:
            return self.page_size
        return min(self.page_size, max(200, min(2000, int(m.group(1)))))

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return Response.json(
                {"error": "invalid_request", "error_description": "must use HTTP POST"}, 400
            )
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8")).items()}
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):  # client_secret_basic: the credentials in the header
            try:
                pair = base64.b64decode(basic[6:], validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                pair = ""
            client_id, _, client_secret = pair.partition(":")
            form.update(client_id=unquote(client_id), client_secret=unquote(client_secret))
        grant = form.get("grant_type")
        if grant not in ("password", "client_credentials"):
            return Response.json(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
                400,
            )
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return Response.json(
                {"error": "invalid_client", "error_description": "invalid client credentials"}, 400
            )
        if grant == "password" and (
            (self.username is not None and form.get("username") != self.username)
            or (self.password is not None and form.get("password") != self.password)
        ):
            return Response.json(
                {"error": "invalid_grant", "error_description": "authentication failure"}, 400
            )
        token = "00D5g000000STANDIN!" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
            self.tokens_issued += 1
            self.issued_tokens.append(token)
        return Response.json(
            {
                "access_token": token,
                "instance_url": self.base_url,
                "id": f"{self.base_url}/id/00D5g000000STANDIN/0055g000000STANDIN",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
                "signature": secrets.token_urlsafe(32),
            }
        )

    def _describe(self, name: str, version: str) -> Response:
        obj = self._by_lower.get(name.lower())
        if obj is None:
            return _errors("NOT_FOUND", "The requested resource does not exist", 404)
        table = self._table(obj)
        served = table.fields if table else self.specs[obj].fields
        return Response.json(
            {
                "name": obj,
                "label": obj,
                "queryable": True,
                "urls": {"describe": f"/services/data/v{version}/sobjects/{obj}/describe"},
                "fields": [
                    {"name": f, "label": f, "type": t, "nillable": f != "Id"}
                    for f, t in served.items()
                ],
            }
        )

    def _query(self, soql: str, version: str, include_deleted: bool, size: int) -> Response:
        with self._lock:
            self.soql.append(soql)
        m = _SOQL.match(soql)
        if not m:
            return _errors("MALFORMED_QUERY", f"unexpected query shape: {soql[:200]}", 400)
        count = re.fullmatch(r"COUNT\(\s*\)", m["fields"].strip(), re.I) is not None
        if count and m["ofield"]:
            return _errors("MALFORMED_QUERY", "ORDER BY is not allowed with COUNT()", 400)
        obj = self._by_lower.get(m["object"].lower())
        if obj is None:
            return _errors(
                "INVALID_TYPE",
                f"sObject type '{m['object']}' is not supported. If you are attempting to use a "
                "custom object, be sure to append the '__c' after the entity name.",
                400,
            )
        table = self._table(obj)
        served = table.fields if table else self.specs[obj].fields
        lower = {f.lower(): f for f in served}
        fields: list[str] = []
        for raw in () if count else (f.strip() for f in m["fields"].split(",")):
            name = lower.get(raw.lower())
            if name is None:
                return _errors("INVALID_FIELD", f"No such column '{raw}' on entity '{obj}'.", 400)
            fields.append(name)
        wfield = lower.get((m["wfield"] or "").lower()) if m["wfield"] else None
        ofield = lower.get(m["ofield"].lower()) if m["ofield"] else None
        if (m["wfield"] and wfield is None) or (m["ofield"] and ofield is None):
            bad = m["ofield"] if ofield is None else m["wfield"]
            return _errors("INVALID_FIELD", f"No such column '{bad}' on entity '{obj}'.", 400)
        records = list(table.records) if table else []
        if not include_deleted:
            records = [r for r in records if r.get("IsDeleted") is not True]
        if wfield:
            literal = m["literal"]
            if served[wfield].lower() != "datetime" or not _SOQL_DATETIME.match(literal):
                return _errors(
                    "MALFORMED_QUERY",
                    f"value of filter criterion for field '{wfield}' must be "
                    f"of type dateTime and should not be enclosed in quotes: {literal}",
                    400,
                )
            bound = parse_datetime(literal)
            if m["op"] == ">=":
                records = [r for r in records if r.get(wfield) is not None and r[wfield] >= bound]
            else:
                records = [r for r in records if r.get(wfield) is not None and r[wfield] > bound]
        if count:
            return Response.json({"totalSize": len(records), "done": True, "records": []})
        if ofield:
            # nulls first unless NULLS LAST, as SOQL does; ties keep a stable order by Id
            descending = (m["direction"] or "").upper() == "DESC"
            present = [r for r in records if r.get(ofield) is not None]
            present.sort(key=lambda r: (r[ofield], r.get("Id") or ""), reverse=descending)
            nulls = [r for r in records if r.get(ofield) is None]
            last = (m["nulls"] or "").upper() == "LAST"
            records = present + nulls if last else nulls + present
        if m["limit"] is not None:
            records = records[: int(m["limit"])]
        rows = [self._json_record(obj, version, r, fields) for r in records]
        locator = "01g" + secrets.token_hex(8).upper()[:15]
        with self._lock:
            self._cursors[locator] = (obj, rows, size)
        return self._page(locator, 0, version, "query")

    def _more(self, locator: str, offset: int, version: str, endpoint: str) -> Response:
        if locator not in self._cursors:
            return _errors("INVALID_QUERY_LOCATOR", "invalid query locator", 400)
        return self._page(locator, offset, version, "query")

    def _page(self, locator: str, offset: int, version: str, endpoint: str) -> Response:
        _obj, rows, size = self._cursors[locator]
        chunk = rows[offset : offset + size]
        end = offset + len(chunk)
        body: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
        if end < len(rows):
            body["nextRecordsUrl"] = f"/services/data/v{version}/{endpoint}/{locator}-{end}"
        body["records"] = chunk
        return Response.json(body)
