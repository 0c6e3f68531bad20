"""Customer contacts kept current from WeCom's contact change events.

WeCom pushes a ``change_external_contact`` event to the 客户联系 app's callback URL whenever a
rep adds, edits or deletes a customer (``add_external_contact``, ``add_half_external_contact``,
``edit_external_contact``, ``del_external_contact``), a customer deletes the rep
(``del_follow_user``) or a hand-over fails (``transfer_fail``). A batch run has no public URL,
so the company's callback receiver stores each decrypted event as one JSON line — the XML's
elements as keys (``CreateTime``, ``Event``, ``ChangeType``, ``UserID``, ``ExternalUserID``) —
in a folder (``contact_events_dir``), and the loader reads what was appended since its last run:

- a customer whose last event for a rep deletes it loses that row (a tombstone, merged);
- every other customer with an event is read again with ``externalcontact/get`` (one call a
  customer: their details and every rep following them); a rep no longer among them loses
  the row, and a customer WeCom no longer knows (84061) loses every row.

``batch/get_by_user`` pages through every rep's contacts instead on the first run, without an
events folder, every ``contacts_full_every_days`` days, and when more customers changed than
``CHANGED_SHARE_FOR_FULL_READ`` of the rows; rows it no longer returns are deleted. A run with
no new event makes no contact call at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingest import pipelines
from ingest.wecom.helpers import WeComClient, WeComError, parallel_map
from ingest.wecom.settings import (
    CHANGED_SHARE_FOR_FULL_READ,
    MAX_USERS_PER_CALL,
    PAGE_LIMIT,
    PARALLEL_REQUESTS,
    ROWS_PER_TABLE,
)

logger = logging.getLogger(__name__)

EVENT = "change_external_contact"
DELETES = {"del_external_contact", "del_follow_user"}
NOT_EXTERNAL_CONTACT = 84061  # 不存在外部联系人的关系
DELETED = "_wecom_deleted"
TABLE = "external_contacts"
KEY = ("external_userid", "userid")


def read_events(folder: Path, offsets: dict[str, int]) -> tuple[list[dict[str, Any]], dict]:
    """The events appended to ``folder``'s ``*.jsonl`` files past ``offsets`` (bytes read per
    file) and the offsets after them. A line still being written (no newline yet) waits for the
    next run; a file shorter than its offset was replaced and is read from its start."""
    if not folder.is_dir():
        raise WeComError("contact events", None, f"folder not found: {folder}")
    events: list[dict[str, Any]] = []
    after: dict[str, int] = {}
    for path in sorted(folder.glob("*.jsonl")):
        start = offsets.get(path.name, 0)
        with path.open("rb") as fh:
            if fh.seek(0, 2) < start:
                start = 0
            fh.seek(start)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        at = start
        for line in data[:end].splitlines(keepends=True):
            if line.strip():
                events.append(_event(line, path, at))
            at += len(line)
        after[path.name] = start + end
    return events, after


def _event(line: bytes, path: Path, at: int) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise WeComError("contact events", None, f"{path} at byte {at}: not a JSON object")
    if event.get("Event") == EVENT:
        missing = [k for k in ("ChangeType", "UserID", "ExternalUserID") if not event.get(k)]
        if missing:
            raise WeComError(
                "contact events",
                None,
                f"{path} at byte {at}: a {EVENT} event without {', '.join(missing)}",
            )
    return event


def changes(events: list[dict[str, Any]]) -> tuple[set[str], set[tuple[str, str]]]:
    """Customers to read again, and (customer, rep) pairs deleted: each pair's last event (by
    ``CreateTime``, then order of arrival) decides."""
    last: dict[tuple[str, str], str] = {}
    ordered = sorted(
        (e for e in events if e.get("Event") == EVENT), key=lambda e: int(e.get("CreateTime") or 0)
    )
    for e in ordered:
        last[(str(e["ExternalUserID"]), str(e["UserID"]))] = str(e["ChangeType"])
    deleted = {pair for pair, kind in last.items() if kind in DELETES}
    refetch = {ext for (ext, _), kind in last.items() if kind not in DELETES}
    return refetch, deleted


def tombstones(schema: pa.Schema, pairs: list[tuple[str, str]]) -> pa.Table:
    """Rows that delete ``pairs`` on merge: the key, ``_wecom_deleted`` true, all else null."""
    columns = {
        f.name: pa.array([p[KEY.index(f.name)] for p in pairs], type=f.type)
        if f.name in KEY
        else pa.nulls(len(pairs), f.type)
        for f in schema
    }
    columns[DELETED] = pa.array([True] * len(pairs))
    return pa.table(columns, schema=schema.append(pa.field(DELETED, pa.bool_())))


def detail_items(client: WeComClient, external_userid: str) -> list[dict[str, Any]] | None:
    """``externalcontact/get``: the customer once per following rep, shaped as
    ``batch/get_by_user`` items (enterprise tags' ids as ``tag_id``); None when WeCom no longer
    knows the customer (84061)."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        try:
            page = client.get(
                "externalcontact/get", {"external_userid": external_userid, "cursor": cursor}
            )
        except WeComError as exc:
            if exc.errcode == NOT_EXTERNAL_CONTACT:
                return None
            raise
        for follow in page.get("follow_user") or []:
            tags = [t["tag_id"] for t in follow.get("tags") or [] if t.get("type") == 1]
            info = {**follow, "tag_id": [t for t in tags if t]}
            items.append({"external_contact": page.get("external_contact"), "follow_info": info})
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return items


class ContactLoader:
    """What one run of the ``external_contacts`` resource yields (``rows`` turns items into a
    table of ``schema``), and the resource state it leaves (``state``: ``full_on``, the day of
    the last page-through, and ``events``, bytes read per events file)."""

    def __init__(
        self,
        client: WeComClient,
        reps: Callable[[], list[str]],
        rows: Callable[[list[dict[str, Any]]], pa.Table],
        schema: pa.Schema,
        events_dir: Path | None,
        full_every_days: int,
        today: date,
        parallel: int = PARALLEL_REQUESTS,
    ) -> None:
        self.client = client
        self.reps = reps
        self.rows = rows
        self.schema = schema
        self.events_dir = events_dir
        self.full_every_days = full_every_days
        self.today = today
        self.parallel = parallel
        self._landed: set[tuple[str, str]] | None = None

    def landed(self) -> set[tuple[str, str]]:
        """The (customer, rep) rows already in the warehouse, read once a run."""
        if self._landed is None:
            self._landed = pipelines.landed_keys(TABLE, *KEY)
        return self._landed

    def run(self, state: dict[str, Any]) -> Iterator[pa.Table]:
        offsets = state.setdefault("events", {})
        events: list[dict[str, Any]] = []
        if self.events_dir is not None:
            events, after = read_events(self.events_dir, offsets)
        last_full = state.get("full_on")
        due = (
            self.events_dir is None
            or last_full is None
            or (self.today - date.fromisoformat(last_full)).days >= self.full_every_days
        )
        refetch, deleted = changes(events)
        # one call a changed customer: when many changed, paging through is quicker
        if not due and len(refetch) > len(self.landed()) * CHANGED_SHARE_FOR_FULL_READ:
            logger.info("WeCom contacts: %d customers changed, paging through all", len(refetch))
            due = True
        if due:
            yield from self._full()
            state["full_on"] = self.today.isoformat()
        elif refetch or deleted:
            yield from self._apply(refetch, deleted)
        if self.events_dir is not None:
            offsets.clear()
            offsets.update(after)

    def _full(self) -> Iterator[pa.Table]:
        users = self.reps()
        seen: set[tuple[str, str]] = set()

        def page_through(batch: list[str]) -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = []
            cursor = ""
            while True:
                page = self.client.post(
                    "externalcontact/batch/get_by_user",
                    {"userid_list": batch, "cursor": cursor, "limit": PAGE_LIMIT},
                )
                items += page.get("external_contact_list") or []
                cursor = page.get("next_cursor") or ""
                if not cursor:
                    return items

        batches = [
            users[i : i + MAX_USERS_PER_CALL] for i in range(0, len(users), MAX_USERS_PER_CALL)
        ]
        pending: list[dict[str, Any]] = []
        # each batch of reps paged through in turn, several batches at once
        for items in parallel_map(page_through, batches, self.parallel):
            pending += items
            if len(pending) >= ROWS_PER_TABLE:
                yield self._seen(self.rows(pending), seen)
                pending = []
        if pending:
            yield self._seen(self.rows(pending), seen)
        following = set(users)
        gone = sorted(p for p in self.landed() - seen if p[1] in following)
        if gone:
            logger.info("WeCom contacts: %d no longer followed since the last run", len(gone))
            yield tombstones(self.schema, gone)

    @staticmethod
    def _seen(table: pa.Table, seen: set[tuple[str, str]]) -> pa.Table:
        seen.update(zip(*(table[k].to_pylist() for k in KEY), strict=True))
        return table

    def _apply(self, refetch: set[str], deleted: set[tuple[str, str]]) -> Iterator[pa.Table]:
        following = set(self.reps())
        landed: dict[str, set[tuple[str, str]]] = {}
        for pair in self.landed():
            landed.setdefault(pair[0], set()).add(pair)
        gone = {p for p in deleted if p in landed.get(p[0], ())}
        items: list[dict[str, Any]] = []
        customers = sorted(refetch)
        found_all = parallel_map(
            lambda ext: detail_items(self.client, ext), customers, self.parallel
        )
        for ext, found in zip(customers, found_all, strict=True):
            now = {
                (ext, item["follow_info"].get("userid")): item
                for item in found or []
                if item["follow_info"].get("userid") in following
            }
            items += [item for pair, item in now.items() if pair not in deleted]
            gone |= landed.get(ext, set()) - now.keys()
        logger.info(
            "WeCom contacts from change events: %d customer(s) read again, %d row(s) deleted",
            len(refetch),
            len(gone),
        )
        if items:
            yield self.rows(items)
        if gone:
            yield tombstones(self.schema, sorted(gone))
