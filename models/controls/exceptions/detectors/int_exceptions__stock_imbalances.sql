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

-- the first date each location held each SKU: its sales count from then on
first_positions as (
    select
        positions.location_id,
        positions.sku,
        min(positions.valid_from_date) as first_position_date
    from {{ ref('int_inventory_position_changes') }} as positions
    group by positions.location_id, positions.sku
),

-- each store's position ranges of each SKU (contiguous, the last open), with its available units
store_ranges as (
    select
        positions.location_id,
        positions.entity_code,
        positions.sku,
        positions.valid_from_date,
        positions.valid_until_date,
        first_positions.first_position_date,
        positions.on_hand_units - positions.reserved_units - positions.quarantined_units
            as available_units
    from {{ ref('int_inventory_position_changes') }} as positions
    inner join stores on positions.location_id = stores.location_id
    inner join first_positions
        on
            positions.location_id = first_positions.location_id
            and positions.sku = first_positions.sku
    where positions.sku <> '{{ var("unresolved_sku") }}'
),

-- the ranges out of stock, each with the last day of the latest earlier range in stock
out_ranges as (
    select
        out_of_stock.location_id,
        out_of_stock.entity_code,
        out_of_stock.sku,
        out_of_stock.valid_from_date,
        out_of_stock.valid_until_date,
        out_of_stock.first_position_date,
        max({{ add_days(-1, 'in_stock.valid_until_date') }}) as last_date_in_stock
    from store_ranges as out_of_stock
    left join store_ranges as in_stock
        on
            out_of_stock.location_id = in_stock.location_id
            and out_of_stock.sku = in_stock.sku
            and out_of_stock.valid_from_date > in_stock.valid_from_date
            and in_stock.available_units > 0
    where out_of_stock.available_units <= 0
    group by
        out_of_stock.location_id,
        out_of_stock.entity_code,
        out_of_stock.sku,
        out_of_stock.valid_from_date,
        out_of_stock.valid_until_date,
        out_of_stock.first_position_date
),

-- every day of the span of the sales (bounds) a store is out of a SKU, and the last day it was
-- in stock within the span (day numbers from the span's first day)
out_days as (
    select
        ranges.location_id,
        ranges.entity_code,
        ranges.sku,
        ranges.first_position_date,
        calendar_days.date_day as business_date,
        {{ dbt.datediff(
            'bounds.first_date', 'calendar_days.date_day', 'day'
        ) }} as day_number,
        case
            when ranges.last_date_in_stock >= bounds.first_date
                then {{ dbt.datediff('bounds.first_date', 'ranges.last_date_in_stock', 'day') }}
        end as last_day_in_stock
    from out_ranges as ranges
    cross join bounds
    inner join {{ ref('int_calendar_days') }} as calendar_days
        on
            ranges.valid_from_date <= calendar_days.date_day
            and (
                ranges.valid_until_date is null
                or ranges.valid_until_date > calendar_days.date_day
            )
            and calendar_days.date_day between bounds.first_date and bounds.last_date
),

-- out for min_out_days or more (never in stock within the span: since its first day)
starved_days as (
    select
        out_days.location_id,
        out_days.entity_code,
        out_days.sku,
        out_days.first_position_date,
        out_days.business_date,
        out_days.day_number - coalesce(out_days.last_day_in_stock, -1) as days_out
    from out_days
    cross join thresholds
    where
        out_days.day_number - coalesce(out_days.last_day_in_stock, -1)
        >= thresholds.min_out_days
),

-- on each of those days, every sister store of the entity that holds the SKU, and its
-- available units that day
sister_days as (
    select
        starved.location_id,
        starved.sku,
        starved.business_date,
        sisters.location_id as sister_location_id,
        sisters.first_position_date,
        sisters.available_units
    from starved_days as starved
    inner join store_ranges as sisters
        on
            starved.entity_code = sisters.entity_code
            and starved.sku = sisters.sku
            and starved.location_id <> sisters.location_id
            and starved.business_date >= sisters.valid_from_date
            and (
                sisters.valid_until_date is null
                or starved.business_date < sisters.valid_until_date
            )
),

-- the store and SKU days judged: the starved ones and their sisters'
judged_days as (
    select
        starved_days.location_id,
        starved_days.sku,
        starved_days.business_date,
        starved_days.first_position_date
    from starved_days
    union
    select
        sister_days.sister_location_id as location_id,
        sister_days.sku,
        sister_days.business_date,
        sister_days.first_position_date
    from sister_days
),

-- a store's average daily units sold of a SKU over the trailing history_days to a day (the
-- days it held the SKU within them; none held: the days since it first did)
averages as (
    select
        judged_days.location_id,
        judged_days.sku,
        judged_days.business_date,
        coalesce(sum(sold.units_sold), 0) / thresholds.history_days as average_daily_units
    from judged_days
    cross join thresholds
    left join sold
        on
            judged_days.location_id = sold.location_id
            and judged_days.sku = sold.sku
            and judged_days.business_date >= sold.business_date
            and judged_days.first_position_date <= sold.business_date
            and {{ dbt.datediff('sold.business_date', 'judged_days.business_date', 'day') }}
            < thresholds.history_days
    group by
        judged_days.location_id,
        judged_days.sku,
        judged_days.business_date,
        thresholds.history_days
),

supplied as (
    select
        starved_days.location_id,
        starved_days.entity_code,
        starved_days.sku,
        starved_days.business_date,
        starved_days.days_out,
        averages.average_daily_units
    from starved_days
    inner join averages
        on
            starved_days.location_id = averages.location_id
            and starved_days.sku = averages.sku
            and starved_days.business_date = averages.business_date
),

sisters_supplied as (
    select
        sister_days.*,
        averages.average_daily_units
    from sister_days
    inner join averages
        on
            sister_days.sister_location_id = averages.location_id
            and sister_days.sku = averages.sku
            and sister_days.business_date = averages.business_date
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
        sister.sister_location_id,
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
                sister.sister_location_id asc
        ) as sister_rank
    from supplied as starved
    cross join thresholds
    inner join sisters_supplied as sister
        on
            starved.location_id = sister.location_id
            and starved.sku = sister.sku
            and starved.business_date = sister.business_date
    where
        sister.available_units - thresholds.overstock_days * sister.average_daily_units
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
    end as resolved_date,
    cast(null as date) as raised_date
from valued
