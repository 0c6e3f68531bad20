"""U8 loaded within ``freshness_max_hours_u8`` (a day): blocking on the forecast mart, so the
BI site keeps its last good build rather than publish forecast vs revenue on stale ERP data.
Without U8 configured there is nothing to check (not applicable)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx

from expectations.suites import source_freshness

GUARDS = "rpt_forecast_vs_actual"
BLOCKING = True


def frame(con, settings, as_of):
    df = source_freshness.frame(con, settings, as_of)
    return df[df["record_id"] == "u8"].reset_index(drop=True)


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    return source_freshness.build_suite(settings, name="u8_freshness")
