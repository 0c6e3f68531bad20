"""The whole pipeline at one scale, in one run: wall time, peak memory and rows per stage for a
full build and for the daily run that follows it, and the ratios that say where the cost goes.

1. Generate an org (its sources standing one day before its last day).
2. Full build on an empty warehouse: every source loaded (CRM export, WeCom through its
   stand-in, U8, sheets), dbt, checks. Wall time per Dagster step; peak RSS of the whole
   process tree (this process, dbt, npm) sampled during each stage; rows landed per source.
3. DuckDB reading the same source files directly (CSV, JSON lines; sqlite3 and openpyxl for
   U8 and the workbooks), in a fresh interpreter (``bench/direct_read.py``), to compare
   loaders with.
4. The heaviest dbt model of the full build against one hand-written DuckDB query computing
   the same result (``bench/handwritten/<model>.sql``, checked equal row for row).
5. ``append_day``, then the daily run on the same warehouse: the cost of one new day; then
   the same run again with nothing new: the fixed cost of a run. These run in the benchmark's
   process, which has imported the pipeline for the full build, so each step is timed apart.
6. ``append_day`` again, then the daily run and the run with nothing new each as a schedule
   starts them: a fresh ``salesops run`` process (Python, the pipeline's imports, the
   Dagster instance), timed whole.
7. The BI sites built from the published files: the executive site (the page shell built by
   Evidence, then its data), then a site per region on that shell (``--no-bi`` skips them;
   ``--bi-only`` builds only them, on the warehouse a run left in ``work_dir``).

Usage: ``python bench/bench_pipeline.py [scale] [work_dir] [--no-bi | --bi-only]``; prints a
Markdown summary and writes ``<work_dir>/pipeline_<scale>.json`` (``bench/report.py``
tabulates several scales).
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import direct_read
import duckdb
from direct_read import timed

from devkit.demo.generate import SCALES
from devkit.demo.serve import served_sources_apart
from ingest.pipelines import raw_row_counts
from salesops import config as salesops_config

AS_OF = date(2026, 11, 20)
# the org is generated this many days short of AS_OF: a day for the daily run in this process,
# one for the daily run in a fresh process
DAYS_SHORT = 2
ROOT = Path(__file__).resolve().parents[1]
HANDWRITTEN = ROOT / "bench" / "handwritten"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def stage_of(step: str) -> str:
    if step.startswith("ingest_"):
        return f"load {step.removeprefix('ingest_')}"
    if step.startswith("dbt_models"):
        return "dbt"
    return "checks"


def generator(src: Path, *args: str) -> None:
    """The demo generator in a process of its own: its memory is not the pipeline's."""
    cmd = [sys.executable, "-m", "orchestration.cli", "generate", "--out", str(src), "--seed", "7"]
    subprocess.run([*cmd, *args], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)


# devkit/demo modules that serve an org but do not shape it: editing them keeps the cached orgs
NOT_GENERATOR = frozenset({"serve.py"})


def org_key(scale: str) -> str:
    """What a generated org depends on: scale, seed, days, and the generator's code."""
    digest = hashlib.sha256(f"{scale}|7|{AS_OF}|{DAYS_SHORT}".encode())
    for path in sorted((ROOT / "devkit" / "demo").rglob("*.py")):
        if path.name in NOT_GENERATOR:
            continue
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def generate_org(scale: str, src: Path, cache: Path) -> tuple[float, bool]:
    """The org in ``src``, its sources DAYS_SHORT days short of the last: copied from ``cache``
    when an earlier bench generated it with the same key (scale M takes minutes to generate),
    else generated and kept there. Returns the seconds generating it took (then or now) and
    whether it was generated now."""
    stamp = cache / ".org_key"
    key = org_key(scale)
    made = not (stamp.is_file() and stamp.read_text(encoding="utf-8").split()[0] == key)
    if made:
        shutil.rmtree(cache, ignore_errors=True)
        through = AS_OF - timedelta(days=DAYS_SHORT)
        t = time.perf_counter()
        generator(cache, "--scale", scale, "--as-of", str(AS_OF), "--through", str(through))
        stamp.write_text(f"{key} {time.perf_counter() - t:.1f}", encoding="utf-8")
    seconds = float(stamp.read_text(encoding="utf-8").split()[1])
    shutil.copytree(cache, src, ignore=shutil.ignore_patterns(".org_key"))
    return seconds, made


