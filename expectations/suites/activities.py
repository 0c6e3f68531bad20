"""CRM activities (tasks and events): backfill bursts, short and unverified visits, future
times, activities before their lead, duplicates (SPEC §6). Findings are data: the check warns."""

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.suites._common import expect_no_findings, findings_pivot

GUARDS = "stg_crm__events"
BLOCKING = False
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
        created_at as logged_at, cast(null as double) as visit_seconds
    from {{stg_crm__tasks}}
    where not is_deleted
    union all
    select
        event_id, 'events', owner_id, started_at, created_at,
        case when event_type = '拜访' then epoch(ended_at) - epoch(started_at) end
    from {{stg_crm__events}}
    where not is_deleted
),
flags as ({findings_pivot(RULES, ["tasks", "events"])})
select
    activities.*,
    epoch(activities.occurred_at) - epoch({{as_of_end}}) as seconds_after_as_of,
    flags.* exclude (source_table, record_id)
from activities
left join flags using (source_table, record_id)
"""


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name="activities")
    suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="record_id"))
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="logged_at"))
    # the rules that need no context, checked on the columns themselves as well
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="visit_seconds",
            min_value=settings["short_visit_seconds"],
            meta={"rule": "short_visit (duration)"},
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeBetween(
            column="seconds_after_as_of", max_value=0, meta={"rule": "future_timestamp (time)"}
        )
    )
    expect_no_findings(suite, RULES)
    return suite
