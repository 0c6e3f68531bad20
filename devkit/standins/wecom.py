"""A WeCom (企业微信) server API on 127.0.0.1, serving a generated org's ``wecom/`` folder.

Speaks the contract of SPEC §3.2: ``gettoken`` and ``access_token`` on every call, the
``errcode``/``errmsg`` envelope, cursor paging of ``externalcontact/batch/get_by_user``, one
customer's details with every rep following them from ``externalcontact/get`` (84061 for a
customer no rep follows any more), one
aggregated total when several userids are asked for behaviour data, ≤30-day windows, ≤100
users or contacts a call, check-ins of the kind asked for (``opencheckindatatype`` 1 上下班,
2 外出, 3 全部), and the group-robot webhook. Secrets are per app as WeCom grants them: a
token of the 客户联系 secret serves ``externalcontact/*``, one of the 打卡 secret ``checkin/*``,
and a token of the wrong app gets 48002 (api forbidden); ``corp_secret`` is a self-built app
granted both. ``omit_fields`` (API path -> field names, ``follow_info.remark_mobiles`` for a
nested one) leaves fields out of every item that API returns, as an older WeCom or an app
without the permission does. Faults (``devkit.standins.base.Faults``):
``5xx``, ``busy`` (-1), ``rate_limit`` (45009), ``expired_token`` (42001: every token expires),
``truncated`` (half a body) and ``slow``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import socket
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from devkit.standins.base import Faults, Request, Response, StandIn

DAY = 86400
MAX_SPAN = 30 * DAY
INVALID_PARAM = 40058  # 不合法的参数: limit, list size or time span out of range
NOT_EXTERNAL_CONTACT = 84061  # 不存在外部联系人的关系: no rep follows this customer
DETAIL_PAGE = 500  # externalcontact/get pages follow_user past 500 following reps
API_FORBIDDEN = 48002
API_APPS = {"externalcontact/": "contact", "checkin/": "checkin"}  # path prefix -> app
ALL_APPS = "*"  # a self-built app granted every API
# opencheckindatatype -> the checkin_type values it returns
CHECKIN_KINDS = {
    1: {"上班打卡", "下班打卡"},
    2: {"外出打卡"},
    3: {"上班打卡", "下班打卡", "外出打卡"},
}


def _ok(payload: dict[str, Any] | None = None) -> Response:
    return Response.json({"errcode": 0, "errmsg": "ok", **(payload or {})})


def _err(code: int, message: str) -> Response:
    return Response.json({"errcode": code, "errmsg": message})


class WeComStandIn(StandIn):
    def __init__(
        self,
        data_dir: str | Path,
        corp_id: str = "wwstandin",
        corp_secret: str | None = None,
        faults: Faults | None = None,
        token_ttl: int = 7200,
        webhook_keys: tuple[str, ...] = ("standin-robot",),
        clock=time.monotonic,
        app_secrets: dict[str, str] | None = None,
        omit_fields: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """``app_secrets`` maps app (``contact``, ``checkin``) to its secret; ``corp_secret``
        is the secret of a self-built app granted every API; ``omit_fields``: the fields each
        API's items leave out."""
        super().__init__(faults)
        self.omit_fields = {path: tuple(fields) for path, fields in (omit_fields or {}).items()}
        self.data_dir = Path(data_dir)
        self.corp_id = corp_id
        self._apps = {secret: app for app, secret in (app_secrets or {}).items()}
        if corp_secret is not None:
            self._apps[corp_secret] = ALL_APPS
        self.token_ttl = token_ttl
        self.webhook_keys = set(webhook_keys)
        self.webhook_messages: list[dict[str, Any]] = []
        self.webhook_media: dict[str, tuple[str, bytes]] = {}  # media_id -> (file name, bytes)
        self.webhook_refused: list[int] = []  # errcodes returned to accepted-key calls
        self._clock = clock  # the robot's minute (tests may share a fake clock)
        self._webhook_times: dict[str, list[float]] = defaultdict(list)
        self.tokens_issued = 0
        self.issued_tokens: list[str] = []  # every token handed out (tests look for leaks)
        self._tokens: dict[str, tuple[float, str]] = {}  # token -> (expiry, app)
        self._data_lock = threading.Lock()
        self._loaded_mtime = 0.0
        self._follow: list[str] = []
        self._contacts: list[dict[str, Any]] = []
        self._contacts_of: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        self._follows_of: dict[str, list[dict[str, Any]]] = defaultdict(list)  # by customer
        self._batch: tuple[Any, list[dict[str, Any]]] = (None, [])
        self._behaviour: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._checkins: list[dict[str, Any]] = []

    def start(self) -> WeComStandIn:
        # read the folder before the first call, as WeCom's servers hold their data already:
        # a client's first call does not wait for it (seconds at scale M); a folder that cannot
        # be read yet answers as before, on the call
        with contextlib.suppress(OSError, ValueError, KeyError):
            self._load()
        super().start()
        assert self._server is not None
        self._server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/cgi-bin/"

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # -- data -------------------------------------------------------------------------------------
    def _load(self) -> None:
        """(Re-)read the folder when a file changed, so tests can append a day between runs."""
        files = [
            self.data_dir / n
            for n in ("follow_users.json", "contacts.jsonl", "behavior.jsonl", "checkins.jsonl")
        ]
        mtime = max((f.stat().st_mtime for f in files if f.exists()), default=0.0)
        with self._data_lock:
            if mtime == self._loaded_mtime:
                return
            self._follow = json.loads(files[0].read_text(encoding="utf-8"))["follow_user"]
            self._contacts = _jsonl(files[1])
            # (position in the file, contact) per following user: a page costs its users' rows
            self._contacts_of = defaultdict(list)
            self._follows_of = defaultdict(list)
            for i, contact in enumerate(self._contacts):
                self._contacts_of[contact["follow_info"]["userid"]].append((i, contact))
                self._follows_of[contact["external_contact"]["external_userid"]].append(contact)
            self._behaviour = defaultdict(list)
            for row in _jsonl(files[2]):
                self._behaviour[row["userid"]].append(row)
            self._checkins = _jsonl(files[3])
            self._loaded_mtime = mtime

    # -- dispatch ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = request.path.removeprefix("/cgi-bin/")
        if path == "gettoken":
            return self._gettoken(request)
        if path == "webhook/send":
            return self._webhook(request)
        if path == "webhook/upload_media":
            return self._upload_media(request)
        token = request.query.get("access_token")
        with self._lock:
            expires, app = self._tokens.get(token or "", (None, None))
        if expires is None:
            return _err(40014, "invalid access_token")
        if expires < time.monotonic():
            return _err(42001, "access_token expired")
        needs = next((a for prefix, a in API_APPS.items() if path.startswith(prefix)), None)
        if needs is not None and app not in (needs, ALL_APPS):
            return _err(API_FORBIDDEN, f"api forbidden, hint: [{path} needs the {needs} app]")
        fault = self.faults.draw()
        if fault == "5xx":
            return Response(
                status=502, body=b"<html>502 Bad Gateway</html>", content_type="text/html"
            )
        if fault == "busy":
            return _err(-1, "system busy")
        if fault == "rate_limit":
            return _err(45009, "api freq out of limit")
        if fault == "expired_token":
            self.expire_tokens()
            return _err(42001, "access_token expired")
        if fault == "slow":
            self.slow()
        self._load()
        handler = {
            "externalcontact/get_follow_user_list": self._follow_users,
            "externalcontact/batch/get_by_user": self._contacts_by_user,
            "externalcontact/get": self._contact_detail,
            "externalcontact/get_user_behavior_data": self._behaviour_data,
            "checkin/getcheckindata": self._checkin_data,
        }.get(path)
        if handler is None:
            return Response.json({"errcode": 404, "errmsg": f"unknown api {path}"}, status=404)
        try:
            body = request.json() if request.method == "POST" else {}
        except json.JSONDecodeError:
            return _err(47001, "data format error")
        response = handler(body if request.method == "POST" else request.query)
        if self.omit_fields.get(path) and response.status == 200:
            response.body = json.dumps(
                _omitted(json.loads(response.body), self.omit_fields[path]), ensure_ascii=False
            ).encode("utf-8")
        response.truncate = fault == "truncated"
        return response

    def _gettoken(self, request: Request) -> Response:
        if request.query.get("corpid") != self.corp_id:
            return _err(40013, "invalid corpid")
        app = self._apps.get(request.query.get("corpsecret") or "")
        if app is None:
            return _err(40001, "invalid credential, access_token is invalid or not latest")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (time.monotonic() + self.token_ttl, app)
            self.tokens_issued += 1
            self.issued_tokens.append(token)
        return _ok({"access_token": token, "expires_in": self.token_ttl})

    def _upload_media(self, request: Request) -> Response:
        """``webhook/upload_media?key=..&type=file``: a multipart form with one part ``media``."""
        if request.query.get("key") not in self.webhook_keys:
            return _err(93000, "invalid webhook url")
        if request.query.get("type") != "file":
            return _err(40004, "invalid media type")
        ctype = request.headers.get("content-type", "")
        boundary = ctype.partition("boundary=")[2].strip('"').encode()
        if not boundary:
            return _err(47001, "data format error")
        for part in request.body.split(b"--" + boundary):
            head, _, data = part.partition(b"\r\n\r\n")
            if b'name="media"' not in head:
                continue
            name = head.partition(b'filename="')[2].partition(b'"')[0].decode("utf-8")
            data = data.removesuffix(b"\r\n")
            if not 5 <= len(data) <= 20 * 1024 * 1024:
                return _err(40006, "invalid file size")
            media_id = f"media-{secrets.token_hex(8)}"
            with self._lock:
                self.webhook_media[media_id] = (name, data)
            return _ok({"type": "file", "media_id": media_id, "created_at": str(int(time.time()))})
        return _err(47001, "data format error")

    def _webhook(self, request: Request) -> Response:
        if request.query.get("key") not in self.webhook_keys:
            return _err(93000, "invalid webhook url")
        try:
            body = request.json()
        except json.JSONDecodeError:
            return _err(47001, "data format error")
        kind = body.get("msgtype")
        if kind == "file":
            if (body.get("file") or {}).get("media_id") not in self.webhook_media:
                return _err(40007, "invalid media_id")
            with self._lock:
                self.webhook_messages.append(body)
            return _ok()
        if kind not in ("text", "markdown"):
            return _err(40008, "invalid message type")
        content = (body.get(kind) or {}).get("content") or ""
        limit = 2048 if kind == "text" else 4096
        if len(content.encode("utf-8")) > limit:
            self.webhook_refused.append(40058)
            return _err(40058, f"content exceeds {limit} bytes")
        key = request.query["key"]
        with self._lock:
            now = self._clock()
            recent = [t for t in self._webhook_times[key] if t > now - 60]
            if len(recent) >= 20:  # 每个机器人发送的消息不能超过20条/分钟
                self.webhook_refused.append(45009)
                return _err(45009, "api freq out of limit")
            self._webhook_times[key] = [*recent, now]
            self.webhook_messages.append(body)
        return _ok()

    # -- endpoints --------------------------------------------------------------------------------
    def _follow_users(self, _body: dict[str, Any]) -> Response:
        return _ok({"follow_user": list(self._follow)})

    def _contacts_by_user(self, body: dict[str, Any]) -> Response:
        users = body.get("userid_list") or []
        limit = int(body.get("limit") or 50)
        if not users or len(users) > 100:
            return _err(INVALID_PARAM, "userid_list size must be 1..100")
        if limit > 100:
            return _err(INVALID_PARAM, "limit must be <= 100")
        key = (self._loaded_mtime, tuple(users))
        with self._data_lock:  # the batch being paged through, matched once
            if self._batch[0] != key:
                rows = sorted(r for u in set(users) for r in self._contacts_of[u])
                self._batch = (key, [c for _, c in rows])
            matches = self._batch[1]
        paged = _page(matches, body.get("cursor"), limit)
        if paged is None:
            return _err(INVALID_PARAM, "invalid cursor")
        return _ok({"external_contact_list": paged[0], "next_cursor": paged[1]})

    def _contact_detail(self, query: dict[str, Any]) -> Response:
        """``GET externalcontact/get?external_userid=..&cursor=..``: the customer and, per rep
        following them, ``follow_user`` (tags as objects, enterprise tags with their id)."""
        follows = self._follows_of.get(query.get("external_userid") or "")
        if not follows:
            return _err(NOT_EXTERNAL_CONTACT, "not external contact")
        paged = _page(follows, query.get("cursor"), DETAIL_PAGE)
        if paged is None:
            return _err(INVALID_PARAM, "invalid cursor")
        return _ok(
            {
                "external_contact": follows[0]["external_contact"],
                "follow_user": [_follow_user(c["follow_info"]) for c in paged[0]],
                "next_cursor": paged[1],
            }
        )

    def _behaviour_data(self, body: dict[str, Any]) -> Response:
        users = body.get("userid") or []
        start, end = int(body.get("start_time") or 0), int(body.get("end_time") or 0)
        if not users:
            return _err(INVALID_PARAM, "userid required")
        if end < start or end - start > MAX_SPAN:
            return _err(INVALID_PARAM, "time span must be within 30 days")
        by_day: dict[int, dict[str, Any]] = {}
        for user in users:
            for row in self._behaviour.get(user, []):
                if start <= row["stat_time"] <= end:
                    day = by_day.setdefault(row["stat_time"], {"stat_time": row["stat_time"]})
                    for k, v in row.items():
                        if k not in ("userid", "stat_time"):
                            day[k] = day.get(k, 0) + v
        # several userids give ONE aggregated total per day, as the real API does
        return _ok({"behavior_data": [by_day[k] for k in sorted(by_day)]})

    def _checkin_data(self, body: dict[str, Any]) -> Response:
        users = body.get("useridlist") or []
        start, end = int(body.get("starttime") or 0), int(body.get("endtime") or 0)
        if not users or len(users) > 100:
            return _err(INVALID_PARAM, "useridlist size must be 1..100")
        if end < start or end - start > MAX_SPAN:
            return _err(INVALID_PARAM, "time span must be within 30 days")
        kinds = CHECKIN_KINDS.get(body.get("opencheckindatatype"))
        if kinds is None:
            return _err(INVALID_PARAM, "opencheckindatatype must be 1, 2 or 3")
        wanted = set(users)
        rows = [
            c
            for c in self._checkins
            if c["userid"] in wanted
            and start <= c["checkin_time"] <= end
            and c["checkin_type"] in kinds
        ]
        return _ok({"checkindata": rows})