# -- memory -------------------------------------------------------------------------------------
def tree_rss_bytes(root: int, apart: frozenset[int] = frozenset()) -> int:
    """Resident memory of ``root`` and every process below it (dbt, npm, Chromium), leaving
    out the trees of the processes in ``apart``."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, todo = {root}, [root]
    while todo:
        pid = todo.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree and child not in apart:
                tree.add(child)
                todo.append(child)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                total += int(fh.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
    return total


class RssSampler:
    """Samples the process tree's RSS a few times a second and keeps the peak per stage
    (``stage`` is set by whoever knows what is running) and every sample with its time, for
    stages known only afterwards (``take_over``). The trees of the processes in ``apart`` (the
    vendors' stand-ins) are left out, their peak kept as ``apart_peak``."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval, self.stage = interval, "other"
        self.peaks: dict[str, int] = {}
        self.samples: list[tuple[float, int]] = []  # (time.time(), bytes)
        self.apart: frozenset[int] = frozenset()
        self.apart_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pid = os.getpid()
        while not self._stop.wait(self.interval):
            apart = self.apart
            rss = tree_rss_bytes(pid, apart)
            self.samples.append((time.time(), rss))
            self.peaks[self.stage] = max(self.peaks.get(self.stage, 0), rss)
            for other in apart:
                self.apart_peak = max(self.apart_peak, tree_rss_bytes(other))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def take(self) -> dict[str, float]:
        """The peaks so far in MB, and start afresh."""
        out = {k: v / 1e6 for k, v in self.peaks.items()}
        self.peaks, self.samples = {}, []
        return out

    def take_over(self, spans: dict[str, list[tuple[float, float]]]) -> dict[str, float]:
        """The peaks so far in MB per stage of ``spans`` (stage -> when each of its steps began
        and ended): the samples taken while one of its steps ran; for a step over between two
        samples, those two. What was sampled outside every step is "other". Starts afresh."""
        samples = sorted(self.samples)
        self.take()
        times = [t for t, _ in samples]
        out: dict[str, float] = {}
        inside: set[int] = set()
        for stage, intervals in spans.items():
            for began, ended in intervals:
                first, end = bisect.bisect_left(times, began), bisect.bisect_right(times, ended)
                hits = range(first, end) if first < end else range(max(first - 1, 0), end + 1)
                inside.update(range(first, end))
                for n in hits:
                    if n < len(samples):
                        out[stage] = max(out.get(stage, 0.0), samples[n][1] / 1e6)
        rest = [rss for n, (_, rss) in enumerate(samples) if n not in inside]
        if rest:
            out["other"] = max(rest) / 1e6
        return out


# -- a run ----------------------------------------------------------------------------------------
STEP_LINE = re.compile(r"\]\s+(start|done |FAIL )\s+(\S+)")


@contextlib.contextmanager
def served_config(src: Path, root: Path) -> Iterator[tuple[Path, int]]:
    """The org's sources served (the WeCom stand-in plays WeCom's servers, in a process of its
    own, outside the measured tree) and a run configuration pointing at them in
    ``root/salesops.yml``; yields its path and the stand-ins' process id."""
    with served_sources_apart(src, AS_OF, crm="export") as (sections, standin):
        cfg = salesops_config.from_dict(
            {
                "warehouse": {"path": str(root / "warehouse.duckdb")},
                "as_of": AS_OF.isoformat(),
                "sources": sections,
            },
            base=root,
        )
        path = root / "salesops.yml"
        path.write_text(salesops_config.dump(cfg), encoding="utf-8")
        yield path, standin


def run_once(src: Path, root: Path, label: str, sampler: RssSampler) -> dict:
    from orchestration import runner

    with served_config(src, root) as (path, standin):
        sampler.apart, sampler.apart_peak = frozenset({standin}), 0
        before = raw_rows(root / "warehouse.duckdb")
        started = time.perf_counter()
        outcome = runner.run(path, exclude_groups=("bi",), echo=lambda _line: None)
        seconds = time.perf_counter() - started
        sampler.apart = frozenset()
    if not outcome.success:
        raise SystemExit(f"{label} run failed: {outcome.errors}")
    stages: dict[str, float] = {}
    spans: dict[str, list[tuple[float, float]]] = {}
    for step, secs in outcome.step_seconds.items():
        stages[stage_of(step)] = stages.get(stage_of(step), 0.0) + secs
    for step, span in outcome.step_spans.items():
        spans.setdefault(stage_of(step), []).append(span)
    after = raw_rows(root / "warehouse.duckdb")
    landed = {
        src_name: sum(n for key, n in after.items() if key.startswith(f"raw_{src_name}."))
        - sum(n for key, n in before.items() if key.startswith(f"raw_{src_name}."))
        for src_name in ("crm", "wecom", "u8", "sheets")
    }
    return {
        "seconds": seconds,
        "stages": stages,
        "steps": outcome.step_seconds,
        "rows_landed": landed,
        "peak_rss_mb": sampler.take_over(spans),
        "standin_peak_rss_mb": sampler.apart_peak / 1e6,
        # the machine is shared: how busy it was (1-minute load average at the end)
        "load_average": os.getloadavg()[0],
    }


def run_fresh(src: Path, root: Path) -> dict:
    """A run as a schedule starts it: ``salesops run`` in a process of its own, timed whole
    (the interpreter, the pipeline's imports, the Dagster instance, the run); the stand-ins
    served as for ``run_once``. Returns its seconds and the rows it landed."""
    with served_config(src, root) as (path, _standin):
        before = raw_rows(root / "warehouse.duckdb")
        cmd = [sys.executable, "-m", "orchestration.cli", "run", "--config", str(path), "--no-bi"]
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"salesops run failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    after = raw_rows(root / "warehouse.duckdb")
    return {"seconds": seconds, "rows_landed": sum(after.values()) - sum(before.values())}


def raw_rows(warehouse: Path) -> dict[str, int]:
    if not warehouse.exists():
        return {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return raw_row_counts(con)
    finally:
        con.close()


# -- dbt against a hand-written query -------------------------------------------------------------
def dbt_runs(work_dir: Path, since: float) -> tuple[dict[str, float], dict[str, float]]:
    """Over the dbt invocations that finished after ``since``: the execution time per model,
    and dbt's own elapsed time with the number of models and tests it ran."""
    timings: dict[str, float] = {}
    build = {"elapsed_seconds": 0.0, "models": 0, "tests": 0}
    for results in (work_dir / ".dbt").glob("*/run_results.json"):
        if results.stat().st_mtime < since:
            continue
        data = json.loads(results.read_text(encoding="utf-8"))
        build["elapsed_seconds"] += data["elapsed_time"]
        for r in data["results"]:
            if r["unique_id"].startswith("model."):
                name = r["unique_id"].split(".")[-1]
                timings[name] = timings.get(name, 0.0) + r["execution_time"]
                build["models"] += 1
            else:
                build["tests"] += 1
    return timings, build


def handwritten(warehouse: Path, model: str, dbt_seconds: float, as_of: date) -> dict | None:
    """Time the hand-written query for ``model`` (if there is one) on the warehouse, read-only,
    and count the rows where it and the model differ (both ways)."""
    sql_file = HANDWRITTEN / f"{model}.sql"
    if not sql_file.is_file():
        return None
    sql = sql_file.read_text(encoding="utf-8").replace("{as_of}", as_of.isoformat())
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("create temp table handwritten as select 1")  # warm the connection
        query = f"create or replace temp table handwritten as {sql}"
        seconds = timed(lambda: con.execute(query))["seconds"]
        diff = con.execute(
            f"select (select count(*) from (select * from marts.{model} except all "
            f"select * from handwritten)) + (select count(*) from (select * from handwritten "
            f"except all select * from marts.{model}))"
        ).fetchone()[0]
        rows = con.execute("select count(*) from handwritten").fetchone()[0]
    finally:
        con.close()
    return {
        "model": model,
        "rows": rows,
        "dbt_seconds": dbt_seconds,
        "query_seconds": seconds,
        "ratio": dbt_seconds / seconds,
        "rows_differing": diff,
    }


# -- BI -------------------------------------------------------------------------------------------
def build_bi(root: Path, sampler: RssSampler) -> dict:
    """The executive site from scratch (the page shell built by Evidence, then its data), then
    one site per sales region on the same shell: time and peak RSS of each."""
    from salesops import bi, publish

    warehouse = root / "warehouse.duckdb"
    bi_file = root / "warehouse_bi.duckdb"
    shutil.rmtree(bi.SITE_DIR / bi.SHELL_DIR, ignore_errors=True)  # measure the Evidence build
    sampler.take()
    sampler.stage = "bi"
    t = time.perf_counter()
    publish.publish_bi(warehouse, bi_file)
    publish_seconds = time.perf_counter() - t
    t = time.perf_counter()
    site = bi.build_site(bi_file, root / "site")
    seconds = time.perf_counter() - t
    peak = sampler.take().get("bi", 0.0)
    regions = {}
    for region in publish.regions(warehouse):
        t = time.perf_counter()
        region_file = root / f"warehouse_bi.{region}.duckdb"
        publish.publish_bi(warehouse, region_file, region=region)
        bi.build_site(region_file, root / "site_regions" / region)
        regions[region] = time.perf_counter() - t
    region_peak = sampler.take().get("bi", 0.0)
    sampler.stage = "other"
    files = [p for p in site.rglob("*") if p.is_file()]
    pages = {}
    for html in site.rglob("index.html"):
        page = html.parent.relative_to(site).as_posix() or "/"
        pages[page] = sum(p.stat().st_size for p in html.parent.glob("*") if p.is_file())
    return {
        "publish_seconds": publish_seconds,
        "seconds": seconds,
        "site_bytes": sum(p.stat().st_size for p in files),
        "pages": len(pages),
        "page_bytes": pages,
        "peak_rss_mb": peak,
        # each region: publishing its BI file and building its site on the shell
        "region_seconds": regions,
        "regions_peak_rss_mb": region_peak,
    }


def bi_only(root: Path) -> None:
    """``--bi-only``: the BI builds alone, on the warehouse an earlier run left in ``root``."""
    with RssSampler() as sampler:
        b = build_bi(root, sampler)
    (root / "bi.json").write_text(json.dumps(b, indent=2), encoding="utf-8")
    regions = ", ".join(f"{r} {s:.1f}s" for r, s in b["region_seconds"].items())
    print(
        f"executive site {b['seconds']:.0f}s (publish {b['publish_seconds']:.0f}s), "
        f"{b['pages']} pages, {b['site_bytes'] / 1e6:.1f} MB, peak RSS {b['peak_rss_mb']:.0f} MB; "
        f"region sites: {regions}; peak RSS {b['regions_peak_rss_mb']:.0f} MB"
    )


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    scale = args[0] if args else "S"
    if scale not in SCALES:
        raise SystemExit(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    # absolute: the run configuration resolves relative paths against the work dir itself
    root = Path(args[1]) if len(args) > 1 else Path(tempfile.mkdtemp(prefix="bench-"))
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    if "--bi-only" in sys.argv:
        return bi_only(root)
    # a new folder is given the project's instance settings by the first run (runner.run)
    os.environ.setdefault("DAGSTER_HOME", str(root / "dagster_home"))
    src = root / "sources"
    # the org generated once per key is kept in <work_dir>/org and copied for each run
    for stale in (src, root / ".dlt_pipelines", root / ".dbt", root / "site"):
        shutil.rmtree(stale, ignore_errors=True)
    (root / "warehouse.duckdb").unlink(missing_ok=True)

    def say(line: str) -> None:
        print(line, flush=True)

    with RssSampler() as sampler:
        t = time.perf_counter()
        gen_seconds, generated = generate_org(scale, src, root / "org")
        how = "generated" if generated else "copied from the org an earlier bench generated"
        say(f"scale {scale}: {how} in {time.perf_counter() - t:.0f}s; full build ...")
        sampler.take()
        full_started = time.time()
        full = run_once(src, root, "full", sampler)
        rows = raw_rows(root / "warehouse.duckdb")
        say(f"  full build {full['seconds']:.0f}s; reading the same files directly ...")
        direct = direct_read.in_own_interpreter(src, root)
        timings, _ = dbt_runs(root, full_started)
        # the heaviest model that has a hand-written twin (fct_activities, the heaviest at M)
        twins = [m for m in timings if (HANDWRITTEN / f"{m}.sql").is_file()]
        twin = max(twins, key=timings.get) if twins else None
        warehouse = root / "warehouse.duckdb"
        versus = handwritten(warehouse, twin, timings[twin], AS_OF) if twin else None
        partial = root / f"partial_{scale}.json"  # what was measured, should a later run fail
        partial.write_text(json.dumps({"full": full, "direct": direct}, indent=2), encoding="utf-8")
        say("  appending a day ...")
        generator(src, "--append-day")
        sampler.take()
        daily_started = time.time()
        daily = run_once(src, root, "daily", sampler)
        # what the daily build spent, model by model (the report's "what the daily run spends")
        daily_timings, daily["dbt_build"] = dbt_runs(root, daily_started)
        daily["dbt_models"] = dict(sorted(daily_timings.items(), key=lambda kv: -kv[1]))
        # the incremental model after the day, against its twin computed from all history
        if twin:
            daily["handwritten"] = handwritten(warehouse, twin, daily_timings.get(twin, 0.0), AS_OF)
        say(f"  daily run {daily['seconds']:.0f}s; again with nothing new ...")
        partial.write_text(
            json.dumps({"full": full, "direct": direct, "daily": daily}, indent=2), encoding="utf-8"
        )
        rerun = run_once(src, root, "rerun", sampler)
        say(f"  rerun {rerun['seconds']:.1f}s; a day and a rerun in a fresh process ...")
        generator(src, "--append-day")
        fresh = {"daily": run_fresh(src, root), "rerun": run_fresh(src, root)}

        result = summarise(
            scale, gen_seconds, rows, full, daily, rerun, fresh, direct, timings, versus
        )
        out = root / f"pipeline_{scale}.json"
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
        if "--no-bi" not in sys.argv:
            say("  building the BI site ...")
            try:
                result["bi"] = build_bi(root, sampler)
            except Exception as exc:  # the numbers above stand; say why the site did not build
                result["bi"] = {"error": str(exc)[-2000:]}
            out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print_summary(result)


def summarise(scale, gen_seconds, rows, full, daily, rerun, fresh, direct, timings, versus) -> dict:
    heaviest = max(timings, key=timings.get) if timings else None
    loaders = {}
    for name, d in direct.items():
        landed = full["rows_landed"].get(name, 0)
        secs = full["stages"].get(f"load {name}", 0.0)
        loaders[name] = {
            "rows": landed,
            "seconds": secs,
            "rows_per_s": landed / secs if secs else 0.0,
            "direct_rows": d["rows"],
            "direct_seconds": d["seconds"],
            "direct_rows_per_s": d["rows"] / d["seconds"] if d["seconds"] else 0.0,
            # the loader's fixed cost: the same load again with nothing new
            "rerun_seconds": rerun["stages"].get(f"load {name}", 0.0),
        }
        loaders[name]["ratio"] = (
            loaders[name]["rows_per_s"] / loaders[name]["direct_rows_per_s"]
            if loaders[name]["direct_rows_per_s"]
            else 0.0
        )
    spec = SCALES[scale]
    result = {
        "scale": scale,
        "reps": spec.reps_per_region * 4,
        "months": spec.months,
        "machine": f"{os.cpu_count()} cores",
        "load_average": os.getloadavg(),
        "duckdb": f"{salesops_config.DEFAULT_DUCKDB_MEMORY_LIMIT} / "
        f"{salesops_config.DEFAULT_DUCKDB_THREADS}",
        "generate_seconds": gen_seconds,
        "raw_rows": sum(rows.values()),
        "raw_rows_by_table": dict(sorted(rows.items())),
        "new_day_rows": sum(daily["rows_landed"].values()),
        "full": full,
        "daily": daily,
        "daily_over_full": daily["seconds"] / full["seconds"],
        "rerun_over_full": rerun["seconds"] / full["seconds"],
        # the fixed cost of a run: the same run again with nothing new to load
        "rerun": rerun,
        "new_data_over_full": max(daily["seconds"] - rerun["seconds"], 0.0) / full["seconds"],
        # the next day and a rerun, each in a fresh `salesops run` process (``run_fresh``)
        "fresh": fresh,
        "fresh_daily_over_full": fresh["daily"]["seconds"] / full["seconds"],
        "fresh_rerun_over_full": fresh["rerun"]["seconds"] / full["seconds"],
        "loaders": loaders,
        "dbt_models": dict(sorted(timings.items(), key=lambda kv: -kv[1])),
        "heaviest_model": heaviest,
        "handwritten": versus,
        "bi": None,
        "peak_rss_mb": max(
            [*full["peak_rss_mb"].values(), *daily["peak_rss_mb"].values()], default=0.0
        ),
        "ru_maxrss_mb": {
            "self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        },
    }
    return result


def print_summary(r: dict) -> None:
    print(
        f"\nscale {r['scale']} ({r['reps']} reps, {r['months']} months): {r['raw_rows']:,} raw "
        f"rows; the appended day brought {r['new_day_rows']:,}"
    )
    print("| stage | full build (s) | daily run (s) | peak RSS full (MB) |")
    print("|---|---|---|---|")
    names = sorted(set(r["full"]["stages"]) | set(r["daily"]["stages"]))
    for name in names:
        print(
            f"| {name} | {r['full']['stages'].get(name, 0):.1f} | "
            f"{r['daily']['stages'].get(name, 0):.1f} | "
            f"{r['full']['peak_rss_mb'].get(name, 0):.0f} |"
        )
    print(f"| **whole run** | {r['full']['seconds']:.1f} | {r['daily']['seconds']:.1f} | |")
    print(
        f"daily ÷ full = {r['daily_over_full']:.3f}; a rerun with nothing new takes "
        f"{r['rerun']['seconds']:.1f}s, so the new day's data costs "
        f"{r['new_data_over_full']:.3f} of a full build"
    )
    for name, ld in r["loaders"].items():
        print(
            f"loader {name}: {ld['rows_per_s']:,.0f} rows/s vs direct read "
            f"{ld['direct_rows_per_s']:,.0f} rows/s = {ld['ratio']:.2f}; with nothing new "
            f"{ld.get('rerun_seconds', 0.0):.1f}s"
        )
    fresh = r.get("fresh")
    if fresh:
        print(
            f"in a fresh `salesops run` process, as a schedule starts it: a daily run "
            f"{fresh['daily']['seconds']:.1f}s ({r['fresh_daily_over_full']:.3f} of the full "
            f"build), a rerun with nothing new {fresh['rerun']['seconds']:.1f}s "
            f"({r['fresh_rerun_over_full']:.3f})"
        )
    print(f"heaviest dbt model: {r['heaviest_model']}")
    h = r["handwritten"]
    if h:
        print(
            f"dbt model {h['model']}: dbt {h['dbt_seconds']:.1f}s vs hand-written "
            f"{h['query_seconds']:.1f}s = {h['ratio']:.2f} ({h['rows_differing']} rows differ)"
        )
    d = r["daily"].get("handwritten")
    if d:
        print(
            f"after the daily run, incremental {d['model']}: dbt {d['dbt_seconds']:.1f}s vs the "
            f"hand-written query over all history {d['query_seconds']:.1f}s "
            f"({d['rows_differing']} rows differ)"
        )
    standin = max(r[k].get("standin_peak_rss_mb", 0.0) for k in ("full", "daily", "rerun"))
    print(
        f"peak RSS (process tree): {r['peak_rss_mb']:.0f} MB; "
        f"the WeCom stand-in apart: {standin:.0f} MB"
    )
    loads = ", ".join(f"{k} {r[k]['load_average']:.0f}" for k in ("full", "daily", "rerun"))
    print(f"load average at the end of each run (2 cores, shared): {loads}")
    b = r["bi"]
    if b and "error" in b:
        print(f"BI site did not build: {b['error'][-500:]}")
    elif b:
        print(
            f"BI site build {b['seconds']:.0f}s, {b['pages']} pages, "
            f"{b['site_bytes'] / 1e6:.1f} MB, peak RSS {b['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
