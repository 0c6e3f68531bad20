"""Build the Evidence BI site from the BI hand-off file, and print pages with Chromium."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb

from salesops import locks

ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = ROOT / "bi_reports"
# the Evidence source the pages query (``warehouse.<table>``): one ``<table>.sql`` per table
SOURCE = "warehouse"
# what the page shell is made from (besides the tables' columns): a change rebuilds it
SHELL_INPUTS = (
    "pages/**/*",
    "sources/**/*.sql",
    "package.json",
    "package-lock.json",
    "evidence.plugins.yaml",
    "evidence.settings.json",
)
SHELL_DIR = Path(".evidence") / "salesops-shell"
CACHES = (
    "build",
    ".evidence/template/.evidence-queries",
    ".evidence/template/build",
    ".evidence/template/static/data",
    ".evidence/template/.svelte-kit/output",
)
# DuckDB types as Evidence's DuckDB source stores them: numbers as DOUBLE, dates and times as
# TIMESTAMP (UTC), booleans as BOOLEAN, anything else as text
NUMBER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
}


class BiBuildError(RuntimeError):
    """A step of the site build failed; the message carries the tail of its output."""


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise BiBuildError("npm is not installed (Node 20 is needed to build the BI site)")
    return npm


def build_site(
    bi_file: Path,
    out_dir: Path,
    site_dir: Path = SITE_DIR,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Build the static site for ``bi_file`` and place it at ``out_dir`` (replaced whole).

    Evidence builds the pages once, on empty tables: this *page shell* (HTML, scripts, page
    metadata) holds no row of any table. It is kept in the site folder and reused while the
    pages, the source queries and the tables' columns stay the same. A site is the shell plus
    its own data: one Parquet file per source query, run here on ``bi_file``; the pages'
    queries run in the browser (DuckDB-wasm) on those files. A site built from a region's BI
    file therefore ships that region's rows and nothing else, and every further site (another
    region, another day) costs a copy and a few Parquet files, not an Evidence build.
    Nothing is fetched from the network.
    """
    say = progress or (lambda _m: None)
    bi_file, out_dir, site_dir = Path(bi_file), Path(out_dir), Path(site_dir)
    if not bi_file.is_file():
        raise BiBuildError(f"BI file not found: {bi_file} (run the publish step first)")
    if not (site_dir / "node_modules").is_dir():
        raise BiBuildError(f"{site_dir}/node_modules is missing: run `make node` first")
    queries = _source_queries(site_dir)
    con = duckdb.connect(str(bi_file), read_only=True)
    try:
        typed = {name: _typed_query(con, name, sql) for name, sql in queries.items()}
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".site-", dir=out_dir.parent))
        try:
            # one shell build at a time in a site folder: builds share its caches and output
            lock = site_dir / ".build.lock"
            with locks.exclusive(lock, lambda: say("  waiting for another build")):
                shell = _shell(site_dir, con, typed, say)
                shutil.copytree(shell, staging / "site")
            started = time.monotonic()
            _write_data(con, typed, staging / "site" / "data")
            say(f"  data files written in {time.monotonic() - started:.1f}s")
            old = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if out_dir.exists():
                out_dir.rename(old)
            (staging / "site").rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        con.close()
    return out_dir


