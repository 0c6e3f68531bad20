"""WeCom (企业微信): customer contacts, daily chat statistics, field check-ins, archived chats.

Speaks the WeCom server API (SPEC §3.2) through ``ingest.wecom.helpers.WeComClient`` and reads
the decrypted 会话内容存档 JSON lines from a folder. Lands in ``raw_wecom``:

- ``follow_users``: reps who have customer contacts (snapshot)
- ``external_contacts``: one row per customer x following rep (merge), kept current from the
  contact change events the callback receiver stored (``contact_events_dir``), paged through
  in full every ``contacts_full_every_days`` days (``ingest.wecom.contacts``)
- ``user_behavior_data``: one row per rep-day, asked one userid at a time in ≤30-day windows
  within the last 180 days (merge on userid + stat_date)
- ``checkins``: field check-ins in ≤30-day windows, ≤100 users a call (merge)
- ``chat_messages``: archived messages, incremental on ``seq`` (merge on msgid)

Incremental runs re-ask the windowed endpoints from the last complete day before their last
day (``REFETCH_DAYS``) and merge, so a rerun never duplicates rows and a day that was still
filling up is completed. What the source's stamp asked just before a load (the same window) is
answered from the stamp, not asked of WeCom again (``helpers.KeptAnswers``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.typing import TSecretStrValue
from dlt.extract.source import DltResource, DltSource

from ingest import contracts, sources, stamps
from ingest.wecom.archive import read_grown
from ingest.wecom.contacts import DELETED, ContactLoader
from ingest.wecom.helpers import KeptAnswers, RetryPolicy, WeComClient, WeComError, parallel_map
from ingest.wecom.settings import (
    CHECKIN_FIELD_VISITS,
    CONTACTS_FULL_EVERY_DAYS,
    DEFAULT_BASE_URL,
    FIELDS,
    HISTORY_DAYS,
    MAX_USERS_PER_CALL,
    MAX_WINDOW_DAYS,
    PARALLEL_REQUESTS,
    REFETCH_DAYS,
    ROWS_PER_TABLE,
    STAMP_ANSWERS_MAX_AGE_SECONDS,
)

__all__ = ["WeComError", "source_from_config", "wecom_source"]

logger = logging.getLogger(__name__)
# WeCom counts its days (stat_time, check-in days) in China Standard Time, whatever the
# business time zone of the warehouse: the API's own zone, not a setting
TZ = ZoneInfo("Asia/Shanghai")
# what the last stamp asked (``stamp``), for the load that follows it in this process
_STAMPED = KeptAnswers(STAMP_ANSWERS_MAX_AGE_SECONDS)
# rows a yielded table holds at most, so that a large month file is loaded in parts
CHUNK_ROWS = 200_000
_CONFIG_KEYS = (
    "base_url",
    "corp_id",
    "chat_archive_dir",
    "contact_events_dir",
    "contacts_full_every_days",
    "parallel_requests",
    "start_date",
    "end_date",
    "userids",
)


def _utc(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(int(seconds), UTC)


def _midnight(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), TZ).timestamp())


def windows(start: date, end: date, days: int = MAX_WINDOW_DAYS) -> Iterator[tuple[date, date]]:
    """Consecutive [first, last] day windows of at most ``days`` days covering start..end."""
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=days - 1))
        yield first, last
        first = last + timedelta(days=1)


def _as_date(value: Any, default: date) -> date:
    if value in (None, ""):
        return default
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dlt.source(name="wecom")
def wecom_source(
    corp_id: str = dlt.config.value,
    contact_secret: TSecretStrValue | None = None,
    checkin_secret: TSecretStrValue | None = None,
    corp_secret: TSecretStrValue | None = None,
    base_url: str = DEFAULT_BASE_URL,
    start_date: Any = None,
    end_date: Any = None,
    userids: list[str] | None = None,
    chat_archive_dir: str | None = None,
    contact_events_dir: str | None = None,
    contacts_full_every_days: int = CONTACTS_FULL_EVERY_DAYS,
    parallel_requests: int = PARALLEL_REQUESTS,
    retry_attempts: int = 6,
    retry_base_seconds: float = 0.5,
) -> list[DltResource]:
    """``start_date``..``end_date`` (business days, default: the last 180 days up to today)
    bound the windowed endpoints on the first run; later runs continue from their state.

    Secrets are per app, as WeCom grants them: ``contact_secret`` (客户联系) for the customer
    contact APIs, ``checkin_secret`` (打卡) for check-ins; ``corp_secret`` stands in for either
    when one self-built app is granted both. An app without a secret fails its first call with
    the variable to set; the chat archive is read from a folder and needs none.

    ``contact_events_dir`` holds the contact change events the callback receiver stored
    (``ingest.wecom.contacts``): with it, contacts are read again only where an event says they
    changed, and paged through in full every ``contacts_full_every_days`` days.

    ``parallel_requests`` calls are made at once (per-rep statistics, contact pages,
    check-ins; 1: one after the other); what lands does not depend on it."""
    if int(parallel_requests) < 1:
        raise ValueError(f"WeCom parallel_requests must be 1 or more, not {parallel_requests}")
    parallel = int(parallel_requests)
    end = _as_date(end_date, datetime.now(TZ).date())
    start = _as_date(start_date, end - timedelta(days=HISTORY_DAYS - 1))
    client = WeComClient(
        base_url,
        corp_id,
        {"contact": contact_secret or corp_secret, "checkin": checkin_secret or corp_secret},
        RetryPolicy(retry_attempts, retry_base_seconds),
    )
    users_cache: list[str] = []

    def reps() -> list[str]:
        if not users_cache:
            users_cache.extend(userids or _follow_users(client))
        return users_cache

    def span(state: dict[str, Any], oldest: date) -> tuple[date, date] | None:
        last_done = state.get("last_day")
        first = (
            start
            if last_done is None
            else min(
                date.fromisoformat(last_done) - timedelta(days=REFETCH_DAYS - 1),
                end - timedelta(days=REFETCH_DAYS),  # the days the stamp asked (``stamp``)
            )
        )
        first = max(first, oldest)
        return (first, end) if first <= end else None

    @dlt.resource(name="follow_users", write_disposition="replace", primary_key="userid")
    def follow_users() -> Iterator[list[dict[str, Any]]]:
        yield [{"userid": u} for u in reps()]

    def contact_rows(items: list[dict[str, Any]]) -> pa.Table:
        return pa.Table.from_pylist([_contact_row(i) for i in items], schema=CONTACT_SCHEMA)

    @dlt.resource(
        name="external_contacts",
        write_disposition="merge",
        primary_key=("external_userid", "userid"),
        columns={DELETED: {"data_type": "bool", "hard_delete": True}},
    )
    def external_contacts() -> Iterator[pa.Table]:
        loader = ContactLoader(
            client,
            reps,
            contact_rows,
            CONTACT_SCHEMA,
            Path(contact_events_dir) if contact_events_dir else None,
            int(contacts_full_every_days),
            end,
            parallel,
        )
        yield from loader.run(dlt.current.resource_state())

    @dlt.resource(
        name="user_behavior_data",
        write_disposition="merge",
        primary_key=("userid", "stat_date"),
    )
    def user_behavior_data() -> Iterator[pa.Table]:
        state = dlt.current.resource_state()
        todo = span(state, end - timedelta(days=HISTORY_DAYS - 1))
        if todo is None:
            return
        yield from behaviour_tables(client, reps(), *todo, parallel)
        state["last_day"] = todo[1].isoformat()

    @dlt.resource(
        name="checkins",
        write_disposition="merge",
        primary_key=("userid", "checkin_time", "checkin_type"),
    )
    def checkins() -> Iterator[pa.Table]:
        state = dlt.current.resource_state()
        todo = span(state, date(1970, 1, 2))
        if todo is None:
            return
        yield from checkin_tables(client, reps(), *todo, parallel)
        state["last_day"] = todo[1].isoformat()

    resources = [follow_users, external_contacts, user_behavior_data, checkins]
    if chat_archive_dir:
        resources.append(chat_messages(Path(chat_archive_dir)))
    return resources


def gathered(
    answers: Iterator[list[dict[str, Any]]], schema: pa.Schema, rows: int = ROWS_PER_TABLE
) -> Iterator[pa.Table]:
    """The rows of many small answers as tables of about ``rows`` rows: each table handed on
    costs the load a fixed amount, whatever its size."""
    pending: list[dict[str, Any]] = []
    for answer in answers:
        pending += answer
        if len(pending) >= rows:
            yield pa.Table.from_pylist(pending, schema=schema)
            pending = []
    if pending:
        yield pa.Table.from_pylist(pending, schema=schema)


def _follow_users(client: WeComClient, keep: bool = False) -> list[str]:
    """The reps with customer contacts (``keep``: asked for the stamp, see ``_asked``)."""
    return _asked(client, "GET", "externalcontact/get_follow_user_list", {}, keep)["follow_user"]


def _asked(
    client: WeComClient, method: str, endpoint: str, body: dict[str, Any], keep: bool
) -> dict[str, Any]:
    """WeCom's answer to a call. ``keep`` (the stamp): asked, and kept for the load that
    follows; else what the stamp kept for the very same call, if it did, or asked."""
    return _STAMPED.ask(client, method, endpoint, body, keep)[0]


def _log_reused(endpoint: str) -> None:
    n = _STAMPED.given(endpoint)
    if n:
        logger.info("WeCom %s: %d call(s) answered by the stamp taken before the load", endpoint, n)


def behaviour_tables(
    client: WeComClient,
    users: list[str],
    first_day: date,
    last_day: date,
    parallel: int = PARALLEL_REQUESTS,
    keep: bool = False,
) -> Iterator[pa.Table]:
    """Each rep's daily statistics for ``first_day``..``last_day``, in ≤30-day windows,
    ``parallel`` calls at once (``keep``: for the stamp, see ``_asked``)."""
    endpoint = "externalcontact/get_user_behavior_data"

    def ask(call: tuple[str, date, date]) -> list[dict[str, Any]]:
        user, first, last = call
        # one userid a call: several give one aggregated total
        body = {"userid": [user], "start_time": _midnight(first), "end_time": _midnight(last)}
        data = _asked(client, "POST", endpoint, body, keep)
        return [_behaviour_row(user, r) for r in data.get("behavior_data", [])]

    calls = [(u, *w) for u in users for w in windows(first_day, last_day)]
    yield from gathered(parallel_map(ask, calls, parallel), BEHAVIOUR_SCHEMA)
    _log_reused(endpoint)


def checkin_tables(
    client: WeComClient,
    users: list[str],
    first_day: date,
    last_day: date,
    parallel: int = PARALLEL_REQUESTS,
    keep: bool = False,
) -> Iterator[pa.Table]:
    """The reps' field check-ins on ``first_day``..``last_day``, ≤100 reps and ≤30 days a call,
    ``parallel`` calls at once (``keep``: for the stamp, see ``_asked``)."""
    endpoint = "checkin/getcheckindata"

    def ask(call: tuple[date, date, int]) -> list[dict[str, Any]]:
        first, last, i = call
        body = {
            "opencheckindatatype": CHECKIN_FIELD_VISITS,
            "starttime": _midnight(first),
            "endtime": _midnight(last + timedelta(days=1)) - 1,
            "useridlist": users[i : i + MAX_USERS_PER_CALL],
        }
        data = _asked(client, "POST", endpoint, body, keep)
        return [_checkin_row(r) for r in data.get("checkindata", [])]

    calls = [
        (*w, i)
        for w in windows(first_day, last_day)
        for i in range(0, len(users), MAX_USERS_PER_CALL)
    ]
    yield from gathered(parallel_map(ask, calls, parallel), CHECKIN_SCHEMA)
    _log_reused(endpoint)


def stamp(section: dict[str, Any]) -> dict[str, Any] | None:
    """What WeCom holds now for an incremental load (``ingest.stamps``): the archive's and the
    contact events' files (name, size, modification time), the day the windowed endpoints end
    on, the reps, and the answers to what a load after the last one asks again (the statistics
    and check-ins from ``REFETCH_DAYS`` days before that day). The contacts are read only on
    events while that day stays the same (their full page-through falls due on a later day),
    so without an events folder they are paged through every run: no stamp.

    The answers are kept (``_STAMPED``): a load the same day or the day after its last asks
    the same window, and takes them instead of asking WeCom again."""
    import dlt

    if not section.get("contact_events_dir"):
        return None
    end = _as_date(section.get("end_date"), datetime.now(TZ).date())
    secret = dlt.secrets.get("sources.wecom.corp_secret")
    client = WeComClient(
        str(section.get("base_url") or DEFAULT_BASE_URL),
        str(section.get("corp_id") or dlt.config.get("sources.wecom.corp_id") or ""),
        {
            app: dlt.secrets.get(f"sources.wecom.{app}_secret") or secret
            for app in ("contact", "checkin")
        },
        RetryPolicy(2, 0.2),
    )
    _STAMPED.clear()
    users = list(section.get("userids") or _follow_users(client, keep=True))
    first = end - timedelta(days=REFETCH_DAYS)
    parallel = int(section.get("parallel_requests") or PARALLEL_REQUESTS)
    archive = section.get("chat_archive_dir")
    return {
        "settings": stamps.settings(section, "base_url", "chat_archive_dir", "contact_events_dir"),
        "end": end.isoformat(),
        "users": users,
        "archive": stamps.file_stats(archive, "*.jsonl") if archive else None,
        "events": stamps.file_stats(section["contact_events_dir"], "*.jsonl"),
        "behaviour": [
            t.to_pylist() for t in behaviour_tables(client, users, first, end, parallel, keep=True)
        ],
        "checkins": [
            t.to_pylist() for t in checkin_tables(client, users, first, end, parallel, keep=True)
        ],
    }


def chat_messages(folder: Path) -> DltResource:
    # No initial value: the files are read past the cursor here (``read_grown``), and dlt's own
    # filter against an initial value would copy every message of a first load once more
    incremental = dlt.sources.incremental("seq", initial_value=None, last_value_func=max)

    def read(position: dlt.sources.incremental[int] = incremental) -> Iterator[pa.Table]:
        if not folder.is_dir():
            raise WeComError("chat archive", None, f"folder not found: {folder}")
        # per file when last read (kept only if the load commits): size, mtime, highest seq,
        # and the bytes read and their digest (a file that only grew is parsed from there on)
        seen = dlt.current.resource_state().setdefault("files", {})
        paths = sorted(folder.glob("*.jsonl"))
        # Each file is parsed while dlt writes out the one before (extracting M's 4M messages:
        # 8.8 → 7.3 s). It is parsed past the cursor as it stands when it is sent off, before the
        # messages of the file before: a lower bound of the cursor it is handed on at, past
        # which what it holds is kept (the cursor only grows, within a load and across loads).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat-archive") as ahead:

            def parse(i: int) -> Future | None:
                if i >= len(paths):
                    return None
                known = seen.get(paths[i].name)
                return ahead.submit(_archive_file, paths[i], known, position.last_value or 0)

            coming = parse(0)
            for i, path in enumerate(paths):
                parsed, coming = coming, parse(i + 1)
                # the cursor advances as tables are yielded: read it once a file, as before
                after = position.last_value or 0
                stat, read = parsed.result()
                known = seen.get(path.name)
                if read is None or (known and known[:2] == stat and known[2] <= after):
                    continue  # unchanged since it was read, nothing in it past the cursor
                table, size, digest = read
                if table is not None and pc.min(table["seq"]).as_py() <= after:
                    table = table.filter(pc.greater(table["seq"], after))
                top = after
                if table is not None and table.num_rows:
                    top = max(after, pc.max(table["seq"]).as_py())
                    for start in range(0, table.num_rows, CHUNK_ROWS):
                        yield table.slice(start, CHUNK_ROWS)
                seen[path.name] = [*stat, top, size, digest]

    return dlt.resource(read, name="chat_messages", write_disposition="merge", primary_key="msgid")


def _archive_file(
    path: Path, known: list[Any] | None, after: int
) -> tuple[list[int], tuple[pa.Table | None, int, str] | None]:
    """A file's size and mtime, and ``read_grown``'s answer past ``after`` (None: unchanged
    since it was last read, per ``known``, and nothing in it past ``after``)."""
    stat = path.stat()
    stamp = [stat.st_size, stat.st_mtime_ns]
    if known and known[:2] == stamp and known[2] <= after:
        return stamp, None
    read = (known[3], known[4]) if known and len(known) == 5 else None
    return stamp, read_grown(path, after, read)


CONTACT_SCHEMA = pa.schema(
    [
        pa.field("external_userid", pa.string(), nullable=False),
        pa.field("userid", pa.string(), nullable=False),
        ("name", pa.string()),
        ("type", pa.int64()),
        ("corp_name", pa.string()),
        ("position", pa.string()),
        ("remark", pa.string()),
        ("remark_mobiles", pa.string()),
        ("tag_ids", pa.string()),
        ("add_way", pa.int64()),
        ("state", pa.string()),
        ("createtime", pa.timestamp("us", "UTC")),
    ]
)
BEHAVIOUR_SCHEMA = pa.schema(
    [
        pa.field("userid", pa.string(), nullable=False),
        pa.field("stat_date", pa.date32(), nullable=False),
        ("stat_time", pa.timestamp("us", "UTC")),
        ("chat_cnt", pa.int64()),
        ("message_cnt", pa.int64()),
        ("reply_percentage", pa.float64()),
        ("avg_reply_time", pa.float64()),
        ("negative_feedback_cnt", pa.int64()),
        ("new_apply_cnt", pa.int64()),
        ("new_contact_cnt", pa.int64()),
    ]
)
CHECKIN_SCHEMA = pa.schema(
    [
        pa.field("userid", pa.string(), nullable=False),
        ("groupname", pa.string()),
        pa.field("checkin_type", pa.string(), nullable=False),
        ("exception_type", pa.string()),
        pa.field("checkin_time", pa.timestamp("us", "UTC"), nullable=False),
        ("location_title", pa.string()),
        ("location_detail", pa.string()),
        ("notes", pa.string()),
        ("lat", pa.float64()),
        ("lng", pa.float64()),
        ("media_count", pa.int64()),
    ]
)


def _contact_row(item: dict[str, Any]) -> dict[str, Any]:
    ec, fi = item.get("external_contact") or {}, item.get("follow_info") or {}
    return {
        "external_userid": ec.get("external_userid"),
        "userid": fi.get("userid"),
        "name": ec.get("name"),
        "type": ec.get("type"),
        "corp_name": ec.get("corp_name"),
        "position": ec.get("position"),
        "remark": fi.get("remark"),
        # lists kept as comma-joined text (a phone or tag id never holds a comma)
        "remark_mobiles": ",".join(fi.get("remark_mobiles") or []) or None,
        "tag_ids": ",".join(fi.get("tag_id") or []) or None,
        "add_way": fi.get("add_way"),
        "state": fi.get("state") or None,
        "createtime": _utc(fi.get("createtime")),
    }


def _behaviour_row(user: str, r: dict[str, Any]) -> dict[str, Any]:
    return {
        "userid": user,
        "stat_date": datetime.fromtimestamp(int(r["stat_time"]), TZ).date(),
        "stat_time": _utc(r["stat_time"]),
        **{
            k: r.get(k)
            for k in (
                "chat_cnt",
                "message_cnt",
                "negative_feedback_cnt",
                "new_apply_cnt",
                "new_contact_cnt",
            )
        },
        # a field the response lacks stays null: read as 0 it would be a figure nobody sent
        **{
            k: None if r.get(k) is None else float(r[k])
            for k in ("reply_percentage", "avg_reply_time")
        },
    }


def _checkin_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        **{
            k: r.get(k)
            for k in (
                "userid",
                "groupname",
                "checkin_type",
                "exception_type",
                "location_title",
                "location_detail",
                "notes",
            )
        },
        "checkin_time": _utc(r.get("checkin_time")),
        "lat": (r.get("lat") or 0) / 1e6 if r.get("lat") is not None else None,
        "lng": (r.get("lng") or 0) / 1e6 if r.get("lng") is not None else None,
        "media_count": len(r.get("mediaids") or []),
    }


def landed_objects(section: dict[str, Any]) -> list[contracts.LandedObject]:
    """Where the fields of each API's items land (``contracts.empty_columns``): a field every
    item delivered lacks (an older WeCom, an app without the permission) is recorded in
    ops.source_contract, API and field named, and degrades what reads it."""
    return [
        contracts.LandedObject(
            api, table, {f: (f.rsplit(".", 1)[-1], d) for f, d in fields.items()}
        )
        for api, (table, fields) in FIELDS.items()
    ]


def source_from_config(section: dict[str, Any]) -> DltSource:
    """The WeCom source from its run-configuration section (``base_url``, ``corp_id``,
    ``chat_archive_dir``, ``contact_events_dir``, ``contacts_full_every_days``, ``start_date``,
    ``end_date``, ``userids``). The apps' secrets come
    from ``SOURCES__WECOM__CONTACT_SECRET`` and ``SOURCES__WECOM__CHECKIN_SECRET`` (or
    ingest/.dlt/secrets.toml), never the section."""
    held = sorted(k for k in section if k.endswith("secret"))
    if held:
        raise ValueError(
            f"the WeCom section of the run configuration holds {', '.join(held)}; set "
            + ", ".join(f"SOURCES__WECOM__{k.upper()}" for k in held)
            + " in the environment or in ingest/.dlt/secrets.toml"
        )
    kwargs = sources.arguments(
        "WeCom", section, _CONFIG_KEYS, ("chat_archive_dir", "contact_events_dir"), logger
    )
    return wecom_source(**kwargs)
