-- Valuation step 3: a first pass of the moving average in which a transfer from another entity
-- enters at the receiver's purchase cost. Only the senders' averages of this pass are used
-- (step 4 prices transfers with them); receivers are valued again in step 5. Two passes are
-- exact while no entity-SKU both sends and receives cross-entity transfers (a data test).

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
                then events.units * cast(events.fallback_unit_cost as double)
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
    where events.is_inbound
),

{{ moving_average_chain('inbound') }}
