"""``salesops``: the data engineer's command line.

salesops demo                      generate the demo org, run everything, build the BI site
salesops run --config FILE         run the whole pipeline against the sources FILE names
salesops check --config FILE       reach every configured source, try its credentials and
                                   compare it with its contract, loading nothing
salesops backfill --config FILE --from DAY --to DAY
                                   recompute the daily marts for those days
salesops generate --out DIR        write a demo org in every source's real shape
salesops generate --out DIR --append-day
                                   move that org's sources on by one day
salesops serve-config --config FILE
                                   nginx configuration mapping each login to its site
salesops dev                       dagster dev on the demo org, its API stand-ins served meanwhile
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from salesops import config as salesops_config

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEMO_DIR = ROOT / "build" / "demo"
DEMO_SITE_URL = "http://127.0.0.1:4173/"  # where `make bi-serve` serves the demo's site


def echo(message: str) -> None:
    # the line and its end in one write: what a step writes to stderr meanwhile (a library's
    # warning) cannot land inside it when both go to one pipe
    sys.stdout.write(f"{message}\n")
    sys.stdout.flush()


def today(timezone: str = salesops_config.DEFAULT_TIMEZONE) -> date:
    """Today in the business time zone (the demo org lives in the default one)."""
    return datetime.now(ZoneInfo(timezone)).date()


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


# -- generate -------------------------------------------------------------------------------------
def cmd_generate(args: argparse.Namespace) -> int:
    from devkit.demo.generate import append_day, generate

    started = time.monotonic()
    if args.append_day:
        echo(f"appending a day to the org in {args.out}")
        try:
            summary = append_day(Path(args.out), progress=echo)
        except ValueError as exc:
            echo(f"salesops: {exc}")
            return 2
        echo(f"sources now reach {summary['through']} (org ends {summary['as_of']})")
    else:
        as_of = args.as_of or today()
        through = f", sources through {args.through}" if args.through else ""
        echo(
            f"generating scale {args.scale} org (seed {args.seed}, as of {as_of}{through}) "
            f"into {args.out}"
        )
        try:
            summary = generate(
                Path(args.out),
                seed=args.seed,
                scale=args.scale,
                as_of=as_of,
                progress=echo,
                through=args.through,
                anomaly_rate=args.anomaly_rate,
                variants=tuple(args.variant),
            )
        except ValueError as exc:
            echo(f"salesops: {exc}")
            return 2
    echo(f"done in {time.monotonic() - started:.1f}s")
    for source, counts in (summary.get("counts") or {}).items():
        echo(f"  {source}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return 0


# -- run ------------------------------------------------------------------------------------------
def _report(outcome, cfg: salesops_config.Config) -> int:
    status = {"succeeded": "succeeded", "partial": "PARTIAL", "failed": "FAILED"}[outcome.status]
    failed = ", ".join(outcome.failed_sources)
    echo(
        f"run {outcome.run_id[:8]} {status} in {outcome.seconds:.0f}s: "
        + (f"source {failed} failed to load, the rest built; " if failed else "")
        + f"{sum(v == 'ok' for v in outcome.steps.values())}/{len(outcome.steps)} steps ok"
    )
    for source, error in outcome.failed_sources.items():
        echo(
            f"  {source} failed: {error} (its raw tables stay as of its last good load; what "
            "reads them is stale: ops.source_loads, data-quality page)"
        )
    for run_id in outcome.recovered_runs:
        echo(f"  run {run_id} had been killed: marked failed, its pool slots freed")
    said = {f"ingest_{src}: {error}" for src, error in outcome.failed_sources.items()}
    for err in outcome.errors:
        if err not in said:
            echo(f"  error in {err}")
    if outcome.failed_checks:
        echo(f"  {len(outcome.failed_checks)} checks failed: {', '.join(outcome.failed_checks)}")
    if outcome.warned_checks:
        echo(
            f"  {len(outcome.warned_checks)} checks found untruthful records (marts.dq_findings): "
            + ", ".join(outcome.warned_checks)
        )
    if outcome.unchanged_sources:
        quiet = ", ".join(outcome.unchanged_sources)
        echo(f"  not loaded, nothing new since their last load: {quiet}")
    if outcome.build_note:
        echo(f"  dbt: {outcome.build_note}")
    if outcome.output_log is not None:
        echo(f"  step output (dbt's log lines among it): {outcome.output_log}")
    _report_contract(cfg)
    echo(f"  data docs: {cfg.work_dir / 'data_docs' / 'gx/uncommitted/data_docs/local_site'}")
    echo(f"  warehouse: {cfg.warehouse}")
    echo(f"  BI file:   {cfg.bi_warehouse}")
    return {"succeeded": 0, "failed": 1, "partial": 3}[outcome.status]


def _report_contract(cfg: salesops_config.Config) -> None:
    """What the sources lacked against their contracts at their last load (what degrades)."""
    from ingest.contracts import UNKNOWN, recorded

    findings = recorded(cfg.warehouse)
    gaps = [f for f in findings if f.status != UNKNOWN]
    if not findings:
        return
    unknown = len(findings) - len(gaps)
    echo(
        f"  source contracts: {len(gaps)} gaps, {unknown} unknown columns or files kept "
        "(ops.source_contract, data-quality page)"
    )
    for f in gaps:
        echo(f"    {f.message}")


def cmd_run(args: argparse.Namespace) -> int:
    from orchestration import shortcut
    from orchestration.runs import JOB_NAME

    cfg = salesops_config.load(args.config)
    echo(f"running {JOB_NAME} with {cfg.path} (sources: {', '.join(cfg.sources)})")
    exclude_groups = ("bi",) if args.no_bi else ()
    # nothing new: over before the pipeline's definitions are imported (seconds of a fresh run)
    asked = None if args.full_refresh else shortcut.ask(cfg.path, exclude_groups, echo)
    if asked is not None and asked.outcome is not None:
        return _report(asked.outcome, cfg)
    from orchestration import runner

    outcome = runner.run(
        cfg.path,
        echo=echo,
        full_refresh=args.full_refresh,
        exclude_groups=exclude_groups,
        verbose=args.verbose,
        asked=asked,
    )
    return _report(outcome, cfg)


def cmd_backfill(args: argparse.Namespace) -> int:
    from orchestration import runner

    if args.last < args.first:
        echo(f"salesops: --to {args.last} is before --from {args.first}")
        return 2
    cfg = salesops_config.load(args.config)
    echo(f"backfilling {args.first} .. {args.last} with {cfg.path}")
    outcome = runner.backfill(
        cfg.path, args.first.isoformat(), args.last.isoformat(), echo=echo, verbose=args.verbose
    )
    return _report(outcome, cfg)


# -- check ----------------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    """Reachability, credentials and contract findings of every configured source; loads
    nothing. Exit 1 when a source is unreachable, refuses the credentials or lacks a required
    column or object."""
    from ingest.contracts import MISSING_REQUIRED
    from ingest.preflight import check_source

    cfg = salesops_config.load(args.config)
    echo(f"checking the sources of {cfg.path} (nothing is loaded)")
    failed = []
    for src, section in cfg.sources.items():
        report = check_source(src, section)
        echo(f"{src}: {report.where} — {'ok' if report.ok else 'NOT READY'}")
        for probe in report.probes:
            echo(f"  {'ok  ' if probe.ok else 'FAIL'} {probe.what}: {probe.detail}")
        for f in report.findings:
            mark = "FAIL" if f.status == MISSING_REQUIRED else "note"
            echo(f"  {mark} {f.message}")
        if not report.ok:
            failed.append(src)
    if failed:
        echo(f"not ready: {', '.join(failed)}")
        return 1
    echo("every source is ready")
    return 0


# -- demo -----------------------------------------------------------------------------------------
def _demo_assets(groups: tuple[str, ...], keep: tuple[str, ...]) -> list:
    """The assets of ``groups`` but those named in ``keep`` (already made, and unchanged)."""
    import dagster as dg

    from orchestration.definitions import defs

    selection = dg.AssetSelection.groups(*groups) - dg.AssetSelection.assets(*keep)
    return sorted(selection.resolve(defs.resolve_asset_graph()), key=lambda k: k.to_user_string())


def cmd_demo(args: argparse.Namespace) -> int:
    from devkit.demo import warm
    from devkit.demo.generate import generate
    from devkit.demo.serve import served_sources
    from orchestration import runner
    from salesops import bi

    # without a browser everything but the printed morning report still runs
    no_browser = None if args.no_bi else bi.chromium_missing()
    out = Path(args.out).resolve()
    src_dir = out / "sources"
    as_of = args.as_of or today()
    regions = not (args.no_bi or args.no_regions)
    started = time.monotonic()
    # a second demo of the same org and code keeps what it made the first time
    keys = warm.stage_keys(seed=args.seed, scale=args.scale, as_of=str(as_of), regions=regions)
    stamps = warm.Stamps(out / ".demo_stages.json")
    if args.force:
        stamps.forget(list(warm.STAGES))
    pdf = out / "reports" / f"morning_report_{as_of}.pdf"
    made = {
        "generate": (src_dir / "truth").is_dir(),
        "pipeline": (out / "warehouse.duckdb").is_file()
        and (out / "warehouse_bi.duckdb").is_file(),
        "sites": (out / "site" / "index.html").is_file(),
        "report": pdf.is_file(),
    }

    def fresh(stage: str) -> bool:
        return made[stage] and stamps.fresh(stage, keys)

    # each key covers the stages before it: a kept pipeline means the same org and code
    kept = ["generate"] if fresh("generate") else []
    if kept and fresh("pipeline"):
        kept += ["pipeline", *(s for s in ("sites", "report") if fresh(s))]
    wanted = ["sites", "report"] if not args.no_bi else []
    if no_browser:
        wanted.remove("report")
    stamps.forget([s for s in warm.STAGES if s not in kept])

    if "generate" in kept:
        echo(f"1/3 the demo org (scale {args.scale}, seed {args.seed}, as of {as_of}) is unchanged")
    else:
        echo(f"1/3 generating the demo org (scale {args.scale}, seed {args.seed}, as of {as_of})")
        t0 = time.monotonic()
        generate(src_dir, seed=args.seed, scale=args.scale, as_of=as_of, progress=echo)
        stamps.record(["generate"], keys)
        echo(f"  generated in {time.monotonic() - t0:.1f}s")
    outcome = None
    with served_sources(src_dir, as_of) as sections:
        cfg = salesops_config.from_dict(
            {
                "warehouse": {
                    "path": str(out / "warehouse.duckdb"),
                    "bi_path": str(out / "warehouse_bi.duckdb"),
                },
                "as_of": as_of.isoformat(),
                "sources": sections,
                **(
                    {
                        "bi": {
                            "out_dir": str(out / "site"),
                            "regions": regions,
                            "regions_dir": str(out / "site_regions"),
                            "site_url": DEMO_SITE_URL,
                        }
                    }
                    if not args.no_bi
                    else {}
                ),
            },
            base=out,
        )
        cfg_path = out / "salesops.yml"
        cfg_path.write_text(salesops_config.dump(cfg), encoding="utf-8")
        todo = [s for s in ("pipeline", *wanted) if s not in kept]
        if not todo:
            echo("2/3 nothing changed since the last demo: warehouse, sites and report kept")
            echo("    (rebuild everything: make demo DEMO_ARGS=--force)")
        elif "pipeline" in todo:
            echo(f"2/3 running the pipeline with {cfg_path}")
            skip = ("bi",) if args.no_bi else ("report",) if no_browser else ()
            outcome = runner.run(cfg_path, exclude_groups=skip, echo=echo, verbose=args.verbose)
        else:
            echo(f"2/3 the warehouse is unchanged; building {' and '.join(todo)} with {cfg_path}")
            groups = tuple(g for s, g in (("sites", "bi"), ("report", "report")) if s in todo)
            assets = _demo_assets(groups, keep=("warehouse_bi",))
            outcome = runner.run(cfg_path, asset_keys=assets, echo=echo, verbose=args.verbose)
    if outcome is not None and outcome.success:
        stamps.record(todo, keys)
    echo("3/3 summary")
    code = _report(outcome, cfg) if outcome is not None else 0
    if not args.no_bi:
        echo(f"  BI site:   {out / 'site'} (make bi-serve, then open {DEMO_SITE_URL})")
        if regions:
            echo(f"  regional sites (each region's rows only): {out / 'site_regions'}/<region>")
        if pdf.is_file():
            echo(f"  morning report: {pdf}")
    if no_browser:
        echo(f"skipped: the morning report PDF, as {no_browser}; then run `make demo` again")
    echo(f"demo finished in {time.monotonic() - started:.0f}s")
    return code


# -- serve-config ---------------------------------------------------------------------------------
def cmd_serve_config(args: argparse.Namespace) -> int:
    from salesops import serving

    cfg = salesops_config.load(args.config)
    if args.standalone:
        conf = serving.write_standalone(cfg, Path(args.standalone))
        echo(f"nginx configuration in {conf}")
        echo(f"run it: nginx -p {conf.parent} -c {conf} -g 'daemon off;'")
        return 0
    text = serving.nginx_server(cfg)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        echo(f"nginx server written to {args.out} (check and reload: nginx -t && nginx -s reload)")
    else:
        sys.stdout.write(text)
    return 0


# -- dev ------------------------------------------------------------------------------------------
def cmd_dev(args: argparse.Namespace) -> int:
    """``dagster dev`` on the demo org, with its API stand-ins serving it meanwhile."""
    import subprocess

    from devkit.demo.serve import served_sources

    out = Path(args.out).resolve()
    cfg_path = out / "salesops.yml"
    if not cfg_path.exists():
        echo(f"no demo in {out}: run `make demo` first")
        return 2
    cfg = salesops_config.load(cfg_path)
    as_of = cfg.as_of or today(cfg.timezone)
    with served_sources(out / "sources", as_of) as sections:
        dev_cfg = salesops_config.from_dict(
            {
                "warehouse": {"path": str(cfg.warehouse), "bi_path": str(cfg.bi_warehouse)},
                "as_of": as_of.isoformat(),
                "sources": sections,
                "bi": {
                    "out_dir": str(cfg.bi_out_dir),
                    "regions": cfg.bi_regions,
                    "regions_dir": str(cfg.regions_out_dir),
                },
            },
            base=out,
        )
        dev_path = out / "salesops.dev.yml"
        dev_path.write_text(salesops_config.dump(dev_cfg), encoding="utf-8")
        echo(f"WeCom stand-in on {sections['wecom']['base_url']}; configuration {dev_path}")
        env = dict(os.environ, SALESOPS_CONFIG=str(dev_path))
        cmd = [
            str(Path(sys.executable).with_name("dagster")),
            "dev",
            "-m",
            "orchestration.definitions",
            *args.dagster_args,
        ]
        try:
            return subprocess.call(cmd, env=env, cwd=ROOT)
        except KeyboardInterrupt:
            return 0


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    """--verbose, for the commands that run the pipeline (runner.run's ``verbose``)."""
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="print what the steps print (every dbt log line) instead of keeping it in "
        "<work_dir>/logs",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salesops", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write a demo sales org in every source's real shape")
    p.add_argument("--out", required=True, help="folder to write (created)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", default="S", help="XS, S (default), M or L")
    p.add_argument("--as-of", type=_parse_date, help="last day of the org (default: today)")
    p.add_argument(
        "--through",
        type=_parse_date,
        help="write the sources as they stood at the end of this day (default: --as-of)",
    )
    p.add_argument(
        "--append-day",
        action="store_true",
        help="move the org already in --out on by one day (see --through)",
    )
    p.add_argument(
        "--anomaly-rate",
        type=float,
        default=1.0,
        help="scale the planted anomalies: 0 a clean org, 2 twice the usual (default 1)",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        help="reshape the sources as a real export differs (repeatable; devkit.demo.variants)",
    )
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("run", help="run the whole pipeline against a config file's sources")
    p.add_argument("--config", required=True, help="YAML run configuration")
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental models from all history (after a keyword-sheet change)",
    )
    p.add_argument(
        "--no-bi", action="store_true", help="skip publishing, the site build and the report"
    )
    _add_verbose(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "check", help="check every configured source (reachable, credentials, contract)"
    )
    p.add_argument("--config", required=True, help="YAML run configuration")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("backfill", help="recompute the daily marts for a range of days")
    p.add_argument("--config", required=True, help="YAML run configuration")
    p.add_argument("--from", dest="first", type=_parse_date, required=True, help="first day")
    p.add_argument("--to", dest="last", type=_parse_date, required=True, help="last day")
    _add_verbose(p)
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("demo", help="generate the demo org, run everything, build the BI site")
    p.add_argument("--out", default=str(DEFAULT_DEMO_DIR))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", default="S")
    p.add_argument("--as-of", type=_parse_date)
    p.add_argument("--no-bi", action="store_true", help="skip publishing and the site build")
    p.add_argument("--no-regions", action="store_true", help="build the executive site only")
    p.add_argument("--force", action="store_true", help="rebuild what an earlier demo made")
    _add_verbose(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "serve-config", help="nginx configuration: each login its own site (see salesops.serving)"
    )
    p.add_argument("--config", required=True, help="YAML run configuration with a serve section")
    p.add_argument(
        "--out", help="write the server part here (e.g. /etc/nginx/conf.d/salesops.conf)"
    )
    p.add_argument(
        "--standalone", metavar="DIR", help="write a whole nginx configuration into DIR instead"
    )
    p.set_defaults(func=cmd_serve_config)

    p = sub.add_parser("dev", help="dagster dev on the demo org (stand-ins served meanwhile)")
    p.add_argument("--out", default=str(DEFAULT_DEMO_DIR))
    p.add_argument("dagster_args", nargs="*", help="passed on to `dagster dev`")
    p.set_defaults(func=cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    # a crash in native code (DuckDB, Arrow, the interpreter) prints every thread's Python stack
    # to stderr rather than nothing but the shell's "Segmentation fault"
    if not faulthandler.is_enabled():
        with contextlib.suppress(AttributeError, ValueError, OSError, RuntimeError):  # no stderr fd
            faulthandler.enable()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except salesops_config.ConfigError as exc:
        echo(f"salesops: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
