-- A Data Loader export may lack CompletedDateTime and IsClosed (docs/sources.md). Then a
-- task happened at CreatedDate when it was logged on its ActivityDate, else at the end of its
-- ActivityDate (the latest it can have happened); it is done when it has a completion time
-- or is dated on or before the day it was logged. ops.source_contract records the gap.
with

source as (
    select * from {{ source('crm', 'tasks') }}
),

renamed as (
    select
        id as task_id,
        who_id,
        what_id,
        owner_id,
        created_by_id,
        subject,
        description,
        status as task_status,
        task_subtype,
        type as task_type,
        call_duration_in_seconds as call_duration_s,
        coalesce(
            is_closed,
            completed_date_time is not null
            or activity_date <= cast({{ to_local('created_date') }} as date),
            false
        ) as is_closed,
        coalesce(is_deleted, false) as is_deleted,
        activity_date,
        coalesce(
            completed_date_time,
            case
                when activity_date = cast({{ to_local('created_date') }} as date)
                    then created_date
                when activity_date is not null
                    then {{ to_utc("cast(activity_date as timestamp) + interval 1 day "
                        ~ "- interval 1 second") }}
            end
        ) as completed_at,
        completed_date_time is null and activity_date is not null as is_completed_at_estimated,
        created_date as created_at,
        system_modstamp as modified_at
    from source
)

select * from renamed
