-- Valuation step 4: the price of every transfer across entities, the sender's moving average
-- at shipment (docs/glossary.md), converted to the receiver's functional currency at the rate of
-- the shipment's business date.

with

events as (
    select * from {{ ref('int_valuation_events_sequenced') }}
),

own_costs as (
    select * from {{ ref('int_moving_average_own_costs') }}
),

shipments as (
    select
        events.transfer_key,
        events.entity_code as sender_entity_code,
        events.business_date as shipped_business_date,
        coalesce(own_costs.average_cost, cast(events.fallback_unit_cost as double))
            as sender_unit_cost
    from events
    left join own_costs
        on
            events.entity_code = own_costs.entity_code
            and events.sku = own_costs.sku
            and events.segment = own_costs.inbound_seq
    where events.event_type = 'transfer_out'
),

receipts as (
    select
        events.transfer_key,
        events.entity_code as receiver_entity_code
    from events
    where events.event_type = 'transfer_in'
)

select
    shipments.transfer_key,
    shipments.sender_entity_code,
    receipts.receiver_entity_code,
    shipments.shipped_business_date,
    shipments.sender_unit_cost,
    rates.exchange_rate,
    shipments.sender_unit_cost * cast(rates.exchange_rate as double) as receiver_unit_cost
from shipments
inner join receipts on shipments.transfer_key = receipts.transfer_key
left join {{ ref('dim_entity') }} as senders
    on shipments.sender_entity_code = senders.entity_code
left join {{ ref('dim_entity') }} as receivers
    on receipts.receiver_entity_code = receivers.entity_code
{{ join_fx_rate(
    'rates',
    'shipments.shipped_business_date',
    'senders.functional_currency_code',
    'receivers.functional_currency_code',
) }}
