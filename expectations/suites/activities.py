"""CRM activities (tasks and events): backfill bursts, short and unverified visits, future
times, activities before their lead, duplicates (SPEC §6). Findings are data: the check warns."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx

from expectations.suites._common import expect_no_findings, findings_pivot

GUARDS = "stg_crm__events"
BLOCKING = False
CHANGED_AT = "changed_at"
RULES = [
    "backfill_burst",
    "short_visit",
    "unverified_visit",
    "future_timestamp",
    "activity_before_lead",
    "duplicate_activity",
]
QUERY = f"""
with activities as (
    select
        task_id as record_id, 'tasks' as source_table, owner_id, completed_at as occurred_at,
        created_at as logged_at, cast(null as double) as visit_seconds,
        coalesce(modified_at, created_at) as changed_at
    from {{stg_crm__tasks}}
    where not is_deleted
    union all
    select
        event_id, 'events', owner_id, started_at, created_at,
        case when event_type = '拜访' then epoch(ended_at) - epoch(started_at) end,
        coalesce(modified_at, created_at)
    from {{stg_crm__events}}
    where not is_deleted
),
flags as ({findings_pivot(RULES, ["tasks", "events"])})
select
    activities.*,
    -- a record's own columns where the findings do not flag it / do flag it
    case when flags.short_visit is null then activities.visit_seconds end as unflagged_seconds,
    case when flags.short_visit is not null then activities.visit_seconds end as flagged_seconds,
    case
        when flags.future_timestamp is null
            then epoch(activities.occurred_at) - epoch({{as_of_end}})
    end as unflagged_seconds_after_as_of,
    flags.* exclude (source_table, record_id)
from activities
left join flags using (source_table, record_id)
"""


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name="activities")
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="record_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="logged_at"))
    # the rules that need no context, checked on the record's own columns against the
    # findings: these fail when dq_findings misses or invents one, not on anomalies in the data
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="unflagged_seconds",
            min_value=settings["short_visit_seconds"],
            meta={"rule": "short_visit (all flagged)"},
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="flagged_seconds",
            max_value=settings["short_visit_seconds"],
            strict_max=True,
            meta={"rule": "short_visit (only short)"},
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="unflagged_seconds_after_as_of",
            max_value=0,
            meta={"rule": "future_timestamp (all flagged)"},
        )
    )
    expect_no_findings(suite, RULES)
    return suite