def contact_event(
    change_type: str, userid: str, external_userid: str, create_time: int, corp_id: str
) -> dict[str, Any]:
    """One ``change_external_contact`` callback as a callback receiver stores it once
    decrypted: the XML's elements as JSON keys."""
    return {
        "ToUserName": corp_id,
        "FromUserName": "sys",
        "CreateTime": create_time,
        "MsgType": "event",
        "Event": "change_external_contact",
        "ChangeType": change_type,
        "UserID": userid,
        "ExternalUserID": external_userid,
    }


def store_contact_events(folder: Path, events: list[dict[str, Any]]) -> None:
    """Append ``events`` to ``folder`` as the receiver keeps them: one a line, a file a day."""
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_day[time.strftime("%Y-%m-%d", time.gmtime(event["CreateTime"]))].append(event)
    folder.mkdir(parents=True, exist_ok=True)
    for day, todays in sorted(by_day.items()):
        with (folder / f"contact_events_{day}.jsonl").open("a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in todays)


def store_contact_event(
    folder: Path,
    change_type: str,
    userid: str,
    external_userid: str,
    create_time: int,
    corp_id: str = "wwstandin",
) -> None:
    """Append one ``change_external_contact`` callback to the receiver's ``folder``."""
    event = contact_event(change_type, userid, external_userid, create_time, corp_id)
    store_contact_events(folder, [event])


def _follow_user(info: dict[str, Any]) -> dict[str, Any]:
    """``follow_info`` of batch/get_by_user as ``externalcontact/get`` gives it: ``tags``
    objects (type 1 企业标签, with ``tag_id``) in place of the ``tag_id`` list."""
    out = {k: v for k, v in info.items() if k != "tag_id"}
    out["tags"] = [
        {"group_name": "", "tag_name": tag, "type": 1, "tag_id": tag}
        for tag in info.get("tag_id") or []
    ]
    return out


def _omitted(payload: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """``payload`` without ``fields`` in its items (the dicts of its lists, and the objects
    ``external_contact`` / ``follow_info`` they hold): ``a.b`` names field b of object a."""

    def strip(item: Any, prefix: str = "") -> Any:
        if not isinstance(item, dict):
            return item
        return {
            k: strip(v, f"{prefix}{k}.") for k, v in item.items() if f"{prefix}{k}" not in fields
        }

    return {
        k: [strip(i) for i in v] if isinstance(v, list) else strip(v) if k != "errmsg" else v
        for k, v in payload.items()
    }


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _page(items: list[Any], cursor: str | None, limit: int) -> tuple[list[Any], str] | None:
    """The page of ``items`` at ``cursor`` and the cursor of the next ("" after the last);
    None for a cursor this stand-in did not hand out."""
    offset = _decode_cursor(cursor)
    if offset is None:
        return None
    nxt = offset + limit
    return items[offset:nxt], _encode_cursor(nxt) if nxt < len(items) else ""


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text.removeprefix("o:"))
    except ValueError:
        return None
