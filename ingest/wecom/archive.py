"""Reading the decrypted 会话内容存档 (chat archive): one JSON-lines file per month.

``read_columns`` parses a file with pyarrow's C++ JSON reader and builds ``MESSAGE_SCHEMA``
with pyarrow.compute only. Whenever it cannot vouch that its result equals the line-by-line
reader's (a line that is not one JSON object, a type the schema does not expect, a row the
old reader would reject, carriage returns, invalid UTF-8...), it reads the file again with
``read_rows``, the line-by-line reader, which names a broken line or raises as it always did.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ingest.wecom.helpers import WeComError

logger = logging.getLogger(__name__)

MESSAGE_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        pa.field("msgid", pa.string(), nullable=False),
        ("action", pa.string()),
        ("sender", pa.string()),
        ("recipients", pa.string()),
        ("roomid", pa.string()),
        ("msgtime", pa.timestamp("us", "UTC")),
        ("msgtype", pa.string()),
        ("content", pa.string()),
        ("file_name", pa.string()),
        ("file_size", pa.int64()),
        ("link_url", pa.string()),
    ]
)
# the keys read from a line; absent keys (and absent nested objects) become nulls
_LINE_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("msgid", pa.string()),
        ("action", pa.string()),
        ("from", pa.string()),
        ("tolist", pa.list_(pa.string())),
        ("roomid", pa.string()),
        ("msgtime", pa.int64()),
        ("msgtype", pa.string()),
        ("text", pa.struct([("content", pa.string())])),
        ("file", pa.struct([("filename", pa.string()), ("filesize", pa.int64())])),
        ("link", pa.struct([("link_url", pa.string())])),
    ]
)
_PARSE = pj.ParseOptions(explicit_schema=_LINE_SCHEMA, unexpected_field_behavior="ignore")
_READ = pj.ReadOptions(block_size=4 << 20)
# |msgtime| below 2**33 s: the old reader's float seconds (ms / 1000) round to the exact µs
_EXACT_MS = 2**33 * 1000


def _message_row(m: dict[str, Any]) -> dict[str, Any]:
    file, link = m.get("file") or {}, m.get("link") or {}
    return {
        "seq": m.get("seq"),
        "msgid": m.get("msgid"),
        "action": m.get("action"),
        "sender": m.get("from"),
        "recipients": ",".join(m.get("tolist") or []),
        "roomid": m.get("roomid") or None,
        "msgtime": datetime.fromtimestamp(int(m["msgtime"]) / 1000, UTC),
        "msgtype": m.get("msgtype"),
        "content": (m.get("text") or {}).get("content"),
        "file_name": file.get("filename"),
        "file_size": file.get("filesize"),
        "link_url": link.get("link_url"),
    }


def read_rows(path: Path, after: int = 0) -> pa.Table | None:
    """The messages of one archive file with ``seq > after``, line by line (None if none).
    A line that is not JSON raises WeComError naming the file and the line; blank lines
    are skipped."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise WeComError(
                    "chat archive", None, f"{path.name} line {number}: not JSON ({exc.msg})"
                ) from exc
            if record.get("seq", 0) > after:
                rows.append(_message_row(record))
    return pa.Table.from_pylist(rows, schema=MESSAGE_SCHEMA) if rows else None


def read_columns(path: Path, after: int = 0) -> pa.Table | None:
    """What ``read_rows`` returns, parsed and converted column by column; falls back to
    ``read_rows`` for a file the columnar path cannot read exactly as it would."""
    return read_grown(path, after)[0]


