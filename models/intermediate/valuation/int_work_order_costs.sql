-- Valuation step 4b: the cost of every completed work order (docs/decisions.md, "Kits: work
-- order completions"): each component line at the stock value it takes out, the change of
-- units x the entity's moving average at completion rounded to cents (the first pass, step 3b;
-- the fallback cost per line before any inbound event), as step 6 costs it, and the output at
-- the sum of its components plus the conversion cost its line states.

with

events as (
    select * from {{ ref('int_valuation_events_sequenced') }}
    where event_type in ('production_issue', 'production_receipt')
),

own_costs as (
    select * from {{ ref('int_moving_average_own_costs') }}
),

components as (
    select
        events.transfer_key as work_order_number,
        sum(
            case
                when own_costs.average_cost is not null
                    then -{{ stock_value_change(
                        'events.units_before', 'events.units', 'own_costs.average_cost'
                    ) }}
                else {{ round_money(
                    'abs(events.units) * cast(events.fallback_unit_cost as double)'
                ) }}
            end
        ) as components_value
    from events
    left join own_costs
        on
            events.entity_code = own_costs.entity_code
            and events.sku = own_costs.sku
            and events.segment = own_costs.inbound_seq
    where events.event_type = 'production_issue'
    group by events.transfer_key
),

outputs as (
    select
        events.event_id,
        events.transfer_key as work_order_number,
        events.entity_code,
        events.sku,
        events.units,
        coalesce(cast(completion_lines.conversion_cost as decimal(18, 2)), 0) as conversion_value
    from events
    inner join {{ ref('stg_erp__work_order_completions') }} as completion_lines
        on events.event_id = {{ work_order_movement_id('completion_lines') }}
    where events.event_type = 'production_receipt'
)

select
    outputs.event_id,
    outputs.work_order_number,
    outputs.entity_code,
    outputs.sku,
    outputs.units,
    outputs.conversion_value,
    cast(coalesce(components.components_value, 0) + outputs.conversion_value as double)
        as output_value,
    coalesce(components.components_value, 0) as components_value
from outputs
left join components on outputs.work_order_number = components.work_order_number
