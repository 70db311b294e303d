-- Valuation step 6: every valued event with its unit cost and its amount in functional
-- currency, rounded to cents at the line: issues, adjustments and transfers out at the average
-- of their segment, inbound events at their value (docs/glossary.md). An event before any inbound
-- event of its entity and SKU is costed at the latest purchase-order cost and flagged.
-- Rebuilt by load on the events' UTC date, like the sequence it costs.
-- depends_on: {{ ref('int_receipt_costs_backdated') }}

with

events as (
    select * from {{ ref('int_valuation_events_sequenced') }}
    where {{ in_load_window('event_date') }}
),

costs as (
    select * from {{ ref('int_moving_average_costs') }}
)

select
    events.event_id,
    events.entity_code,
    events.sku,
    events.location_id,
    events.business_date,
    events.event_at,
    events.event_date,
    events.event_type,
    events.units,
    events.units_before,
    events.segment,
    events.sales_line_id,
    events.original_sales_line_id,
    events.transfer_key,
    not events.is_inbound and events.segment = 0 as is_costed_before_any_receipt,
    case
        when events.is_inbound then own.inbound_value / events.units
        else coalesce(segment_costs.average_cost, cast(events.fallback_unit_cost as double))
    end as unit_cost,
    case
        when events.is_inbound then own.average_cost
        else segment_costs.average_cost
    end as average_cost_after,
    case
        when events.is_inbound then {{ round_money('own.inbound_value') }}
        else
            {{ round_money(
                'abs(events.units) * coalesce(segment_costs.average_cost,'
                ~ ' cast(events.fallback_unit_cost as double))'
            ) }}
            -- a loss of stock costs less; an issue of units back (the reversal of a line of a
            -- closed period's file delivered again: int_pos_sales_lines_restated) gives back,
            -- a restocked return taken back out (is_inbound_event) reverses its value
            * case
                when events.units < 0 and events.event_type = 'adjustment' then -1
                when events.units > 0 and events.event_type = 'issue' then -1
                -- the reversal of a restocked return takes its units out again
                when events.units < 0 and events.event_type = 'return_restock' then -1
                else 1
            end
    end as cost_amount
from events
left join costs as own
    on
        events.is_inbound
        and events.entity_code = own.entity_code
        and events.sku = own.sku
        and events.segment = own.inbound_seq
left join costs as segment_costs
    on
        not events.is_inbound
        and events.entity_code = segment_costs.entity_code
        and events.sku = segment_costs.sku
        and events.segment = segment_costs.inbound_seq
