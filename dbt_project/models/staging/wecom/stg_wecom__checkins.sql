with

source as (
    select * from {{ optional_source('wecom', 'checkins', {
        'userid': 'varchar', 'checkin_type': 'varchar', 'location_title': 'varchar',
        'location_detail': 'varchar', 'lat': 'double', 'lng': 'double',
        'checkin_time': 'timestamp with time zone'}) }}
),

renamed as (
    select
        userid as wecom_userid,
        checkin_type,
        trim(location_title) as location_title,
        location_detail,
        lat,
        lng,
        checkin_time as checked_in_at
    from source
)

select * from renamed
