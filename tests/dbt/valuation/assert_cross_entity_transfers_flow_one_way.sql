-- A returned row is an entity and SKU that both sends and receives transfers across entities.
-- The two-pass valuation (docs/decisions.md, "Moving-average valuation, set-based") prices
-- transfers exactly only when no such entity-SKU exists.

select
    senders.sender_entity_code as entity_code,
    senders.sku
from (
    select distinct
        transfer_costs.sender_entity_code,
        events.sku
    from {{ ref('int_cross_entity_transfer_costs') }} as transfer_costs
    inner join {{ ref('int_valuation_events_sequenced') }} as events
        on transfer_costs.transfer_key = events.transfer_key
) as senders
inner join (
    select distinct
        transfer_costs.receiver_entity_code,
        events.sku
    from {{ ref('int_cross_entity_transfer_costs') }} as transfer_costs
    inner join {{ ref('int_valuation_events_sequenced') }} as events
        on transfer_costs.transfer_key = events.transfer_key
) as receivers
    on
        senders.sender_entity_code = receivers.receiver_entity_code
        and senders.sku = receivers.sku
