with

source as (
    select * from {{ source('crm', 'content_versions') }}
),

renamed as (
    select
        id as content_version_id,
        first_publish_location_id as linked_record_id,
        owner_id,
        title,
        file_type,
        evidence_type_c as evidence_type,
        content_size,
        coalesce(is_deleted, false) as is_deleted,
        created_date as created_at
    from source
)

select * from renamed
