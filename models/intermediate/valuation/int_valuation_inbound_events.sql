-- Valuation step 3a: the inbound events the moving average walks, numbered 1..n per entity and
-- SKU, with what the walk needs: units before, the value when known (receipts at landed cost),
-- the segment of the issue a restocked return returns, the purchase-order cost to fall back on,
-- and the oldest segment whose average a later return still needs (so the walk keeps no more).

select
    events.entity_code,
    events.sku,
    events.segment as inbound_seq,
    events.units,
    events.units_before,
    events.event_type,
    events.known_value,
    events.transfer_key,
    cast(events.fallback_unit_cost as double) as fallback_unit_cost,
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