def read_grown(
    path: Path, after: int = 0, known: tuple[int, str] | None = None
) -> tuple[pa.Table | None, int, str]:
    """What ``read_columns`` returns, with the bytes read and their SHA-256. ``known``: the
    size and digest of the file when it was last read. When the file still begins with exactly
    those bytes (ending a line), only what was appended since is parsed (nothing, for a file
    written again with the same bytes): every message before it was read then, past that
    read's cursor, which ``after`` is not below. Else, and whenever the appended part cannot be
    read column-wise, the file is read whole."""
    data = path.read_bytes()
    digest = hashlib.sha256()
    start = 0
    if known is not None and 0 < known[0] <= len(data) and data[known[0] - 1] == ord("\n"):
        digest.update(memoryview(data)[: known[0]])
        if digest.hexdigest() == known[1]:
            start = known[0]
            digest.update(memoryview(data)[start:])
    if not start:
        digest = hashlib.sha256(data)
    table = _columns(data[start:] if start else data, after)
    if table is False:
        logger.info("chat archive %s: reading line by line", path.name)
        table = read_rows(path, after)  # whole: a broken line is named by its number
    elif start == len(data):
        logger.info("chat archive %s: the same bytes as when it was read, not parsed", path.name)
    elif start:
        logger.info(
            "chat archive %s: %d bytes appended since it was read, only those parsed",
            path.name,
            len(data) - start,
        )
    return table, len(data), digest.hexdigest()


def _columns(data: bytes, after: int) -> pa.Table | Literal[False] | None:
    """The table (None if no row is after ``after``), or False to read line by line."""
    if not data:
        return None
    if b"\r" in data or not _utf8(data):
        return False  # the line-by-line reader splits at a lone \r and rejects bad UTF-8
    try:
        raw = pj.read_json(pa.BufferReader(data), read_options=_READ, parse_options=_PARSE)
    except pa.ArrowException:
        return False  # not JSON, or a type the schema does not expect
    if not _one_object_a_line(data, raw.num_rows) or raw["seq"].null_count:
        return False  # several objects on a line or one over several; seq null or absent
    if raw.num_rows and pc.min(raw["seq"]).as_py() <= after:
        raw = raw.filter(pc.greater(raw["seq"], after))
    if not raw.num_rows:
        return None
    msgtime = raw["msgtime"]
    if raw["msgid"].null_count or msgtime.null_count:
        return False  # read_rows keeps a null msgid and fails on a null msgtime
    low, high = pc.min_max(msgtime).values()
    if low.as_py() < -_EXACT_MS or high.as_py() > _EXACT_MS:
        return False
    if pc.list_flatten(raw["tolist"]).null_count:
        return False  # "".join fails on a null recipient
    roomid = raw["roomid"]
    columns = [
        raw["seq"],
        raw["msgid"],
        raw["action"],
        raw["from"],
        pc.fill_null(pc.binary_join(raw["tolist"], ","), ""),
        pc.if_else(pc.equal(roomid, ""), pa.scalar(None, pa.string()), roomid),
        pc.multiply(msgtime, 1000).cast(pa.timestamp("us", "UTC")),
        raw["msgtype"],
        pc.struct_field(raw["text"], "content"),
        pc.struct_field(raw["file"], "filename"),
        pc.struct_field(raw["file"], "filesize"),
        pc.struct_field(raw["link"], "link_url"),
    ]
    return pa.Table.from_arrays(columns, schema=MESSAGE_SCHEMA)


def _utf8(data: bytes) -> bool:
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _one_object_a_line(data: bytes, rows: int) -> bool:
    """Every line is blank or starts with ``{`` and ends with ``}``, and there are as many
    such lines as rows: then each line held exactly one object (an object spanning lines
    would need ``}`` then ``{`` with no comma between, which no JSON holds)."""
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    if (
        rows == lines
        and data.startswith(b"{")
        and data.endswith((b"}", b"}\n"))
        and data.count(b"}\n{") == lines - 1
    ):
        return True  # no blank line, and every line break is "}\n{"
    size = len(data)
    octets = pa.Array.from_buffers(pa.uint8(), size, [None, pa.py_buffer(data)])
    breaks = pc.indices_nonzero(pc.equal(octets, ord("\n"))).cast(pa.int64())
    starts = pa.concat_arrays([pa.array([0], pa.int64()), pc.add(breaks, 1)])
    stops = pa.concat_arrays([breaks, pa.array([size], pa.int64())])
    if data.endswith(b"\n"):
        starts, stops = starts[:-1], stops[:-1]
    filled = pc.greater(stops, starts)
    starts, stops = starts.filter(filled), stops.filter(filled)
    if len(starts) != rows:
        return False
    first, last = pc.take(octets, starts), pc.take(octets, pc.subtract(stops, 1))
    return bool(
        pc.all(pc.equal(first, ord("{"))).as_py() and pc.all(pc.equal(last, ord("}"))).as_py()
    )
