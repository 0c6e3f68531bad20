"""Looking at the pages of a built BI site in headless Chromium (Playwright): screenshots, the
rendered page, and what a reader would see go wrong (console errors, error boxes, blank
charts)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

from salesops import bi

CHART_PROBE = """() => {
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
  return {charts, errors, title: document.title, text, loading: text.includes('Loading...')};
}"""


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


class Tab:
    """One browser tab on a served site, collecting the errors it reports."""

    def __init__(self, page, base: str) -> None:
        self.page, self.base = page, base
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("requestfailed", self._request_failed)

    def _console(self, message) -> None:
        if message.type in ("error", "assert"):
            self.errors.append(f"{message.text} {message.location.get('url', '')}".strip())

    def _request_failed(self, request) -> None:
        # a request the page itself cancelled (it navigated on, a query was superseded) is no
        # error a reader would see
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"{request.failure} {request.url}".strip())

    def open(self, page: str, settle_seconds: float = 45.0) -> dict:
        """Load a page and wait until its queries have run (they run in the browser) and its
        charts stopped changing; returns what CHART_PROBE saw last."""
        self.errors.clear()
        self.page.goto(f"{self.base}/{page.lstrip('/')}", timeout=settle_seconds * 1000)
        data, last, stable_since = {}, None, time.monotonic()
        deadline = time.monotonic() + settle_seconds
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(500)
            data = self.page.evaluate(CHART_PROBE)
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
def tab(site_dir: Path, width: int = 1400, height: int = 1800) -> Iterator[Tab]:
    """A tab of headless Chromium on ``site_dir`` served on 127.0.0.1."""
    with bi.serve(site_dir) as base, bi.browser() as chrome:
        page = chrome.new_page(viewport={"width": width, "height": height})
        yield Tab(page, base)


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
    with tab(site_dir, width, height) as browser_tab:
        browser_tab.open(page, timeout)
        browser_tab.page.screenshot(path=png)
    return png


def page_text(site_dir: Path, page: str = "", timeout: int = 120) -> str:
    """The DOM of one page once its queries have run in the browser (the numbers show)."""
    with tab(site_dir) as browser_tab:
        browser_tab.open(page, timeout)
        return browser_tab.page.content()


def inspect_pages(
    site_dir: Path,
    pages: list[str],
    width: int = 1400,
    height: int = 4000,
    settle_seconds: float = 45.0,
) -> list[PageReport]:
    """Load each page of a built site and report its console errors (console.error, uncaught
    exceptions, failed requests), the error boxes Evidence draws, and how much of each chart's
    canvas is painted."""
    reports = []
    with tab(site_dir, width, height) as browser_tab:
        for page in pages:
            data = browser_tab.open(page, settle_seconds)
            reports.append(PageReport(page, list(browser_tab.errors), data))
    return reports
