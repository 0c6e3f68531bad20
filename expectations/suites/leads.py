"""CRM leads: keys, creation times, and leads keyed in twice (SPEC §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx

from expectations.suites._common import expect_no_findings, flagged_records, keyed_suite

GUARDS = "stg_crm__leads"
BLOCKING = False
CHANGED_AT = "changed_at"
RULES = ["duplicate_lead"]
QUERY = flagged_records(
    RULES,
    "leads",
    "stg_crm__leads",
    "leads",
    "lead_id",
    [
        "leads.owner_id",
        "leads.created_at",
        "coalesce(leads.modified_at, leads.created_at) as changed_at",
        "epoch(leads.created_at) - epoch({as_of_end}) as seconds_after_as_of",
    ],
    where="where not leads.is_deleted",
)


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    suite = keyed_suite("leads", not_null=("record_id", "owner_id", "created_at"))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="seconds_after_as_of", max_value=0, meta={"rule": "future_timestamp (lead)"}
        )
    )
    expect_no_findings(suite, RULES)
    return suite