def _source_queries(site_dir: Path) -> dict[str, str]:
    """The source's queries (``sources/warehouse/<table>.sql``), by table name."""
    folder = site_dir / "sources" / SOURCE
    queries = {
        p.stem: p.read_text(encoding="utf-8").strip().rstrip(";")
        for p in sorted(folder.glob("*.sql"))
    }
    if not queries:
        raise BiBuildError(f"no source queries in {folder}")
    return queries


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _typed_query(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> tuple[str, list]:
    """A source query with its columns cast as Evidence stores them, and its column layout."""
    try:
        columns = con.execute(f"describe {sql}").fetchall()
    except duckdb.Error as exc:
        raise BiBuildError(f"source query {SOURCE}/{name}.sql fails on the BI file: {exc}") from exc
    select, layout = [], []
    for column, duck_type, *_ in columns:
        kind = duck_type.upper()
        if kind == "BOOLEAN":
            cast = "BOOLEAN"
        elif kind in NUMBER_TYPES or kind.startswith("DECIMAL"):
            cast = "DOUBLE"
        elif kind == "DATE" or kind.startswith("TIMESTAMP"):
            cast = "TIMESTAMP"
        else:
            cast = "VARCHAR"
        select.append(f"cast({_quote(column)} as {cast}) as {_quote(column)}")
        layout.append([column, cast])
    return f"select {', '.join(select)} from ({sql}) as source", layout


def _write_data(
    con: duckdb.DuckDBPyConnection,
    typed: dict[str, tuple[str, list]],
    data_dir: Path,
    empty: bool = False,
) -> None:
    """One Parquet file per source query (every row, or none with ``empty``) and the manifest
    Evidence's pages load them by. A table without rows still gets a valid file with its
    columns, so its charts say they have no data instead of failing."""
    import pyarrow.parquet as pq

    con.execute("set TimeZone = 'UTC'")  # timestamps with a time zone as UTC, as Evidence does
    files = []
    for name, (sql, _layout) in typed.items():
        written = data_dir / SOURCE / name / f"{name}.parquet"
        written.parent.mkdir(parents=True, exist_ok=True)
        reader = con.sql(sql + (" limit 0" if empty else "")).to_arrow_reader(100_000)
        with pq.ParquetWriter(written, reader.schema, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch)
        # in a folder named by its content: a browser never serves yesterday's file from cache
        digest = hashlib.sha256(written.read_bytes()).hexdigest()[:16]
        (written.parent / digest).mkdir()
        written.rename(written.parent / digest / written.name)
        files.append(f"static/data/{SOURCE}/{name}/{digest}/{name}.parquet")
    manifest = {
        "renderedFiles": {SOURCE: files},
        "locatedFiles": {SOURCE: list(typed)},
        "locatedSchemas": [SOURCE],
    }
    (data_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _shell_key(site_dir: Path, typed: dict[str, tuple[str, list]]) -> str:
    digest = hashlib.sha256()
    for pattern in SHELL_INPUTS:
        for path in sorted(site_dir.glob(pattern)):
            if path.is_file():
                digest.update(path.relative_to(site_dir).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    digest.update(json.dumps({name: layout for name, (_, layout) in typed.items()}).encode())
    return digest.hexdigest()[:16]


def _shell(
    site_dir: Path,
    con: duckdb.DuckDBPyConnection,
    typed: dict[str, tuple[str, list]],
    say: Callable[[str], None],
) -> Path:
    """The page shell for these pages and tables: built by Evidence on empty tables, once."""
    shell = site_dir / SHELL_DIR / _shell_key(site_dir, typed)
    if (shell / "index.html").is_file():
        say(f"  pages unchanged: reusing the page shell {shell.name}")
        return shell
    # Evidence caches query results by the query's text, not the data: start from nothing
    for cache in CACHES:
        shutil.rmtree(site_dir / cache, ignore_errors=True)
    _write_data(con, typed, site_dir / ".evidence" / "template" / "static" / "data", empty=True)
    env = dict(os.environ, EVIDENCE_TELEMETRY_DISABLED="1", DO_NOT_TRACK="1", CI="true")
    started = time.monotonic()
    say("  npm run build (the page shell, on empty tables) ...")
    result = subprocess.run(
        [_npm(), "run", "build"], cwd=site_dir, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-3000:]
        raise BiBuildError(f"BI site step `npm run build` failed in {site_dir}:\n{tail}")
    say(f"  npm run build done in {time.monotonic() - started:.0f}s")
    built = site_dir / "build"
    # prerendering stored the (empty) results of every page's queries: each site's browser
    # runs the queries on that site's own data files instead
    shutil.rmtree(built / "data", ignore_errors=True)
    shutil.rmtree(built / "api" / "prerendered_queries", ignore_errors=True)
    for listing in (built / "api").rglob("all-queries.json"):
        listing.write_text("{}", encoding="utf-8")
    shutil.rmtree(shell.parent, ignore_errors=True)  # older shells
    shell.parent.mkdir(parents=True)
    built.rename(shell)
    return shell


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass

    def handle(self) -> None:
        # the browser drops connections it no longer needs once the page has rendered
        with contextlib.suppress(ConnectionError):
            super().handle()


@contextlib.contextmanager
def serve(site_dir: Path) -> Iterator[str]:
    """Serve a built site on 127.0.0.1 (a free port) for the duration; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


CHROMIUM_ENV = "SALESOPS_CHROMIUM"  # names the browser executable; else the first on PATH
CHROMIUM_HINT = "sudo apt-get install chromium fonts-noto-cjk, or sudo make browser"


def chromium() -> str:
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        if os.path.isfile(named) and os.access(named, os.X_OK):
            return named
        raise BiBuildError(f"{CHROMIUM_ENV}={named} is not an executable ({CHROMIUM_HINT})")
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise BiBuildError(f"Chromium is not installed ({CHROMIUM_HINT})")


def chromium_missing() -> str | None:
    """Why Chromium cannot be started, or None when it can."""
    try:
        chromium()
    except BiBuildError as exc:
        return str(exc)
    return None


@contextlib.contextmanager
def browser() -> Iterator:
    """Headless Chromium (the system's, ``chromium()``) driven by Playwright; closed on exit.

    Playwright starts the browser, talks to it over the DevTools protocol and ends it with its
    helpers; it never downloads a browser of its own (``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD`` at
    install, no ``playwright install``)."""
    from playwright.sync_api import Error, sync_playwright

    executable = chromium()
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
            )
        except Error as exc:
            raise BiBuildError(f"Chromium ({executable}) did not start: {exc}") from exc
        try:
            yield launched
        finally:
            launched.close()


def print_pdf(html_file: Path, pdf: Path, timeout: int = 120) -> Path:
    """A local HTML file printed to PDF by headless Chromium (paper size from its ``@page``
    rule, A4 where it names none; backgrounds kept, no header or footer)."""
    from playwright.sync_api import Error

    pdf = Path(pdf)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.unlink(missing_ok=True)
    with browser() as chrome:
        page = chrome.new_page()
        try:
            page.goto(Path(html_file).resolve().as_uri(), timeout=timeout * 1000)
            page.pdf(path=pdf, format="A4", prefer_css_page_size=True, print_background=True)
        except Error as exc:
            raise BiBuildError(f"Chromium printed no PDF of {html_file}: {exc}") from exc
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        raise BiBuildError(f"Chromium printed no PDF of {html_file}")
    return pdf
