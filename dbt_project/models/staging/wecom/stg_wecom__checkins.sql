with

source as (
    select * from {{ optional_source('wecom', 'checkins', {
        'userid': 'string', 'checkin_type': 'string', 'location_title': 'string',
        'location_detail': 'string', 'lat': 'double', 'lng': 'double',
        'checkin_time': timestamptz_type()}) }}
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
