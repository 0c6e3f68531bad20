"""Won opportunities against U8: each has a sales order of the same amount (SPEC §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx

from expectations.suites._common import expect_no_findings, flagged_records, keyed_suite

GUARDS = "stg_crm__opportunities"
BLOCKING = False
CHANGED_AT = "changed_at"
RULES = ["won_without_order", "erp_amount_mismatch"]
QUERY = flagged_records(
    RULES,
    "opportunities",
    "stg_crm__opportunities",
    "opportunities",
    "opportunity_id",
    [
        "opportunities.owner_id",
        "opportunities.amount",
        "opportunities.close_date",
        "coalesce(opportunities.modified_at, opportunities.created_at) as changed_at",
    ],
    where="where opportunities.is_won and not opportunities.is_deleted",
)


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    suite = keyed_suite("won_deals", not_null=("amount",))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0))
    expect_no_findings(suite, RULES)
    return suite
