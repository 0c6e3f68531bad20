"""Pieces the plausibility suites share: one row, one column per check, holding what is wrong
and its likely cause when the check fails and null when it holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx


def expect_plausible(suite: gx.ExpectationSuite, checks: dict[str, str]) -> None:
    """One expectation per check (column name -> what it guards against)."""
    import great_expectations.expectations as gxe

    for check, description in checks.items():
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeNull(
                column=check, meta={"rule": check}, description=description
            )
        )
