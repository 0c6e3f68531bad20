"""Run a Great Expectations suite against a DataFrame in an ephemeral GX context.

Suites live in ``expectations/suites/<model>.py`` as ``build_suite() -> gx.ExpectationSuite``.
The runner is deliberately small: Dagster asset checks (``orchestration/defs/quality.py``) and
tests call ``validate`` and read the summary.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from expectations import suites as suites_pkg

logging.getLogger("great_expectations").setLevel(logging.WARNING)


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None
    observed: Any
    sample: list[Any] = field(default_factory=list)


@dataclass
class ValidationSummary:
    suite: str
    success: bool
    evaluated: int
    failed: int
    outcomes: list[ExpectationOutcome]

    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def suite_names() -> list[str]:
    """The suites in ``expectations/suites`` (module name = the guarded model)."""
    return sorted(m.name for m in pkgutil.iter_modules(suites_pkg.__path__))


_context = None


def get_context():
    """The process's ephemeral GX context (GX needs one before a suite can be built)."""
    global _context
    if _context is None:
        _context = gx.get_context(mode="ephemeral")
        _context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return _context


def build_suite(name: str) -> gx.ExpectationSuite:
    get_context()
    return importlib.import_module(f"expectations.suites.{name}").build_suite()


def validate(suite: gx.ExpectationSuite, df: pd.DataFrame) -> ValidationSummary:
    context = get_context()
    source_name = f"frame_{suite.name}"
    if source_name in [ds.name for ds in context.data_sources.all().values()]:
        context.data_sources.delete(source_name)
    source = context.data_sources.add_pandas(source_name)
    asset = source.add_dataframe_asset(name=suite.name)
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
        batch_parameters={"dataframe": df}
    )
    result = batch.validate(suite, result_format="SUMMARY")
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        outcomes.append(
            ExpectationOutcome(
                expectation=cfg.type,
                column=cfg.kwargs.get("column"),
                success=bool(r.success),
                unexpected_count=res.get("unexpected_count"),
                observed=res.get("observed_value"),
                sample=list(res.get("partial_unexpected_list") or [])[:10],
            )
        )
    failed = sum(not o.success for o in outcomes)
    return ValidationSummary(suite.name, bool(result.success), len(outcomes), failed, outcomes)
