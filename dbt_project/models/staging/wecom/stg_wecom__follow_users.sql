-- WeCom members with customer contact enabled (get_follow_user_list).
with

source as (
    select * from {{ optional_source('wecom', 'follow_users', {'userid': 'string'}) }}
),

renamed as (
    select distinct userid as wecom_userid
    from source
)

select * from renamed
