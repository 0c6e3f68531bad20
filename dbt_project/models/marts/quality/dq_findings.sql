-- Truthfulness findings (SPEC §6): one row per rule x source record, with the evidence.
-- Thresholds come from the settings sheet. A finding is data: the metrics that must not
-- trust a record exclude it by joining here.
with

activities as (
    select * from {{ ref('int_activities_unioned') }}
),

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

opportunity_history as (
    select * from {{ ref('stg_crm__opportunity_history') }}
),

content_versions as (
    select * from {{ ref('stg_crm__content_versions') }}
),

stage_config as (
    select * from {{ ref('stg_sheets__stage_config') }}
),

reps as (
    select * from {{ ref('dim_rep') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

accounts as (
    select * from {{ ref('int_accounts_matched_to_u8') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

checkins as (
    select * from {{ ref('stg_wecom__checkins') }}
),

u8_orders as (
    select * from {{ ref('stg_u8__sales_orders') }}
),

u8_order_lines as (
    select * from {{ ref('stg_u8__sales_order_lines') }}
),

settings as (
    select * from {{ ref('int_settings_pivoted') }}
),

live_activities as (
    select * from activities
    where not is_deleted
),

-- each logged record opens a window of burst_window_minutes
burst_anchors as (
    select
        live_activities.activity_id,
        live_activities.owner_id,
        live_activities.logged_at as window_start,
        {{ dbt.dateadd('minute', 'settings.burst_window_minutes', 'live_activities.logged_at') }}
            as window_end
    from live_activities
    cross join settings
),

-- the windows holding enough records whose claimed times span enough days
burst_windows as (
    select
        burst_anchors.activity_id as anchor_id,
        burst_anchors.owner_id,
        burst_anchors.window_start,
        burst_anchors.window_end,
        count(*) as records,
        min(member.occurred_at) as first_claimed_at,
        max(member.occurred_at) as last_claimed_at
    from burst_anchors
    inner join live_activities as member
        on
            burst_anchors.owner_id = member.owner_id
            and burst_anchors.window_start <= member.logged_at
            and burst_anchors.window_end >= member.logged_at
    group by
        burst_anchors.activity_id,
        burst_anchors.owner_id,
        burst_anchors.window_start,
        burst_anchors.window_end
),

qualifying_windows as (
    select burst_windows.*
    from burst_windows
    cross join settings
    where
        burst_windows.records >= settings.burst_min_records
        and {{ seconds_between('burst_windows.first_claimed_at', 'burst_windows.last_claimed_at') }}
        >= settings.burst_span_days * 86400
),

burst_members as (
    select
        member.activity_id,
        member.source_table,
        member.owner_id,
        min(qualifying_windows.window_start) as burst_start,
        max(qualifying_windows.records) as records,
        min(qualifying_windows.first_claimed_at) as first_claimed_at,
        max(qualifying_windows.last_claimed_at) as last_claimed_at
    from qualifying_windows
    inner join live_activities as member
        on
            qualifying_windows.owner_id = member.owner_id
            and qualifying_windows.window_start <= member.logged_at
            and qualifying_windows.window_end >= member.logged_at
    group by member.activity_id, member.source_table, member.owner_id
),

backfill_burst as (
    select
        'backfill_burst' as rule,
        'high' as severity,
        source_table,
        activity_id as record_id,
        owner_id,
        {{ json_object({
            'burst_start': 'burst_start',
            'records_in_window': 'records',
            'claimed_from': 'first_claimed_at',
            'claimed_to': 'last_claimed_at',
        }) }} as details
    from burst_members
),

short_visit as (
    select
        'short_visit' as rule,
        'medium' as severity,
        live_activities.source_table,
        live_activities.activity_id as record_id,
        live_activities.owner_id,
        {{ json_object({'seconds': 'live_activities.duration_s'}) }} as details
    from live_activities
    cross join settings
    where
        live_activities.source_table = 'events'
        and live_activities.activity_type = '拜访'
        and live_activities.duration_s < settings.short_visit_seconds
),

future_timestamp as (
    select
        'future_timestamp' as rule,
        'medium' as severity,
        source_table,
        activity_id as record_id,
        owner_id,
        {{ json_object({'occurred_at': 'occurred_at'}) }} as details
    from live_activities
    where occurred_at > {{ as_of_end() }}
),

activity_before_lead as (
    select
        'activity_before_lead' as rule,
        'medium' as severity,
        live_activities.source_table,
        live_activities.activity_id as record_id,
        live_activities.owner_id,
        {{ json_object({
            'lead_id': 'leads.lead_id',
            'lead_created_at': 'leads.created_at',
            'occurred_at': 'live_activities.occurred_at',
        }) }} as details
    from live_activities
    inner join leads on live_activities.who_id = leads.lead_id
    where live_activities.occurred_at < leads.created_at
),

activity_copies as (
    select
        activity_id,
        source_table,
        owner_id,
        first_value(activity_id) over (
            partition by
                owner_id,
                who_id,
                what_id,
                source_table,
                activity_type,
                subject,
                description,
                occurred_at
            order by logged_at, activity_id
        ) as original_id,
        row_number() over (
            partition by
                owner_id,
                who_id,
                what_id,
                source_table,
                activity_type,
                subject,
                description,
                occurred_at
            order by logged_at, activity_id
        ) as copy_no
    from live_activities
),

duplicate_activity as (
    select
        'duplicate_activity' as rule,
        'low' as severity,
        source_table,
        activity_id as record_id,
        owner_id,
        {{ json_object({'duplicate_of': 'original_id'}) }} as details
    from activity_copies
    where copy_no > 1
),

lead_copies as (
    select
        lead_id,
        owner_id,
        created_at,
        first_value(lead_id) over (
            partition by mobile_phone_hash, company_name order by created_at, lead_id
        ) as original_id,
        first_value(created_at) over (
            partition by mobile_phone_hash, company_name order by created_at, lead_id
        ) as original_created_at,
        row_number() over (
            partition by mobile_phone_hash, company_name order by created_at, lead_id
        ) as copy_no
    from leads
    where not is_deleted and mobile_phone_hash is not null
),

duplicate_lead as (
    select
        'duplicate_lead' as rule,
        'low' as severity,
        'leads' as source_table,
        lead_id as record_id,
        owner_id,
        {{ json_object({'duplicate_of': 'original_id'}) }} as details
    from lead_copies
    where
        copy_no > 1
        and {{ seconds_between('original_created_at', 'created_at') }} <= 30 * 86400
),

stage_entries as (
    select
        opportunity_history.opportunity_history_id,
        opportunity_history.opportunity_id,
        opportunity_history.created_by_id,
        stage_config.stage,
        stage_config.required_evidence,
        stage_config.stage_order,
        opportunity_history.changed_at,
        lag(stage_config.stage_order) over (
            partition by opportunity_history.opportunity_id
            order by opportunity_history.changed_at, opportunity_history.opportunity_history_id
        ) as previous_order
    from opportunity_history
    inner join stage_config
        on opportunity_history.crm_stage_name = stage_config.crm_stage_name
    where not opportunity_history.is_deleted and stage_config.stage <> 'lost'
),

stage_skip as (
    select
        'stage_skip' as rule,
        'high' as severity,
        'opportunity_history' as source_table,
        opportunity_history_id as record_id,
        created_by_id as owner_id,
        {{ json_object({
            'opportunity_id': 'opportunity_id',
            'from_order': 'previous_order',
            'to_stage': 'stage',
        }) }} as details
    from stage_entries
    where stage_order > previous_order + 1
),

evidence as (
    select distinct
        linked_record_id,
        evidence_type
    from content_versions
    where not is_deleted
),

stage_without_evidence as (
    select
        'stage_without_evidence' as rule,
        'high' as severity,
        'opportunity_history' as source_table,
        stage_entries.opportunity_history_id as record_id,
        stage_entries.created_by_id as owner_id,
        {{ json_object({
            'opportunity_id': 'stage_entries.opportunity_id',
            'stage': 'stage_entries.stage',
            'required_evidence': 'stage_entries.required_evidence',
        }) }} as details
    from stage_entries
    left join evidence
        on
            stage_entries.opportunity_id = evidence.linked_record_id
            and stage_entries.required_evidence = evidence.evidence_type
    where
        stage_entries.required_evidence is not null
        and evidence.linked_record_id is null
        -- without ContentVersion in the export, evidence is unknown, not missing
        and not {{ 'true' if contract_missing('crm', 'ContentVersion') else 'false' }}
        and (
            stage_entries.previous_order is null
            or stage_entries.stage_order <> stage_entries.previous_order
        )
),

-- a visit is verified by a WeCom field check-in of the same rep within checkin_window_hours
-- at the visited company (the place the rep picked when checking in). Without WeCom the rule
-- does not apply (SPEC §8) and finds nothing.
visits as (
    select
        live_activities.activity_id,
        live_activities.source_table,
        live_activities.owner_id,
        live_activities.occurred_at,
        coalesce(leads.company_name, accounts.account_name) as company_name
    from live_activities
    left join leads on live_activities.who_id = leads.lead_id
    left join contacts on live_activities.who_id = contacts.contact_id
    left join accounts on contacts.account_id = accounts.account_id
    where live_activities.source_table = 'events' and live_activities.activity_type = '拜访'
),

-- each check-in verifies one visit: the nearest visit of that rep to that company
checkin_matches as (
    select
        visits.activity_id,
        row_number() over (
            partition by checkins.wecom_userid, checkins.checked_in_at
            order by
                abs({{ seconds_between('visits.occurred_at', 'checkins.checked_in_at') }}),
                visits.activity_id
        ) as nearness
    from visits
    cross join settings
    inner join reps on visits.owner_id = reps.crm_user_id
    inner join checkins
        on
            reps.wecom_userid = checkins.wecom_userid
            and visits.company_name = checkins.location_title
            and abs({{ seconds_between('visits.occurred_at', 'checkins.checked_in_at') }})
            <= settings.checkin_window_hours * 3600
),

verified_visits as (
    select distinct activity_id
    from checkin_matches
    where nearness = 1
),

unverified_visit as (
    select
        'unverified_visit' as rule,
        'high' as severity,
        visits.source_table,
        visits.activity_id as record_id,
        visits.owner_id,
        {{ json_object({
            'company': 'visits.company_name',
            'visited_at': 'visits.occurred_at',
        }) }} as details
    from visits
    left join verified_visits on visits.activity_id = verified_visits.activity_id
    where
        verified_visits.activity_id is null
        and {{ 'true' if source_exists('wecom', 'checkins') else 'false' }}
),

-- CRM wins against U8 sales orders of the same customer around the close date. Customers
-- match by the account's U8 code, else by an unambiguous company name
-- (int_accounts_matched_to_u8). A won deal of an account without a unique U8 match cannot be
-- verified: it is not a win without an order; its account is customer_unmatched instead.
u8_order_totals as (
    select
        u8_orders.sales_order_id,
        u8_orders.u8_customer_code,
        u8_orders.order_date,
        sum(u8_order_lines.gross_amount) as order_amount
    from u8_orders
    inner join u8_order_lines on u8_orders.sales_order_id = u8_order_lines.sales_order_id
    group by u8_orders.sales_order_id, u8_orders.u8_customer_code, u8_orders.order_date
),

won_deals as (
    select
        opportunities.opportunity_id,
        opportunities.owner_id,
        opportunities.amount,
        opportunities.close_date,
        accounts.account_id,
        accounts.u8_customer_code,
        accounts.u8_match,
        accounts.u8_name_matches
    from opportunities
    inner join accounts on opportunities.account_id = accounts.account_id
    where opportunities.is_won and not opportunities.is_deleted
),

won_vs_orders as (
    select
        won_deals.opportunity_id,
        won_deals.owner_id,
        won_deals.amount,
        won_deals.u8_customer_code,
        count(u8_order_totals.sales_order_id) as orders,
        sum(u8_order_totals.order_amount) as order_amount
    from won_deals
    left join u8_order_totals
        on
            won_deals.u8_customer_code = u8_order_totals.u8_customer_code
            and u8_order_totals.order_date
            >= {{ dbt.dateadd('day', -7, 'won_deals.close_date') }}
            and u8_order_totals.order_date
            <= {{ dbt.dateadd('day', 30, 'won_deals.close_date') }}
    where {{ 'true' if source_exists('u8', 'so_somain') else 'false' }}
    group by
        won_deals.opportunity_id, won_deals.owner_id, won_deals.amount,
        won_deals.u8_customer_code
),

won_without_order as (
    select
        'won_without_order' as rule,
        'high' as severity,
        'opportunities' as source_table,
        opportunity_id as record_id,
        owner_id,
        {{ json_object({
            'crm_amount': 'amount',
            'u8_customer_code': "coalesce(u8_customer_code, '')",
        }) }} as details
    from won_vs_orders
    where orders = 0 and u8_customer_code is not null
),

-- an account with won deals and no unique U8 customer: several share its name (the reason
-- ambiguous_name) or none has its name or code (no_u8_customer); its wins are unverifiable
customer_unmatched as (
    select
        'customer_unmatched' as rule,
        'medium' as severity,
        'accounts' as source_table,
        accounts.account_id as record_id,
        accounts.owner_id,
        {{ json_object({
            'reason': "case when won_deals.u8_match = 'ambiguous_name' then 'ambiguous_name' "
                ~ "else 'no_u8_customer' end",
            'u8_customers_with_name': 'won_deals.u8_name_matches',
            'unverifiable_won_deals': 'count(*)',
            'unverifiable_won_amount': 'coalesce(sum(won_deals.amount), 0)',
        }) }} as details
    from won_deals
    inner join accounts on won_deals.account_id = accounts.account_id
    where
        won_deals.u8_customer_code is null
        and {{ 'true' if source_exists('u8', 'customer') else 'false' }}
    group by
        accounts.account_id, accounts.owner_id, won_deals.u8_match, won_deals.u8_name_matches
),

erp_amount_mismatch as (
    select
        'erp_amount_mismatch' as rule,
        'high' as severity,
        'opportunities' as source_table,
        won_vs_orders.opportunity_id as record_id,
        won_vs_orders.owner_id,
        {{ json_object({
            'crm_amount': 'won_vs_orders.amount',
            'u8_amount': 'won_vs_orders.order_amount',
        }) }} as details
    from won_vs_orders
    cross join settings
    where
        won_vs_orders.orders > 0
        and abs(won_vs_orders.order_amount - won_vs_orders.amount)
        > settings.erp_mismatch_tolerance * won_vs_orders.amount
),

findings as (
    select * from backfill_burst
    union all
    select * from short_visit
    union all
    select * from future_timestamp
    union all
    select * from activity_before_lead
    union all
    select * from duplicate_activity
    union all
    select * from duplicate_lead
    union all
    select * from stage_skip
    union all
    select * from stage_without_evidence
    union all
    select * from unverified_visit
    union all
    select * from won_without_order
    union all
    select * from customer_unmatched
    union all
    select * from erp_amount_mismatch
),

final as (
    select
        findings.rule || ':' || findings.record_id as finding_id,
        findings.record_id,
        reps.rep_id,
        reps.manager_id,
        findings.rule,
        findings.severity,
        findings.source_table,
        findings.details,
        {{ as_of_end() }} as detected_at
    from findings
    left join reps on findings.owner_id = reps.crm_user_id
)

select * from final
