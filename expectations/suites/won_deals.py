"""Won opportunities against U8: each has a sales order of the same amount (SPEC §6)."""

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.suites._common import expect_no_findings, findings_pivot

GUARDS = "stg_crm__opportunities"
BLOCKING = False
CHANGED_AT = "changed_at"
RULES = ["won_without_order", "erp_amount_mismatch"]
QUERY = f"""
with flags as ({findings_pivot(RULES, ["opportunities"])})
select
    opportunities.opportunity_id as record_id,
    opportunities.owner_id,
    opportunities.amount,
    opportunities.close_date,
    coalesce(opportunities.modified_at, opportunities.created_at) as changed_at,
    flags.* exclude (source_table, record_id)
from {{stg_crm__opportunities}} as opportunities
left join flags on flags.record_id = opportunities.opportunity_id
where opportunities.is_won and not opportunities.is_deleted
"""


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="won_deals")
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="record_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="amount"))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0))
    expect_no_findings(suite, RULES)
    return suite
