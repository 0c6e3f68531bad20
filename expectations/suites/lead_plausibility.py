"""Leads as a whole: an input error that silently empties a metric stops publishing. No lead
assigned although leads have user owners (owner history unreadable: names instead of ids, or
no LeadHistory); no lead with a first touch although tasks or events sit on leads (the
activity times did not land). Blocking: the pages would show every lead red or unassigned."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import great_expectations as gx

from expectations.suites._plausibility import expect_plausible

GUARDS = "fct_lead_response"
BLOCKING = True
CHECKS = {
    "no_lead_assigned": "some lead is assigned when leads have user owners",
    "no_first_touch": "some lead has a first touch when tasks or events sit on leads",
}
QUERY = """
with
leads as (
    select
        count(*) as leads,
        count(*) filter (where owner_id like '005%') as user_owned
    from {stg_crm__leads}
    where not is_deleted
),
response as (
    select count(assigned_at) as assigned, count(first_touch_at) as touched
    from {fct_lead_response}
),
on_leads as (
    select count(*) as activities from (
        select who_id from {stg_crm__tasks} where not is_deleted
        union all
        select who_id from {stg_crm__events} where not is_deleted
    ) as activities
    where who_id in (select lead_id from {stg_crm__leads})
)
select
    case when leads.user_owned > 0 and response.assigned = 0 then
        'no lead is assigned although ' || leads.user_owned || ' leads have a user owner: '
        || 'likely cause: the LeadHistory owner changes carry user names instead of ids '
        || '(or LeadHistory is missing) for leads created into a queue'
    end as no_lead_assigned,
    case when on_leads.activities > 0 and response.touched = 0 then
        'no lead has a first touch although ' || on_leads.activities || ' tasks and events '
        || 'sit on leads: likely cause: the activity times did not land (Task without '
        || 'CompletedDateTime/ActivityDate, Event without StartDateTime) or fall outside '
        || 'the leads'' lifetime (time zone, as-of day)'
    end as no_first_touch
from leads, response, on_leads
"""


def build_suite(settings: dict[str, float]) -> gx.ExpectationSuite:
    import great_expectations as gx

    suite = gx.ExpectationSuite(name="lead_plausibility")
    expect_plausible(suite, CHECKS)
    return suite
