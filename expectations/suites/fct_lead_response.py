"""fct_lead_response: one row per lead with a consistent response measurement."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx

BANDS = ["green", "yellow", "red", "pending", "unassigned"]


GUARDS = "fct_lead_response"
BLOCKING = False
QUERY = "select * from {fct_lead_response}"


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name="fct_lead_response")
    for column in ("lead_id", "created_at", "response_band"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    # Leads still waiting in a queue have no assignment yet; a long queue is a finding.
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="assigned_at", mostly=0.98))
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="lead_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="response_band", value_set=BANDS))
    # A response cannot come before the assignment, nor an assignment before the lead existed.
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="response_hours", min_value=0))
    for later, earlier in (("assigned_at", "created_at"), ("first_touch_at", "created_at")):
        suite.add_expectation(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=later,
                column_B=earlier,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        )
    # Almost every lead says where it came from.
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="lead_source", mostly=0.95))
    return suite
