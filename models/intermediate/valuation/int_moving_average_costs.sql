-- Valuation step 5: the moving average of every entity and SKU after each inbound event, with
-- transfers from other entities priced at the sender's cost and the output of work orders at
-- their components' cost plus conversion (step 4).

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
                then inbound_events.units * transfer_costs.receiver_unit_cost
            when inbound_events.event_type = 'production_receipt'
                then production_costs.output_value
            else inbound_events.known_value
        end as known_value
    from {{ ref('int_valuation_inbound_events') }} as inbound_events
    left join {{ ref('int_cross_entity_transfer_costs') }} as transfer_costs
        on
            inbound_events.event_type = 'transfer_in'
            and inbound_events.transfer_key = transfer_costs.transfer_key
    left join {{ ref('int_work_order_costs') }} as production_costs
        on
            inbound_events.event_type = 'production_receipt'
            and inbound_events.transfer_key = production_costs.work_order_number
),

{{ moving_average_chain('inbound') }}
