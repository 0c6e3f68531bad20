"""Shares that jump from one build to the next (``marts.fct_metric_shares``): leads assigned,
leads with a first touch, accounts matched to U8. A move beyond the settings sheet's
``share_jump_max`` is more likely an input change (a renamed field, an export with fewer
columns) than a change in how the team works. Blocking on the data-quality report, so the BI
site keeps its last good build until someone looks."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx

from expectations.suites._plausibility import expect_plausible

GUARDS = "rpt_data_quality"
READS = ["fct_metric_shares"]
BLOCKING = True
METRICS = {
    "lead_assigned": "the lead owner history (LeadHistory: ids or names)",
    "lead_first_touch": "the activity times (Task CompletedDateTime, Event StartDateTime)",
    "account_matched_to_u8": "the ERP code field of accounts or the U8 customer names",
}


def frame(con, settings, as_of):
    import pandas as pd

    limit = settings["share_jump_max"]
    tables = {
        name: schema
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    row = {f"{m}_jump": None for m in METRICS}
    if "fct_metric_shares" in tables:
        table = f'"{tables["fct_metric_shares"]}"."fct_metric_shares"'
        rows = con.execute(
            f"""
            select metric, metric_share, previous_share
            from (
                select
                    metric,
                    metric_share,
                    lag(metric_share) over (partition by metric order by measured_at)
                        as previous_share,
                    row_number() over (partition by metric order by measured_at desc) as latest
                from {table}
            )
            where latest = 1 and metric_share is not null and previous_share is not null
            """
        ).fetchall()
        for metric, share, previous in rows:
            if metric in METRICS and abs(share - previous) > limit:
                row[f"{metric}_jump"] = (
                    f"{metric} moved from {previous:.1%} to {share:.1%} since the last build "
                    f"(limit share_jump_max {limit:.0%}): likely cause: a change in "
                    f"{METRICS[metric]}"
                )
    return pd.DataFrame([row], dtype=object)


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    import great_expectations as gx

    suite = gx.ExpectationSuite(name="metric_shares")
    expect_plausible(
        suite,
        {f"{m}_jump": f"{m} moves by at most share_jump_max between builds" for m in METRICS},
    )
    return suite
