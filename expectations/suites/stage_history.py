"""Stage history: every stage entered in order and with its evidence (SPEC §6)."""

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.suites._common import expect_no_findings, findings_pivot

GUARDS = "fct_stage_history"
BLOCKING = False
RULES = ["stage_skip", "stage_without_evidence"]
QUERY = f"""
with flags as ({findings_pivot(RULES, ["opportunity_history"])})
select
    history.stage_entry_id as record_id,
    history.opportunity_id,
    history.stage,
    history.skipped_from,
    history.has_evidence,
    history.entered_at,
    history.exited_at,
    flags.* exclude (source_table, record_id)
from {{fct_stage_history}} as history
left join flags on flags.record_id = history.stage_entry_id
"""


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="stage_history")
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="record_id"))
    for column in ("opportunity_id", "stage", "entered_at"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="exited_at",
            column_B="entered_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
    )
    # on the columns themselves as well as through the findings
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeNull(column="skipped_from", meta={"rule": "stage_skip (column)"})
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="has_evidence",
            value_set=[True],
            meta={"rule": "stage_without_evidence (column)"},
        )
    )
    expect_no_findings(suite, RULES)
    return suite
