"""GX-backed asset checks: one factory turns every suite in ``expectations/suites`` into a check.

dagster-ge does not support Great Expectations 1.x, so checks call GX directly through
``expectations.runner``. A suite named ``<model>`` guards the asset ``[<model>]``; checks on
``rpt_`` models are blocking, so a failed check stops publication downstream.
"""

import dagster as dg
import duckdb
from dagster import AssetCheckExecutionContext

from expectations import runner
from orchestration.resources import SalesopsConfig


def _read_model(warehouse: str, model: str):
    con = duckdb.connect(warehouse, read_only=True)
    try:
        row = con.execute(
            "select table_schema from information_schema.tables where table_name = ? "
            "order by table_schema = 'marts' desc limit 1",
            [model],
        ).fetchone()
        if row is None:
            raise dg.Failure(f"table for model '{model}' not found in {warehouse}")
        return con.execute(f'select * from "{row[0]}"."{model}"').df()
    finally:
        con.close()


def build_gx_check(model: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([model]),
        name=f"gx_{model}",
        blocking=model.startswith("rpt_"),
        pool="duckdb_write",
        description=f"Great Expectations suite '{model}' (expectations/suites/{model}.py)",
    )
    def _check(context: AssetCheckExecutionContext, salesops: SalesopsConfig):
        cfg = salesops.load()
        df = _read_model(str(cfg.warehouse), model)
        summary = runner.validate(runner.build_suite(model), df)
        failures = [
            f"{o.expectation}({o.column or ''}): {o.unexpected_count} unexpected, "
            f"e.g. {o.sample[:3]}"
            for o in summary.failures()
        ]
        for line in failures:
            context.log.warning(line)
        return dg.AssetCheckResult(
            passed=summary.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows": len(df),
                "expectations": summary.evaluated,
                "failed": summary.failed,
                "failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures) or "none"),
            },
        )

    return _check


gx_checks = [build_gx_check(name) for name in runner.suite_names()]

defs = dg.Definitions(asset_checks=gx_checks)
