-- 拜访记录: visits from the weekly Excel reports kept before the CRM; reps by name, as the
-- sheets carry them.
with

source as (
    select * from {{ optional_source('sheets', 'legacy_visits', {
        'visit_date': 'date', 'rep_name': 'string', 'customer_name': 'string',
        'channel': 'string', 'notes': 'string', 'duration_s': 'bigint'}) }}
),

renamed as (
    select
        trim(cast(rep_name as string)) as rep_name,
        trim(cast(customer_name as string)) as customer_name,
        nullif(trim(cast(channel as string)), '') as channel,
        notes,
        cast(duration_s as integer) as duration_s,
        cast(visit_date as date) as visit_date
    from source
)

select * from renamed
