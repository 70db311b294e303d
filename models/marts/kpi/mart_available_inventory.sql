-- Available inventory as of any date (docs/glossary.md), daily grain: as_of_date x entity x
-- location x SKU, expanded from the ranges in which positions stay unchanged. Rebuilt by load
-- from the window's first date on: every new event is dated inside the window, and so is every
-- receipt whose landed cost a new freight or duty invoice changes (int_receipt_costs_backdated),
-- so positions and costs before it stay as they were (docs/decisions.md).
-- available = on hand - reserved - quarantined, never clipped; inventory value = on hand x the
-- moving-average cost at the close of the date.
-- depends_on: {{ ref('int_receipt_costs_backdated') }}

with

positions as (
    select * from {{ ref('int_inventory_position_changes') }}
),

last_date as (
    select max(positions.valid_from_date) as last_business_date from positions
),

-- the dates of the build: the load window's (every date on a full build) up to the last one
days as (
    select dates.date_day
    from {{ ref('dim_date') }} as dates
    cross join last_date
    where
        dates.date_day <= last_date.last_business_date
        and {{ in_load_window('dates.date_day') }}
),

daily as (
    select
        days.date_day as as_of_date,
        positions.entity_code,
        positions.location_id,
        positions.sku,
        positions.on_hand_units,
        positions.reserved_units,
        positions.quarantined_units,
        positions.in_transit_units,
        positions.on_order_units
    from positions
    cross join last_date
    inner join days
        on
            positions.valid_from_date <= days.date_day
            and coalesce(
                positions.valid_until_date, last_date.last_business_date + 1
            ) > days.date_day
    where
        positions.on_hand_units <> 0
        or positions.reserved_units <> 0
        or positions.quarantined_units <> 0
        or positions.in_transit_units <> 0
        or positions.on_order_units <> 0
)

select
    daily.as_of_date,
    daily.entity_code,
    daily.location_id,
    daily.sku,
    cast(daily.on_hand_units as bigint) as on_hand_units,
    cast(daily.reserved_units as bigint) as reserved_units,
    cast(daily.quarantined_units as bigint) as quarantined_units,
    cast(daily.in_transit_units as bigint) as in_transit_units,
    cast(daily.on_order_units as bigint) as on_order_units,
    cast(daily.on_hand_units - daily.reserved_units - daily.quarantined_units as bigint)
        as available_units,
    {{ round_money('daily.on_hand_units * average_costs.average_cost') }} as inventory_value,
    entities.functional_currency_code as currency_code,
    {{ to_currency('daily.on_hand_units * average_costs.average_cost', 'rates') }}
        as inventory_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code
from daily
{{ join_average_cost('average_costs', 'daily.entity_code', 'daily.sku', 'daily.as_of_date') }}
left join {{ ref('dim_entity') }} as entities on daily.entity_code = entities.entity_code
{{ join_fx_rate('rates', 'daily.as_of_date', 'entities.functional_currency_code') }}
