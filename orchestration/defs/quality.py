"""GX-backed asset checks: one factory turns every suite in ``expectations/suites`` into a check.

dagster-ge does not support Great Expectations 1.x, so checks call GX directly through
``expectations.runner``. A suite's check is attached to the asset it ``GUARDS``; suites that
read ``marts.dq_findings`` also wait for it. Row-level truthfulness rules warn (findings are
data: the run goes on and the metrics leave the flagged records out); a ``BLOCKING`` suite
fails with ERROR severity and stops what is downstream of its asset from publishing (stale U8
data keeps yesterday's BI site in place instead of a forecast page on old revenue). Every
check refreshes GX's HTML Data Docs next to the warehouse (``data_docs/``).
"""

import dagster as dg
from dagster import AssetCheckExecutionContext

from expectations import runner
from orchestration.resources import SalesopsConfig

FINDINGS = dg.AssetKey(["dq_findings"])


def data_docs_dir(cfg):
    return cfg.work_dir / "data_docs"


def build_gx_check(name: str) -> dg.AssetChecksDefinition:
    module = runner.suite_module(name)
    guards = dg.AssetKey([module.GUARDS])
    blocking = bool(getattr(module, "BLOCKING", False))
    reads_findings = "{dq_findings}" in getattr(module, "QUERY", "") and guards != FINDINGS

    @dg.asset_check(
        asset=guards,
        name=f"gx_{name}",
        blocking=blocking,
        additional_deps=[FINDINGS] if reads_findings else None,
        pool="duckdb_write",
        description=(module.__doc__ or "").strip().split("\n\n")[0]
        + f" (Great Expectations suite expectations/suites/{name}.py)",
    )
    def _check(context: AssetCheckExecutionContext, salesops: SalesopsConfig):
        cfg = salesops.load()
        summary = runner.validate(name, cfg.warehouse, as_of=cfg.as_of, docs_dir=data_docs_dir(cfg))
        for line in summary.lines():
            context.log.warning(f"{name}: {line}")
        return dg.AssetCheckResult(
            passed=summary.success,
            severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "rows": summary.rows,
                "expectations": summary.evaluated,
                "failed": summary.failed,
                "failures": dg.MetadataValue.md(
                    "\n".join(f"- {line}" for line in summary.lines()) or "none"
                ),
                "data_docs": dg.MetadataValue.path(str(runner.docs_index(data_docs_dir(cfg)))),
            },
        )

    return _check


gx_checks = [build_gx_check(name) for name in runner.suite_names()]

defs = dg.Definitions(asset_checks=gx_checks)
