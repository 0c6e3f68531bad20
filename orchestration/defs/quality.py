"""GX-backed asset checks: every suite in ``expectations/suites`` is a check, and one op runs
the selected ones together (one GX context, one Data Docs build per run).

dagster-ge does not support Great Expectations 1.x, so the op calls GX directly through
``expectations.runner``. A suite's check is attached to the asset it ``GUARDS`` and also waits
for every other model it reads (``{model}`` in its ``QUERY``, or its ``READS``). Row-level
truthfulness rules warn (findings are data: the run goes on and the metrics leave the flagged
records out); a ``BLOCKING`` suite fails with ERROR severity and stops what is downstream of its
asset from publishing (stale U8 data keeps yesterday's BI site in place instead of a forecast
page on old revenue). Each run refreshes GX's HTML Data Docs next to the warehouse
(``data_docs/``).
"""

import re

import dagster as dg
from dagster import AssetCheckExecutionContext

from expectations import runner
from orchestration.resources import SalesopsConfig


def data_docs_dir(cfg):
    return cfg.work_dir / "data_docs"


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
    selected = {key.name: key for key in context.selected_asset_check_keys}
    names = [SPECS[check][0] for check in sorted(selected)]
    docs = data_docs_dir(cfg)
    error, warn = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
    for summary in runner.validate_all(cfg.warehouse, as_of=cfg.as_of, docs_dir=docs, names=names):
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
                "expectations": summary.evaluated,
                "failed": summary.failed,
                "failures": dg.MetadataValue.md(
                    "\n".join(f"- {line}" for line in summary.lines()) or "none"
                ),
                "data_docs": dg.MetadataValue.path(str(runner.docs_index(docs))),
            },
        )


defs = dg.Definitions(asset_checks=[gx_checks])
