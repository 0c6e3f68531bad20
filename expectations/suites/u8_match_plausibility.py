"""CRM accounts against U8 customers as a whole: when both sides have rows, U8 holds sales
orders (so there is revenue to verify wins against) and not one account matches, the ERP code
or the company names are not what the matching reads, and every CRM win would be unverifiable.
Blocking: forecast against revenue would be built on no revenue."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx

from expectations.suites._plausibility import expect_plausible

GUARDS = "dim_customer"
BLOCKING = True
CHECKS = {"no_account_matched_to_u8": "some CRM account matches a U8 customer when both exist"}
QUERY = """
with
counts as (
    select
        (select count(*) from {stg_u8__customers}) as u8_customers,
        (select count(*) from {stg_u8__sales_orders}) as u8_orders,
        count(*) filter (where crm_account_id is not null) as accounts,
        count(*) filter (where crm_account_id is not null and u8_customer_code is not null)
            as matched
    from {dim_customer}
)
select
    case when accounts > 0 and u8_customers > 0 and u8_orders > 0 and matched = 0 then
        'no CRM account is matched to U8 although there are ' || accounts || ' accounts and '
        || u8_customers || ' U8 customers with ' || u8_orders || ' sales orders: likely cause: '
        || 'the ERP code field is named otherwise in this CRM (the run configuration names it, '
        || 'e.g. AccountNumber) or left blank, '
        || 'and the company names differ between the two systems'
    end as no_account_matched_to_u8
from counts
"""


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    import great_expectations as gx

    suite = gx.ExpectationSuite(name="u8_match_plausibility")
    expect_plausible(suite, CHECKS)
    return suite
