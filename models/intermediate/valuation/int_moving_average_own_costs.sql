-- Valuation step 3b: a first pass of the moving average in which a transfer from another entity
-- and the output of a work order enter at the receiver's purchase cost. Only the senders' and
-- the components' averages of this pass are used (step 4 prices transfers and work orders with
-- them); receivers and outputs are valued again in step 5. Two passes are exact while no
-- entity-SKU both sends and receives cross-entity transfers (a data test) and no component is
-- itself produced or received from another entity (docs/decisions.md, "Kits").

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
            when inbound_events.event_type in ('transfer_in', 'production_receipt')
                then inbound_events.units * inbound_events.fallback_unit_cost
            else inbound_events.known_value
        end as known_value
    from {{ ref('int_valuation_inbound_events') }} as inbound_events
),

{{ moving_average_chain('inbound') }}
