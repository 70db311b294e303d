-- Days of supply of each entity's network (docs/decisions.md, "Days of supply and stock-out
-- risk"): per date, entity and SKU, the units available at all of the entity's locations against
-- the forecast demand of the next 28 days at all of its selling locations (mart_demand_forecast:
-- the latest planning publication on or before the date), and the supplier lead time: the
-- median days from order to expected delivery that the entity's purchase order lines for the
-- SKU quoted over the trailing history_days (seed anomaly_thresholds, stock_out_risk). A SKU is
-- at risk of a stock-out when its days of supply are under that lead time even with the units
-- on order counted: an order placed today would arrive after the forecast demand has used up
-- the stock and what is already on its way. Rebuilt by load on the as-of date (docs/decisions.md,
-- "Forecast accuracy and demand rebuilt by load").
with

thresholds as (
    {{ anomaly_thresholds('stock_out_risk', ['history_days']) }}
),

inventory as (
    select
        inventory.as_of_date,
        inventory.entity_code,
        inventory.sku,
        sum(inventory.on_hand_units) as on_hand_units,
        sum(inventory.available_units) as available_units,
        sum(inventory.on_order_units) as on_order_units
    from {{ ref('mart_available_inventory') }} as inventory
    where {{ in_load_window('inventory.as_of_date') }}
    group by inventory.as_of_date, inventory.entity_code, inventory.sku
),

demand as (
    select
        forecasts.as_of_date,
        forecasts.entity_code,
        forecasts.sku,
        sum(forecasts.forecast_units_next_28_days) as forecast_units_next_28_days
    from {{ ref('mart_demand_forecast') }} as forecasts
    where {{ in_load_window('forecasts.as_of_date') }}
    group by forecasts.as_of_date, forecasts.entity_code, forecasts.sku
),

positions as (
    select
        coalesce(inventory.as_of_date, demand.as_of_date) as as_of_date,
        coalesce(inventory.entity_code, demand.entity_code) as entity_code,
        coalesce(inventory.sku, demand.sku) as sku,
        coalesce(inventory.on_hand_units, 0) as on_hand_units,
        coalesce(inventory.available_units, 0) as available_units,
        coalesce(inventory.on_order_units, 0) as on_order_units,
        coalesce(demand.forecast_units_next_28_days, 0) as forecast_units_next_28_days
    from inventory
    full outer join demand
        on
            inventory.as_of_date = demand.as_of_date
            and inventory.entity_code = demand.entity_code
            and inventory.sku = demand.sku
),

-- the lead time each purchase order line quoted (an opening delivery, ordered and expected the
-- same day, quotes none)
quoted as (
    select
        order_lines.entity_code,
        order_lines.sku,
        order_lines.order_date,
        {{ dbt.datediff('order_lines.order_date', 'order_lines.expected_date', 'day') }}
            as lead_time_days
    from {{ ref('stg_erp__purchase_order_lines') }} as order_lines
    where order_lines.expected_date > order_lines.order_date
),

lead_times as (
    select
        positions.as_of_date,
        positions.entity_code,
        positions.sku,
        {{ median('quoted.lead_time_days') }} as lead_time_days
    from positions
    cross join thresholds
    inner join quoted
        on
            positions.entity_code = quoted.entity_code
            and positions.sku = quoted.sku
            and positions.as_of_date >= quoted.order_date
            and {{ dbt.datediff('quoted.order_date', 'positions.as_of_date', 'day') }}
            < thresholds.history_days
    group by positions.as_of_date, positions.entity_code, positions.sku
)

select
    positions.as_of_date,
    positions.entity_code,
    positions.sku,
    cast(positions.on_hand_units as bigint) as on_hand_units,
    cast(positions.available_units as bigint) as available_units,
    cast(positions.on_order_units as bigint) as on_order_units,
    cast(positions.forecast_units_next_28_days as decimal(18, 2)) as forecast_units_next_28_days,
    cast(positions.forecast_units_next_28_days / 28 as decimal(18, 4)) as forecast_daily_units,
    cast(
        case
            when positions.forecast_units_next_28_days > 0
                then positions.available_units * 28 / positions.forecast_units_next_28_days
        end as decimal(18, 2)
    ) as days_of_supply,
    cast(lead_times.lead_time_days as decimal(18, 1)) as lead_time_days,
    coalesce(
        positions.forecast_units_next_28_days > 0
        and lead_times.lead_time_days is not null
        and (positions.available_units + positions.on_order_units) * 28
        < lead_times.lead_time_days * positions.forecast_units_next_28_days,
        false
    ) as is_stock_out_risk
from positions
left join lead_times
    on
        positions.as_of_date = lead_times.as_of_date
        and positions.entity_code = lead_times.entity_code
        and positions.sku = lead_times.sku
