"""Build the Evidence BI site from the BI hand-off file, and look at its pages in Chromium."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import os
import shutil
import signal
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
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


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
def _chromium(args: list[str], **popen) -> Iterator[tuple[subprocess.Popen, Path]]:
    """Chromium with a fresh profile, in a process group of its own. On exit the whole group
    (browser, renderers, crash handler) is killed and waited for before the profile is removed:
    a helper process still writing into it would otherwise race the removal."""
    profile = Path(tempfile.mkdtemp(prefix="chromium-"))
    proc = subprocess.Popen(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        start_new_session=True,
        **popen,
    )
    try:
        yield proc, profile
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        for _ in range(20):
            shutil.rmtree(profile, ignore_errors=True)
            if not profile.exists():
                break
            time.sleep(0.25)


def screenshot(
    site_dir: Path,
    png: Path,
    page: str = "",
    width: int = 1400,
    height: int = 1800,
    timeout: int = 120,
) -> Path:
    """A PNG of one page of a built site (``page`` = its path, e.g. ``lead-response``), taken
    once the page's queries have run."""
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    with _browser(site_dir, width, height) as tab:
        tab.open(page, timeout)
        shot = tab.call("Page.captureScreenshot", format="png")
    if not shot.get("data"):
        raise BiBuildError(f"Chromium made no screenshot of /{page}")
    png.write_bytes(base64.b64decode(shot["data"]))
    return png


def page_text(site_dir: Path, page: str = "", timeout: int = 120) -> str:
    """The DOM of one page once its queries have run in the browser (the numbers show)."""
    with _browser(site_dir) as tab:
        tab.open(page, timeout)
        html = tab.evaluate("document.documentElement.outerHTML")
    if not html:
        raise BiBuildError(f"Chromium could not render /{page}")
    return html


def print_pdf(html_file: Path, pdf: Path, timeout: int = 120) -> Path:
    """A local HTML file printed to PDF by headless Chromium (paper size from its ``@page``
    rule, backgrounds kept, no header or footer)."""
    pdf = Path(pdf)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.unlink(missing_ok=True)
    args = [
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf.resolve()}",
        Path(html_file).resolve().as_uri(),
    ]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    with _chromium(args, **pipes) as (proc, _profile):
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise BiBuildError(f"Chromium did not print {html_file} within {timeout}s") from exc
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        raise BiBuildError(f"Chromium printed no PDF of {html_file}: {err[-2000:]}")
    return pdf


# -- looking at a page over the DevTools protocol ------------------------------------------------
CHART_PROBE = """(() => {
  const charts = [];
  for (const c of document.querySelectorAll('canvas')) {
    let painted = 0, sampled = 0;
    try {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4 * 7) { sampled++; if (d[i] > 0) painted++; }
    } catch (e) { painted = -1; }
    charts.push({kind: 'canvas', width: c.width, height: c.height, painted, sampled});
  }
  for (const s of document.querySelectorAll('.chart svg, [class*="echarts"] svg')) {
    const marks = s.querySelectorAll('path, rect, circle, text').length;
    charts.push({kind: 'svg', width: s.clientWidth, height: s.clientHeight, painted: marks,
                 sampled: marks});
  }
  const errors = [...document.querySelectorAll('.error, [class*="error-"]')]
    .map(e => e.innerText.trim()).filter(t => t);
  const text = document.body ? document.body.innerText : '';
  return JSON.stringify({charts, errors, title: document.title, text,
                         loading: text.includes('Loading...')});
})()"""


class PageReport:
    """What a browser saw on one page: console errors, page errors, charts and text."""

    def __init__(self, page: str, console: list[str], data: dict) -> None:
        self.page = page
        self.console_errors = console
        self.error_boxes: list[str] = data.get("errors", [])
        self.charts: list[dict] = data.get("charts", [])
        self.title: str = data.get("title", "")
        self.text: str = data.get("text", "")

    @property
    def blank_charts(self) -> list[dict]:
        """Charts with (almost) nothing drawn: under 1% of sampled pixels painted."""
        return [c for c in self.charts if c["painted"] < max(1, c["sampled"] // 100)]

    def __repr__(self) -> str:
        return (
            f"PageReport(/{self.page}: {len(self.charts)} charts, {len(self.blank_charts)} "
            f"blank, console errors {self.console_errors}, error boxes {self.error_boxes})"
        )


class _Tab:
    """One browser tab driven over the DevTools protocol, on a served site."""

    def __init__(self, ws, base: str) -> None:
        self.ws, self.base = ws, base
        self.ids = iter(range(1, 1_000_000))
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=120))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise BiBuildError(f"Chromium: {method} failed: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression).get("result", {}).get("value")

    def open(self, page: str, settle_seconds: float = 45.0) -> dict:
        """Load a page and wait until its queries have run (they run in the browser) and its
        charts stopped changing; returns what CHART_PROBE saw last."""
        self.events.clear()
        self.call("Page.navigate", url=f"{self.base}/{page.lstrip('/')}")
        data, last, stable_since = {}, None, time.monotonic()
        deadline = time.monotonic() + settle_seconds
        while time.monotonic() < deadline:
            time.sleep(0.5)
            data = json.loads(self.evaluate(CHART_PROBE) or "{}")
            shape = json.dumps(data.get("charts"))
            if shape != last:
                last, stable_since = shape, time.monotonic()
            elif (
                time.monotonic() - stable_since > 2.5
                and data.get("title")
                and not data.get("loading")  # queries still running in the page
            ):
                break
        return data


@contextlib.contextmanager
def _browser(site_dir: Path, width: int = 1400, height: int = 1800) -> Iterator[_Tab]:
    """Headless Chromium with one tab, on ``site_dir`` served on 127.0.0.1."""
    import urllib.request

    from websockets.sync.client import connect

    chrome_args = [f"--window-size={width},{height}", "--remote-debugging-port=0", "about:blank"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    with serve(site_dir) as base, _chromium(chrome_args, **quiet) as (_proc, profile):
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.is_file() or not port_file.read_text().strip():
            if time.monotonic() > deadline:
                raise BiBuildError("Chromium opened no DevTools port")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as resp:
            targets = json.load(resp)
        ws_url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        with connect(ws_url, max_size=None, open_timeout=30) as ws:
            tab = _Tab(ws, base)
            for domain in ("Runtime", "Log", "Page", "Network"):
                tab.call(f"{domain}.enable")
            yield tab


def inspect_pages(
    site_dir: Path,
    pages: list[str],
    width: int = 1400,
    height: int = 4000,
    settle_seconds: float = 45.0,
) -> list[PageReport]:
    """Load each page of a built site in headless Chromium over the DevTools protocol and
    report its console errors (console.error, uncaught exceptions, failed requests), the
    error boxes Evidence draws, and how much of each chart's canvas is painted."""
    reports = []
    with _browser(site_dir, width, height) as tab:
        for page in pages:
            data = tab.open(page, settle_seconds)
            reports.append(PageReport(page, _console_errors(tab.events), data))
    return reports


def _console_errors(events: list[dict]) -> list[str]:
    out = []
    for ev in events:
        method, params = ev.get("method"), ev.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = params.get("args", [])
            out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            out.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            out.append(f"{entry.get('text', '')} {entry.get('url', '')}".strip())
    return out
