"""Build the Evidence BI site from the BI hand-off file, and look at its pages in Chromium."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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


def _run_chromium(args: list[str], timeout: int) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


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
