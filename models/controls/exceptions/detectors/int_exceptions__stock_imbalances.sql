-- The exception queue's stock imbalances (issue 18; docs/decisions.md, "Anomalies against
-- history and peers"): a SKU out of stock at a store for min_out_days days or more while a
-- sister store of the same entity holds more of it than overstock_days of its own sales (its
-- average daily units sold over the trailing history_days), by at least min_volume units (seed
-- anomaly_thresholds). One exception per starved store, SKU and stock-out, keyed by the first
-- day without stock, naming the sister store with the largest excess and the transfer that
-- would fix it (the excess, up to cover_days of the starved store's average sales). The
-- impact is the excess units at the entity's moving-average cost, in the reporting currency;
-- resolved on the first day the condition no longer holds.

with

thresholds as (
    {{ anomaly_thresholds('stock_imbalance', [
        'history_days', 'min_out_days', 'overstock_days', 'min_volume', 'cover_days',
    ]) }}
),

stores as (
    select
        locations.location_id,
        locations.entity_code,
        locations.functional_currency_code
    from {{ ref('dim_location') }} as locations
    where locations.location_type = 'store'
),

sold as (
    select
        sales_lines.location_id,
        sales_lines.sku,
        sales_lines.business_date,
        sum(case when sales_lines.is_return then 0 else sales_lines.units end) as units_sold
    from {{ ref('fct_sales_lines') }} as sales_lines
    inner join stores on sales_lines.location_id = stores.location_id
    where sales_lines.sku <> '{{ var("unresolved_sku") }}'
    group by sales_lines.location_id, sales_lines.sku, sales_lines.business_date
),

bounds as (
    select
        min(sold.business_date) as first_date,
        max(sold.business_date) as last_date
    from sold
),

-- each store's available units of each SKU on every date, and its units sold to date
store_days as (
    select
        positions.location_id,
        positions.entity_code,
        positions.sku,
        calendar_days.date_day as business_date,
        {{ dbt.datediff(
            'bounds.first_date', 'calendar_days.date_day', 'day'
        ) }} as day_number,
        positions.on_hand_units - positions.reserved_units - positions.quarantined_units
            as available_units,
        coalesce(sold.units_sold, 0) as units_sold
    from {{ ref('int_inventory_position_changes') }} as positions
    inner join stores on positions.location_id = stores.location_id
    cross join bounds
    inner join {{ ref('int_calendar_days') }} as calendar_days
        on
            positions.valid_from_date <= calendar_days.date_day
            and (
                positions.valid_until_date is null
                or positions.valid_until_date > calendar_days.date_day
            )
            and calendar_days.date_day between bounds.first_date and bounds.last_date
    left join sold
        on
            positions.location_id = sold.location_id
            and positions.sku = sold.sku
            and calendar_days.date_day = sold.business_date
    where positions.sku <> '{{ var("unresolved_sku") }}'
),

cumulated as (
    select
        store_days.*,
        sum(store_days.units_sold) over (
            partition by store_days.location_id, store_days.sku
            order by store_days.business_date
            rows between unbounded preceding and current row
        ) as units_sold_to_date,
        max(case when store_days.available_units > 0 then store_days.day_number end) over (
            partition by store_days.location_id, store_days.sku
            order by store_days.business_date
            rows between unbounded preceding and current row
        ) as last_day_in_stock
    from store_days
),

supplied as (
    select
        cumulated.*,
        (cumulated.units_sold_to_date - coalesce(earlier.units_sold_to_date, 0))
        / thresholds.history_days as average_daily_units,
        cumulated.day_number - coalesce(cumulated.last_day_in_stock, -1) as days_out
    from cumulated
    cross join thresholds
    left join cumulated as earlier
        on
            cumulated.location_id = earlier.location_id
            and cumulated.sku = earlier.sku
            and earlier.day_number = cumulated.day_number - thresholds.history_days
),

pairs as (
    select
        starved.location_id,
        starved.entity_code,
        starved.sku,
        starved.business_date,
        starved.days_out,
        {{ add_days('cast(1 - starved.days_out as integer)', 'starved.business_date') }}
            as out_since_date,
        starved.average_daily_units as starved_average_daily_units,
        sister.location_id as sister_location_id,
        sister.available_units as sister_available_units,
        sister.average_daily_units as sister_average_daily_units,
        sister.available_units - thresholds.overstock_days * sister.average_daily_units
            as excess_units,
        thresholds.cover_days,
        thresholds.overstock_days,
        row_number() over (
            partition by starved.location_id, starved.sku, starved.business_date
            order by
                sister.available_units
                - thresholds.overstock_days * sister.average_daily_units desc,
                sister.location_id asc
        ) as sister_rank
    from supplied as starved
    cross join thresholds
    inner join supplied as sister
        on
            starved.entity_code = sister.entity_code
            and starved.sku = sister.sku
            and starved.business_date = sister.business_date
            and starved.location_id <> sister.location_id
    where
        starved.available_units <= 0
        and starved.days_out >= thresholds.min_out_days
        and sister.available_units - thresholds.overstock_days * sister.average_daily_units
        >= thresholds.min_volume
),

flagged as (
    select
        pairs.*,
        max(pairs.business_date) over (
            partition by pairs.location_id, pairs.sku, pairs.out_since_date
        ) as last_seen_date,
        min(pairs.business_date) over (
            partition by pairs.location_id, pairs.sku, pairs.out_since_date
        ) as first_seen_date,
        row_number() over (
            partition by pairs.location_id, pairs.sku, pairs.out_since_date
            order by pairs.business_date desc
        ) as latest_rank
    from pairs
    where pairs.sister_rank = 1
),

latest as (
    select
        flagged.*,
        cast(floor(flagged.excess_units) as bigint) as excess_whole_units,
        cast(
            case
                when
                    ceiling(flagged.cover_days * flagged.starved_average_daily_units)
                    < floor(flagged.excess_units)
                    then
                        case
                            when flagged.starved_average_daily_units > 0
                                then
                                    ceiling(
                                        flagged.cover_days * flagged.starved_average_daily_units
                                    )
                            else 1
                        end
                else floor(flagged.excess_units)
            end as bigint
        ) as transfer_units
    from flagged
    where flagged.latest_rank = 1
),

valued as (
    select
        latest.*,
        bounds.last_date,
        stores.functional_currency_code,
        latest.excess_whole_units * average_costs.average_cost as excess_value,
        latest.excess_whole_units * average_costs.average_cost * rates.exchange_rate
            as excess_value_reporting
    from latest
    cross join bounds
    inner join stores on latest.location_id = stores.location_id
    left join {{ ref('int_average_cost_changes') }} as average_costs
        on
            latest.entity_code = average_costs.entity_code
            and latest.sku = average_costs.sku
            and latest.business_date >= average_costs.valid_from_date
            and (
                average_costs.valid_until_date is null
                or latest.business_date < average_costs.valid_until_date
            )
    {{ join_fx_rate('rates', 'latest.business_date', 'stores.functional_currency_code') }}
)

select
    {{ dbt.hash(
        "'stock_imbalance|' || valued.location_id || '|' || valued.sku || '|' || "
        ~ to_text('valued.out_since_date')
    ) }} as exception_id,
    'stock_imbalance' as exception_type,
    valued.location_id || '|' || valued.sku || '|' || {{ to_text('valued.out_since_date') }}
        as natural_key,
    valued.entity_code,
    valued.location_id,
    valued.sku,
    'warehouse' as source_system,
    cast(valued.excess_whole_units as bigint) as affected_units,
    {{ round_money('valued.excess_value_reporting') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    valued.sku || ' has been out of stock at ' || valued.location_id || ' since '
    || {{ to_text('valued.out_since_date') }} || ' (' || {{ to_text('valued.days_out') }}
    || ' days on ' || {{ to_text('valued.business_date') }} || '; it sold '
    || {{ to_text('round(valued.starved_average_daily_units, 2)') }}
    || ' units a day before) while ' || valued.sister_location_id || ' holds '
    || {{ to_text('valued.sister_available_units') }} || ' available: '
    || case
        when valued.sister_average_daily_units > 0
            then {{ to_text(
                'round(valued.sister_available_units / valued.sister_average_daily_units, 1)'
            ) }}
        else 'unbounded'
    end || ' days of supply (the score) at its baseline of '
    || {{ to_text('round(valued.sister_average_daily_units, 2)') }}
    || ' units a day, against a bar of ' || {{ to_text('cast(valued.overstock_days as integer)') }}
    || ' days: ' || {{ to_text('valued.excess_whole_units') }} || ' units in excess'
    || coalesce(
        ' (' || {{ to_text(round_money('valued.excess_value')) }} || ' '
        || valued.functional_currency_code || ' at moving-average cost)', ''
    )
    || '. Transfer ' || {{ to_text('valued.transfer_units') }} || ' units of ' || valued.sku
    || ' from ' || valued.sister_location_id || ' to ' || valued.location_id
    || '. The rows: int_inventory_position_changes of both stores.' as explanation,
    valued.first_seen_date,
    valued.last_seen_date,
    case
        when valued.last_seen_date < valued.last_date
            then {{ add_days(1, 'valued.last_seen_date') }}
    end as resolved_date
from valued
