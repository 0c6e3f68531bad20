"""Pieces the suites share: the findings of ``marts.dq_findings`` pivoted one column per rule."""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe


def findings_pivot(rules: list[str], source_tables: list[str]) -> str:
    """SQL: one row per flagged (source_table, record_id), one column per rule (its details)."""
    columns = ",\n".join(
        f"        max(case when rule = '{r}' then details end) as {r}" for r in rules
    )
    tables = ", ".join(f"'{t}'" for t in source_tables)
    return f"""
    select
        source_table,
        record_id,
{columns}
    from {{dq_findings}}
    where source_table in ({tables})
    group by source_table, record_id
    """


def expect_no_findings(suite: gx.ExpectationSuite, rules: list[str]) -> None:
    """One expectation per rule: no record of the table is flagged by it."""
    for rule in rules:
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeNull(
                column=rule,
                meta={"rule": rule},
                description=f"no record is flagged {rule} (SPEC §6; evidence in dq_findings)",
            )
        )
