-- The moving-average cost of each entity and SKU at the close of each business date on which
-- it changed: the average after the date's last inbound event.

with

inbound as (
    select
        costed.entity_code,
        costed.sku,
        costed.business_date,
        costed.average_cost_after,
        row_number() over (
            partition by costed.entity_code, costed.sku, costed.business_date
            order by costed.segment desc
        ) as last_of_day
    from {{ ref('int_valuation_events_costed') }} as costed
    where {{ is_inbound_event('costed.event_type', 'costed.units') }}
)

select
    inbound.entity_code,
    inbound.sku,
    inbound.business_date as valid_from_date,
    inbound.average_cost_after as average_cost,
    lead(inbound.business_date) over (
        partition by inbound.entity_code, inbound.sku order by inbound.business_date
    ) as valid_until_date
from inbound
where inbound.last_of_day = 1
