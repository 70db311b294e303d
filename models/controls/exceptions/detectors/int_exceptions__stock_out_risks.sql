-- The exception queue's stock-out risks (issue 18; docs/decisions.md, "Days of supply and
-- stock-out risk"): an entity whose network's days of supply of a SKU (units available at all
-- its locations over the average daily forecast demand of the next 28 days) are under the
-- supplier lead time (mart_days_of_supply): an order placed that day would arrive after the
-- forecast demand has used up the stock. Judged when the 28 days' forecast reaches min_volume
-- units (seed anomaly_thresholds). One exception per entity, SKU and run of risk dates, keyed
-- by its first date and explained by its worst date (the most days short of the lead time
-- counting the units on order, as the flag and the impact count them: the score); the impact
-- is the forecast units the stock and what is on order cannot cover within the lead time, at
-- the entity's moving-average cost, in the reporting currency.

with

thresholds as (
    {{ anomaly_thresholds('stock_out_risk', ['min_volume']) }}
),

judged as (
    select
        positions.*,
        positions.as_of_date as observed_date,
        positions.entity_code || '|' || positions.sku as subject,
        positions.lead_time_days
        - (positions.available_units + positions.on_order_units) * 28.0
        / positions.forecast_units_next_28_days as score,
        positions.is_stock_out_risk
        and positions.forecast_units_next_28_days >= thresholds.min_volume as is_outlier
    from {{ ref('mart_days_of_supply') }} as positions
    cross join thresholds
    where positions.forecast_units_next_28_days > 0
),

{{ outlier_runs('judged', ['subject']) }},

worst as (
    select
        runs.*,
        entities.functional_currency_code,
        average_costs.average_cost,
        rates.exchange_rate,
        runs.forecast_units_next_28_days * runs.lead_time_days / 28
        - runs.available_units - runs.on_order_units as short_units
    from judged_runs as runs
    inner join {{ ref('dim_entity') }} as entities
        on runs.entity_code = entities.entity_code
    left join {{ ref('int_average_cost_changes') }} as average_costs
        on
            runs.entity_code = average_costs.entity_code
            and runs.sku = average_costs.sku
            and runs.observed_date >= average_costs.valid_from_date
            and (
                average_costs.valid_until_date is null
                or runs.observed_date < average_costs.valid_until_date
            )
    {{ join_fx_rate('rates', 'runs.observed_date', 'entities.functional_currency_code') }}
    where runs.rank_in_run = 1
)

select
    {{ dbt.hash(
        "'stock_out_risk|' || worst.subject || '|' || " ~ to_text('worst.first_seen_date')
    ) }} as exception_id,
    'stock_out_risk' as exception_type,
    worst.subject || '|' || {{ to_text('worst.first_seen_date') }} as natural_key,
    worst.entity_code,
    cast(null as {{ dbt.type_string() }}) as location_id,
    worst.sku,
    'warehouse' as source_system,
    cast(ceil(worst.short_units) as bigint) as affected_units,
    {{ round_money('ceil(worst.short_units) * worst.average_cost * worst.exchange_rate') }}
        as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'On ' || {{ to_text('worst.observed_date') }} || ' ' || worst.entity_code || ' held '
    || {{ to_text('worst.on_hand_units') }} || ' units of ' || worst.sku || ' on hand ('
    || {{ to_text('worst.available_units') }} || ' available, '
    || {{ to_text('worst.on_order_units') }} || ' on order) against a forecast demand of '
    || {{ to_text('worst.forecast_units_next_28_days') }} || ' units over the next 28 days ('
    || {{ to_text('round(worst.forecast_daily_units, 1)') }} || ' a day): '
    || {{ to_text('worst.days_of_supply') }} || ' days of supply, '
    || {{ to_text('round(worst.lead_time_days - worst.score, 1)') }}
    || ' counting the units on order, against its baseline, the supplier lead time of '
    || {{ to_text('worst.lead_time_days') }}
    || ' days (median quoted by its purchase orders): short '
    || {{ to_text('round(worst.score, 1)') }} || ' days (the score); '
    || {{ to_text('ceil(worst.short_units)') }}
    || ' forecast units the stock and what is on order leave uncovered within the lead time;'
    || ' at risk on dates '
    || {{ to_text('worst.first_seen_date') }} || ' to ' || {{ to_text('worst.last_seen_date') }}
    || '. The rows: mart_days_of_supply of ' || worst.entity_code || ' and ' || worst.sku
    || ', mart_available_inventory and mart_demand_forecast behind it.' as explanation,
    worst.first_seen_date,
    worst.last_seen_date,
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from worst
