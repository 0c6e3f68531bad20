"""Build the Evidence BI site from the BI hand-off file, and look at its pages in Chromium."""

from __future__ import annotations

import contextlib
import functools
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

from salesops import locks

ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = ROOT / "bi_reports"
SOURCE_FILE = Path("sources") / "warehouse" / "warehouse_bi.duckdb"
CACHES = (
    "build",
    ".evidence/template/.evidence-queries",
    ".evidence/template/build",
    ".evidence/template/static/data",
    ".evidence/template/.svelte-kit/output",
)
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
    """Build the static site against ``bi_file`` and place it at ``out_dir`` (replaced whole).

    The BI file is copied into the site's source folder (Evidence reads a path relative to the
    source), query results are extracted (``npm run sources``) and the pages are prerendered
    (``npm run build``). Nothing is fetched from the network.
    """
    say = progress or (lambda _m: None)
    bi_file, out_dir, site_dir = Path(bi_file), Path(out_dir), Path(site_dir)
    if not bi_file.is_file():
        raise BiBuildError(f"BI file not found: {bi_file} (run the publish step first)")
    if not (site_dir / "node_modules").is_dir():
        raise BiBuildError(f"{site_dir}/node_modules is missing: run `make node` first")
    # one build at a time in a site folder: builds share its caches and build output
    with locks.exclusive(site_dir / ".build.lock", lambda: say("  waiting for another build")):
        return _build_site(bi_file, out_dir, site_dir, say)


def _build_site(bi_file: Path, out_dir: Path, site_dir: Path, say: Callable[[str], None]) -> Path:
    # Evidence caches query results by the query's text, not the data: a build for other
    # data (another day, another region) must not ship the last build's results
    for cache in CACHES:
        shutil.rmtree(site_dir / cache, ignore_errors=True)
    target = site_dir / SOURCE_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bi_file, target)
    env = dict(os.environ, EVIDENCE_TELEMETRY_DISABLED="1", DO_NOT_TRACK="1", CI="true")
    for step in ("sources", "build"):
        started = time.monotonic()
        say(f"  npm run {step} ...")
        result = subprocess.run(
            [_npm(), "run", step],
            cwd=site_dir,
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-3000:]
            raise BiBuildError(f"BI site step `npm run {step}` failed in {site_dir}:\n{tail}")
        say(f"  npm run {step} done in {time.monotonic() - started:.0f}s")
    built = site_dir / "build"
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".site-", dir=out_dir.parent))
    shutil.copytree(built, staging / "site")
    old = out_dir.with_name(out_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    (staging / "site").rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    return out_dir


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
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


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise BiBuildError("Chromium is not installed (apt-get install chromium fonts-noto-cjk)")


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


def _run_chromium(args: list[str], timeout: int) -> subprocess.CompletedProcess:
    with _chromium(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as (proc, _):
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise BiBuildError(f"Chromium did not finish within {timeout}s: {args[-1]}") from exc
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def screenshot(
    site_dir: Path,
    png: Path,
    page: str = "",
    width: int = 1400,
    height: int = 1800,
    timeout: int = 120,
) -> Path:
    """A PNG of one page of a built site (``page`` = its path, e.g. ``lead-response``)."""
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    with serve(site_dir) as base:
        result = _run_chromium(
            [
                f"--window-size={width},{height}",
                "--virtual-time-budget=20000",
                f"--screenshot={png.resolve()}",
                f"{base}/{page.strip('/')}",
            ],
            timeout,
        )
    if not png.is_file():
        raise BiBuildError(f"Chromium made no screenshot of /{page}: {result.stderr[-2000:]}")
    return png


def page_text(site_dir: Path, page: str = "", timeout: int = 120) -> str:
    """The DOM of one page after its scripts ran (so numbers rendered client-side show)."""
    with serve(site_dir) as base:
        result = _run_chromium(
            ["--virtual-time-budget=20000", "--dump-dom", f"{base}/{page.strip('/')}"], timeout
        )
    if result.returncode != 0:
        raise BiBuildError(f"Chromium could not render /{page}: {result.stderr[-2000:]}")
    return result.stdout


def print_pdf(site_dir: Path, pdf: Path, page: str = "", timeout: int = 120) -> Path:
    """One page of a built site printed to PDF by headless Chromium (A4, backgrounds kept)."""
    pdf = Path(pdf)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.unlink(missing_ok=True)
    with serve(site_dir) as base:
        result = _run_chromium(
            [
                "--virtual-time-budget=20000",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf.resolve()}",
                f"{base}/{page.strip('/')}",
            ],
            timeout,
        )
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        raise BiBuildError(f"Chromium printed no PDF of /{page}: {result.stderr[-2000:]}")
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
  return JSON.stringify({charts, errors, title: document.title,
                         text: document.body ? document.body.innerText : ''});
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


def inspect_pages(
    site_dir: Path,
    pages: list[str],
    width: int = 1400,
    height: int = 4000,
    settle_seconds: float = 20.0,
) -> list[PageReport]:
    """Load each page of a built site in headless Chromium over the DevTools protocol and
    report its console errors (console.error, uncaught exceptions, failed requests), the
    error boxes Evidence draws, and how much of each chart's canvas is painted."""
    import json
    import urllib.request

    from websockets.sync.client import connect

    reports = []
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
            ids = iter(range(1, 1_000_000))
            pending: list[dict] = []

            def call(method: str, **params) -> dict:
                msg_id = next(ids)
                ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
                while True:
                    msg = json.loads(ws.recv(timeout=60))
                    if msg.get("id") == msg_id:
                        return msg.get("result", {})
                    pending.append(msg)

            for domain in ("Runtime", "Log", "Page", "Network"):
                call(f"{domain}.enable")
            for page in pages:
                pending.clear()
                call("Page.navigate", url=f"{base}/{page.strip('/')}")
                data, last, stable_since = {}, None, time.monotonic()
                deadline = time.monotonic() + settle_seconds
                while time.monotonic() < deadline:
                    time.sleep(0.5)
                    result = call("Runtime.evaluate", expression=CHART_PROBE)
                    data = json.loads(result.get("result", {}).get("value") or "{}")
                    shape = json.dumps(data.get("charts"))
                    if shape != last:
                        last, stable_since = shape, time.monotonic()
                    elif time.monotonic() - stable_since > 2.5 and data.get("title"):
                        break
                reports.append(PageReport(page, _console_errors(pending), data))
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
