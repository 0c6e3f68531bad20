{# Every row of a pipeline waterfall balances: opening + created - won - lost = closing. #}
{% test waterfall_balances(model) %}
    select *
    from {{ model }}
    where
        opening_amount + created_amount - won_amount - lost_amount <> closing_amount
        or opening_deals + created_deals - won_deals - lost_deals <> closing_deals
{% endtest %}
