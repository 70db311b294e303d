-- Valuation step 6: every valued event with its unit cost and its amount in functional
-- currency, in cents: inbound events at their value, issues, adjustments and transfers out at
-- the change they make to the stock value, units x the average of their segment rounded to
-- cents (docs/glossary.md, "Cost and margin"), so the amounts never drift from the stock.
-- An event before any inbound event of its entity and SKU is costed at the latest purchase-order
-- cost and flagged.
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
    events.source_system,
    events.document_line_number,
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
        -- the change of the stock value (units x average, in cents) the event makes, so the
        -- costs add up to the stock value and the event that empties the stock takes what
        -- remains: its opposite for an issue (a reversal's units give back), a transfer out
        -- and a work order's component, itself for an adjustment (a loss takes value out) and
        -- the reversal of a restocked return
        when segment_costs.average_cost is not null
            then
                {{ stock_value_change(
                    'events.units_before', 'events.units', 'segment_costs.average_cost'
                ) }}
                * case
                    when events.event_type in ('adjustment', 'return_restock') then 1 else -1
                end
        -- before any inbound event: the units at the fallback cost
        else
            {{ round_money(
                'abs(events.units) * cast(events.fallback_unit_cost as double)'
            ) }}
            * case
                when events.units < 0 and events.event_type = 'adjustment' then -1
                when events.units > 0 and events.event_type = 'issue' then -1
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
