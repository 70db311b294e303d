{#- Dagster: a check of int_cross_entity_transfer_costs (the test reads several relations) -#}
{{ config(meta={'dagster': {'ref': {'name': 'int_cross_entity_transfer_costs'}}}) }}
-- A returned row is an entity and SKU that both sends and receives transfers across entities.
-- The two-pass valuation (docs/decisions.md, "Moving-average valuation, set-based") prices
-- transfers exactly only when no such entity-SKU exists.

with

transfers as (
    select
        transfer_costs.sender_entity_code,
        transfer_costs.receiver_entity_code,
        events.sku
    from {{ ref('int_cross_entity_transfer_costs') }} as transfer_costs
    inner join {{ ref('int_valuation_events_sequenced') }} as events
        on transfer_costs.transfer_key = events.transfer_key
)

select distinct
    senders.sender_entity_code as entity_code,
    senders.sku
from transfers as senders
inner join transfers as receivers
    on
        senders.sender_entity_code = receivers.receiver_entity_code
        and senders.sku = receivers.sku
