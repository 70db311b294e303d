-- Valuation step 5: the moving average of every entity and SKU after each inbound event, with
-- transfers from other entities priced at the sender's cost (step 4).

with recursive

inbound as (
    select
        events.entity_code,
        events.sku,
        events.segment as inbound_seq,
        events.units,
        events.units_before,
        events.event_type,
        cast(events.fallback_unit_cost as double) as fallback_unit_cost,
        case
            when events.event_type = 'transfer_in'
                then events.units * transfer_costs.receiver_unit_cost
            else events.known_value
        end as known_value,
        coalesce(events.return_segment, 0) as return_segment,
        least(
            events.segment,
            coalesce(
                min(case when events.return_segment > 0 then events.return_segment end) over (
                    partition by events.entity_code, events.sku
                    order by events.segment
                    rows between 1 following and unbounded following
                ),
                events.segment
            )
        ) as keep_from_segment
    from {{ ref('int_valuation_events_sequenced') }} as events
    left join {{ ref('int_cross_entity_transfer_costs') }} as transfer_costs
        on
            events.event_type = 'transfer_in'
            and events.transfer_key = transfer_costs.transfer_key
    where events.is_inbound
),

{{ moving_average_chain('inbound') }}
