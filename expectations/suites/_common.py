"""Pieces the suites share: the findings of ``marts.dq_findings`` pivoted one column per rule,
a table's records beside their findings, and a suite keyed by ``record_id``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx


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


def flagged_records(
    rules: list[str],
    source_table: str,
    relation: str,
    alias: str,
    key: str,
    columns: list[str],
    where: str = "",
) -> str:
    """SQL: the records of ``relation`` (as ``alias``), ``key`` as ``record_id``, the
    ``columns`` and one column per rule with the details of the finding where it flags the
    record (findings of ``source_table``)."""
    select = ",\n    ".join(
        [f"{alias}.{key} as record_id", *columns, "flags.* exclude (source_table, record_id)"]
    )
    return f"""
with flags as ({findings_pivot(rules, [source_table])})
select
    {select}
from {{{relation}}} as {alias}
left join flags on flags.record_id = {alias}.{key}
{where}
"""


def keyed_suite(name: str, not_null: tuple[str, ...] = ()) -> gx.ExpectationSuite:
    """A suite whose ``record_id`` is unique and whose ``not_null`` columns are set."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=name)
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="record_id"))
    for column in not_null:
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    return suite


def expect_no_findings(suite: gx.ExpectationSuite, rules: list[str]) -> None:
    """One expectation per rule: no record of the table is flagged by it."""
    import great_expectations.expectations as gxe

    for rule in rules:
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeNull(
                column=rule,
                meta={"rule": rule},
                description=f"no record is flagged {rule} (SPEC §6; evidence in dq_findings)",
            )
        )
