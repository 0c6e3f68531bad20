"""GX-backed asset checks: every suite in ``expectations/suites`` is a check, and one op runs
the selected ones together (one GX context, one Data Docs build per run).

dagster-ge does not support Great Expectations 1.x, so the op calls GX directly through
``expectations.runner``. A suite's check is attached to the asset it ``GUARDS`` and also waits
for every other model it reads (``{model}`` in its ``QUERY``, or its ``READS``). Row-level
truthfulness rules warn (findings are data: the run goes on and the metrics leave the flagged
records out); a ``BLOCKING`` suite fails with ERROR severity and stops what is downstream of its
asset from publishing (stale U8 data keeps yesterday's BI site in place instead of a forecast
page on old revenue). On the Spark engine the same suites run on Spark DataFrames (GX's Spark
datasource). Each run refreshes GX's HTML Data Docs next to the warehouse (``data_docs/``).

The row suites read what changed since the last check (and every flagged record); all history
every ``checks_full_every_days`` (run configuration, a week by default) and on a full refresh.
The times of the last check and the last full one are kept beside the Data Docs. A run whose
dbt step built nothing (nothing new since the last build) runs no suite.
"""

import json
import re
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
from dagster import AssetCheckExecutionContext

from expectations import runner
from orchestration.buildplan import DECISION_STATE
from orchestration.defs.transform import FULL_REFRESH_TAG
from orchestration.resources import SalesopsConfig
from salesops import runstate


def data_docs_dir(cfg):
    return cfg.work_dir / "data_docs"


def checked_state(cfg) -> dict[str, dict[str, datetime]]:
    """Per suite: when it last ran (``checked_at``) and last read all history (``full_at``)."""
    path = data_docs_dir(cfg) / "checked.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            suite: {k: datetime.fromisoformat(v) for k, v in times.items()}
            for suite, times in data.items()
        }
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def save_checked_state(cfg, state: dict[str, dict[str, datetime]]) -> None:
    path = data_docs_dir(cfg) / "checked.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({s: {k: v.isoformat() for k, v in t.items()} for s, t in state.items()})
    path.with_suffix(".tmp").write_text(text, encoding="utf-8")
    path.with_suffix(".tmp").replace(path)


def changed_after(
    cfg, state: dict[str, dict[str, datetime]], names: list[str], now: datetime, full: bool
) -> datetime | None:
    """The earliest last check of the suites to run, when they may read only what changed
    since; None (all history) on a full refresh, for a suite never checked, or when a suite's
    last full check is ``checks_full_every_days`` old."""
    due = now - timedelta(days=cfg.checks_full_every_days)
    times = [state.get(name, {}) for name in names]
    if full or not times or any("checked_at" not in t or "full_at" not in t for t in times):
        return None
    if any(t["full_at"] <= due for t in times):
        return None
    return min(t["checked_at"] for t in times)


def unbuilt(cfg, run_id: str) -> str | None:
    """Why this run's dbt step built nothing (nothing new since the last build), else None."""
    con = duckdb.connect(str(cfg.warehouse))
    try:
        decision = runstate.read(con, DECISION_STATE) or {}
    finally:
        con.close()
    if decision.get("run_id") == run_id and not decision.get("built", True):
        return decision.get("note") or "nothing new since the last build"
    return None


def check_spec(name: str) -> dg.AssetCheckSpec:
    module = runner.suite_module(name)
    guards = dg.AssetKey([module.GUARDS])
    # a suite waits for every model its QUERY reads (or it lists in READS) besides its own
    reads = set(re.findall(r"\{(\w+)\}", getattr(module, "QUERY", ""))) - {"as_of_end"}
    reads |= set(getattr(module, "READS", ()))
    deps = [dg.AssetKey([m]) for m in sorted(reads - {module.GUARDS})]
    return dg.AssetCheckSpec(
        name=f"gx_{name}",
        asset=guards,
        blocking=bool(getattr(module, "BLOCKING", False)),
        additional_deps=deps or None,
        description=(module.__doc__ or "").strip().split("\n\n")[0]
        + f" (Great Expectations suite expectations/suites/{name}.py)",
    )


SPECS = {f"gx_{name}": (name, check_spec(name)) for name in runner.suite_names()}


@dg.multi_asset_check(
    specs=[spec for _, spec in SPECS.values()],
    name="gx_checks",
    can_subset=True,
    pool="duckdb_write",
)
def gx_checks(context: AssetCheckExecutionContext, salesops: SalesopsConfig):
    cfg = salesops.load()
    unchanged = unbuilt(cfg, context.run.run_id)
    if unchanged:
        # the checks' last results stand for the same data
        context.log.info(f"checks not run: {unchanged}")
        return
    selected = {key.name: key for key in context.selected_asset_check_keys}
    names = [SPECS[check][0] for check in sorted(selected)]
    docs = data_docs_dir(cfg)
    error, warn = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
    now = datetime.now(UTC)
    state = checked_state(cfg)
    full = context.run.tags.get(FULL_REFRESH_TAG) == "true"
    after = changed_after(cfg, state, names, now, full)
    context.log.info(
        "checking all history" if after is None else f"checking what changed since {after}"
    )
    summaries = runner.validate_all(
        cfg.warehouse,
        as_of=cfg.as_of,
        docs_dir=docs,
        names=names,
        changed_after=after,
        timezone=cfg.timezone,
        # on the Spark engine the suites validate Spark DataFrames (GX's Spark datasource)
        spark_dir=cfg.spark_dir if cfg.engine == "spark" else None,
    )
    for name in names:
        state.setdefault(name, {})["checked_at"] = now
        if after is None:
            state[name]["full_at"] = now
    save_checked_state(cfg, state)
    for summary in summaries:
        for line in summary.lines():
            context.log.warning(f"{summary.suite}: {line}")
        key = selected[f"gx_{summary.suite}"]
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=summary.success,
            severity=error if summary.blocking else warn,
            metadata={
                "rows": summary.rows,
                "history": "all" if after is None else f"changed since {after:%Y-%m-%d %H:%M}",
                "expectations": summary.evaluated,
                "failed": summary.failed,
                "failures": dg.MetadataValue.md(
                    "\n".join(f"- {line}" for line in summary.lines()) or "none"
                ),
                "data_docs": dg.MetadataValue.path(str(runner.docs_index(docs))),
            },
        )


defs = dg.Definitions(asset_checks=[gx_checks])
