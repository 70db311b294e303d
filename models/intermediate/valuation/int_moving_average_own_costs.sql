-- Valuation step 3b: a first pass of the moving average in which a transfer from another entity
-- enters at the receiver's purchase cost. Only the senders' averages of this pass are used
-- (step 4 prices transfers with them); receivers are valued again in step 5. Two passes are
-- exact while no entity-SKU both sends and receives cross-entity transfers (a data test).

with recursive

inbound as (
    select
        inbound_events.entity_code,
        inbound_events.sku,
        inbound_events.inbound_seq,
        inbound_events.units,
        inbound_events.units_before,
        inbound_events.event_type,
        inbound_events.return_segment,
        inbound_events.fallback_unit_cost,
        inbound_events.keep_from_segment,
        case
            when inbound_events.event_type = 'transfer_in'
                then inbound_events.units * inbound_events.fallback_unit_cost
            else inbound_events.known_value
        end as known_value
    from {{ ref('int_valuation_inbound_events') }} as inbound_events
),

{{ moving_average_chain('inbound') }}
