"""A scanner for personal data in what BI publishes: every table x every column of a BI file
as text, and every file a built site ships (Parquet and Arrow data decoded).

What it looks for (README, "Who sees what"): mainland mobile numbers, WeCom customer ids
(``wm``/``wo`` + 30 characters, the shape WeCom and its stand-in give them), the org's own WeCom
user ids (read from the warehouse) and e-mail addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb

PATTERNS = {
    "phone": re.compile(r"(?<![0-9０-９])1[3-9][0-9]{9}(?![0-9０-９])"),
    "external_userid": re.compile(r"(?<![A-Za-z0-9_-])w[mo][A-Za-z0-9_-]{30}(?![A-Za-z0-9_-])"),
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
}


# addresses that belong to no person of the org: the site framework's own, in its bundle
NOT_PERSONAL = {"support@evidence.dev"}


def wecom_userids(warehouse: str | Path) -> list[str]:
    """The org's WeCom user ids, as the warehouse knows them (org sheet and WeCom)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        queries = ["select wecom_userid from marts.dim_rep"]
        if "raw_wecom.follow_users" in tables:
            queries.append("select userid from raw_wecom.follow_users")
        return sorted(
            {u for q in queries for (u,) in con.execute(q).fetchall() if u and len(u) >= 3}
        )
    finally:
        con.close()


def _patterns(userids: Iterable[str]) -> dict[str, re.Pattern]:
    found = dict(PATTERNS)
    ids = sorted(set(userids), key=len, reverse=True)
    if ids:
        found["wecom_userid"] = re.compile(
            r"(?<![A-Za-z0-9_])(?:" + "|".join(map(re.escape, ids)) + r")(?![A-Za-z0-9_])"
        )
    return found


# a run of hexadecimal digits as long as a hash (the site names its data folders by a 16-digit
# one): eleven decimal digits inside it are part of the hash, not a mobile number
HASHES = re.compile(r"[0-9A-Fa-f]{16,}")


def _in_hash(text: str, match: re.Match) -> bool:
    return any(h.start() <= match.start() and match.end() <= h.end() for h in HASHES.finditer(text))


def scan_text(text: str, userids: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(kind, match) for every piece of personal data in ``text``."""
    return [
        (kind, m.group(0))
        for kind, p in _patterns(userids).items()
        for m in p.finditer(text)
        if m.group(0) not in NOT_PERSONAL and not (kind == "phone" and _in_hash(text, m))
    ]


def _columns_as_text(con: duckdb.DuckDBPyConnection, relation: str) -> Iterator[tuple[str, str]]:
    columns = [d[0] for d in con.execute(f"select * from {relation} limit 0").description]
    for column in columns:
        values = con.execute(
            f'select distinct cast("{column}" as varchar) from {relation} '
            f'where "{column}" is not null'
        ).fetchall()
        yield column, "\n".join(v for (v,) in values)


def scan_bi_file(
    bi_file: str | Path, userids: Iterable[str] = (), schemas: Iterable[str] | None = None
) -> list[tuple[str, str, str]]:
    """(table.column, kind, match) for every table x column of a published BI file (or of
    the given schemas of any DuckDB file)."""
    userids = list(userids)
    con = duckdb.connect(str(bi_file), read_only=True)
    try:
        hits = []
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where ? is null or list_contains(?, table_schema) order by 1, 2",
            [None if schemas is None else list(schemas)] * 2,
        ).fetchall():
            for column, text in _columns_as_text(con, f'"{schema}"."{table}"'):
                hits += [(f"{table}.{column}", k, m) for k, m in scan_text(text, userids)]
        return hits
    finally:
        con.close()


def _data_file_text(path: Path) -> str:
    con = duckdb.connect()
    try:
        if path.suffix == ".parquet":
            relation = con.read_parquet(str(path))
        else:  # Arrow IPC, file or stream format
            import pyarrow.ipc

            with path.open("rb") as fh:
                is_file = fh.read(6) == b"ARROW1"
            opener = pyarrow.ipc.open_file if is_file else pyarrow.ipc.open_stream
            relation = con.from_arrow(opener(str(path)).read_all())
        con.register("scanned", relation)
        return "\n".join(f"{c}\n{t}" for c, t in _columns_as_text(con, "scanned"))
    finally:
        con.close()


def scan_site(site_dir: str | Path, userids: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """(file, kind, match) for every file a built site ships: text files as they are, data
    files (Parquet, Arrow) decoded; binary files (fonts, images) hold no text."""
    userids = list(userids)
    hits = []
    for path in sorted(Path(site_dir).rglob("*")):
        if not path.is_file():
            continue
        if path.suffix in (".parquet", ".arrow"):
            text = _data_file_text(path)
        else:
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                continue  # fonts, images: no text (their random bytes look like e-mails)
        hits += [(str(path), k, m) for k, m in scan_text(text, userids)]
    return hits


def database_text(db_file: str | Path) -> str:
    """Every text of every table of a DuckDB file, one value a line (strings are stored
    compressed, so a byte search of the file can miss them)."""
    con = duckdb.connect(str(db_file), read_only=True)
    try:
        parts = []
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall():
            parts += [text for _, text in _columns_as_text(con, f'"{schema}"."{table}"')]
        return "\n".join(parts)
    finally:
        con.close()
