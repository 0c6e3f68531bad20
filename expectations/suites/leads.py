"""CRM leads: keys, creation times, and leads keyed in twice (SPEC §6)."""

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.suites._common import expect_no_findings, findings_pivot

GUARDS = "stg_crm__leads"
BLOCKING = False
CHANGED_AT = "changed_at"
RULES = ["duplicate_lead"]
QUERY = f"""
with flags as ({findings_pivot(RULES, ["leads"])})
select
    leads.lead_id as record_id,
    leads.owner_id,
    leads.created_at,
    coalesce(leads.modified_at, leads.created_at) as changed_at,
    epoch(leads.created_at) - epoch({{as_of_end}}) as seconds_after_as_of,
    flags.* exclude (source_table, record_id)
from {{stg_crm__leads}} as leads
left join flags on flags.record_id = leads.lead_id
where not leads.is_deleted
"""


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="leads")
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="record_id"))
    for column in ("record_id", "owner_id", "created_at"):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="seconds_after_as_of", max_value=0, meta={"rule": "future_timestamp (lead)"}
        )
    )
    expect_no_findings(suite, RULES)
    return suite
