-- The exception queue's return-rate outliers (issue 18; docs/decisions.md, "Anomalies against
-- history and peers"): a store whose sales of a rolling week (every weekday once: the
-- weekday-aware window) come back far more than its own earlier weeks' sales did. The week's
-- return rate is the units returned so far of the lines sold that week over the units sold;
-- the baseline is the median and median absolute deviation of the store's own earlier weekly
-- rates (history_days back, never overlapping the judged week). Earlier weeks have had more
-- time for their returns to come back, so the bias is against flagging. A week is an outlier
-- when its robust score, rate over baseline and returned units all pass seed
-- anomaly_thresholds. One exception
-- per store and run of flagged weeks, keyed by the first week's end date, explained by its worst
-- week; the impact is that week's refunds above the baseline rate, in the reporting currency.

with

thresholds as (
    {{ anomaly_thresholds('return_rate_outlier', [
        'window_days', 'history_days', 'min_history', 'min_score', 'min_ratio',
        'min_volume', 'mad_floor',
    ]) }}
),

store_lines as (
    select sales_lines.*
    from {{ ref('fct_sales_lines') }} as sales_lines
    inner join {{ ref('dim_location') }} as locations
        on sales_lines.location_id = locations.location_id
    where locations.location_type = 'store'
),

-- each store's sales of a day and, of those lines, what has come back so far (a return counts
-- on the day of the sale it returns: the rate of a week of sales does not depend on the
-- returns of earlier weeks' sales, so the store's first weeks need no warm-up)
returned as (
    select
        sales.location_id,
        sales.business_date,
        sum(returns.units) as units_returned,
        count(*) as return_lines,
        sum(returns.net_amount_reporting) as refunds_reporting
    from store_lines as returns
    inner join store_lines as sales
        on returns.original_sales_line_id = sales.sales_line_id
    where returns.is_return
    group by sales.location_id, sales.business_date
),

daily as (
    select
        store_lines.location_id,
        store_lines.entity_code,
        store_lines.business_date,
        sum(store_lines.units) as units_sold,
        max(coalesce(returned.units_returned, 0)) as units_returned,
        max(coalesce(returned.return_lines, 0)) as return_lines,
        max(coalesce(returned.refunds_reporting, 0)) as refunds_reporting
    from store_lines
    left join returned
        on
            store_lines.location_id = returned.location_id
            and store_lines.business_date = returned.business_date
    where not store_lines.is_return
    group by store_lines.location_id, store_lines.entity_code, store_lines.business_date
),

stores as (
    select
        daily.location_id,
        daily.entity_code,
        min(daily.business_date) as first_date,
        max(daily.business_date) as last_date
    from daily
    group by daily.location_id, daily.entity_code
),

-- every store and date (a day without a return is a zero)
store_days as (
    select
        stores.location_id,
        stores.entity_code,
        stores.first_date,
        calendar_days.date_day as business_date,
        {{ dbt.datediff(
            'stores.first_date', 'calendar_days.date_day', 'day'
        ) }} as day_number
    from stores
    inner join {{ ref('int_calendar_days') }} as calendar_days
        on calendar_days.date_day between stores.first_date and stores.last_date
),

weeks as (
    select
        store_days.location_id,
        store_days.entity_code,
        store_days.business_date as observed_date,
        store_days.day_number,
        thresholds.window_days,
        thresholds.history_days,
        {{ add_days('cast(1 - thresholds.window_days as integer)', 'store_days.business_date') }}
            as window_start_date,
        sum(coalesce(daily.units_sold, 0)) as units_sold,
        sum(coalesce(daily.units_returned, 0)) as units_returned,
        sum(coalesce(daily.return_lines, 0)) as return_lines,
        sum(coalesce(daily.refunds_reporting, 0)) as refunds_reporting
    from store_days
    cross join thresholds
    inner join daily
        on
            store_days.location_id = daily.location_id
            and store_days.business_date >= daily.business_date
            and {{ dbt.datediff(
                'daily.business_date', 'store_days.business_date', 'day'
            ) }} < thresholds.window_days
    -- full weeks only
    where store_days.day_number >= thresholds.window_days - 1
    group by
        store_days.location_id,
        store_days.entity_code,
        store_days.business_date,
        store_days.day_number,
        thresholds.window_days,
        thresholds.history_days
),

observed as (
    select
        weeks.*,
        case
            when weeks.units_sold > 0 then 1.0 * weeks.units_returned / weeks.units_sold
        end as return_rate
    from weeks
),

{{ robust_baseline(
    'observed',
    ['location_id', 'observed_date'],
    'return_rate',
    "observation.location_id = history.location_id
    and history.day_number <= observation.day_number - observation.window_days
    and history.day_number >= observation.day_number - observation.history_days"
) }},

scored as (
    select
        baselined.*,
        (baselined.return_rate - baselined.baseline_median)
        / {{ robust_spread(
            'baselined.baseline_mad', 'thresholds.mad_floor', 'baselined.baseline_median',
            'baselined.units_sold'
        ) }} as score,
        thresholds.min_score,
        thresholds.min_ratio,
        thresholds.min_volume,
        thresholds.min_history
    from observed_baselined as baselined
    cross join thresholds
),

flagged as (
    select
        scored.*,
        sum(
            case
                when
                    scored.history_count >= scored.min_history
                    and scored.score >= scored.min_score
                    and scored.return_rate >= scored.min_ratio * scored.baseline_median
                    and scored.units_returned >= scored.min_volume
                    then 0
                else 1
            end
        ) over (
            partition by scored.location_id
            order by scored.observed_date
            rows between unbounded preceding and current row
        ) as passes_so_far,
        scored.history_count >= scored.min_history
        and scored.score >= scored.min_score
        and scored.return_rate >= scored.min_ratio * scored.baseline_median
        and scored.units_returned >= scored.min_volume as is_outlier
    from scored
),

runs as (
    select
        flagged.*,
        min(flagged.observed_date) over (
            partition by flagged.location_id, flagged.passes_so_far
        ) as first_seen_date,
        max(flagged.observed_date) over (
            partition by flagged.location_id, flagged.passes_so_far
        ) as last_seen_date,
        row_number() over (
            partition by flagged.location_id, flagged.passes_so_far
            order by flagged.score desc, flagged.observed_date asc
        ) as rank_in_run
    from flagged
    where flagged.is_outlier
),

worst as (
    select
        runs.*,
        runs.refunds_reporting
        * (1 - runs.baseline_median / runs.return_rate) as excess_refunds_reporting
    from runs
    where runs.rank_in_run = 1
)

select
    {{ dbt.hash(
        "'return_rate_outlier|' || worst.location_id || '|' || " ~ to_text('worst.first_seen_date')
    ) }} as exception_id,
    'return_rate_outlier' as exception_type,
    worst.location_id || '|' || {{ to_text('worst.first_seen_date') }} as natural_key,
    worst.entity_code,
    worst.location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    'pos' as source_system,
    cast(worst.units_returned as bigint) as affected_units,
    {{ round_money('worst.excess_refunds_reporting') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'Of the ' || {{ to_text('worst.units_sold') }} || ' units store ' || worst.location_id
    || ' sold from ' || {{ to_text('worst.window_start_date') }} || ' to '
    || {{ to_text('worst.observed_date') }} || ', ' || {{ to_text('worst.units_returned') }}
    || ' came back in ' || {{ to_text('worst.return_lines') }}
    || ' return lines: a return rate of '
    || {{ to_text('round(100 * worst.return_rate, 1)') }} || '% against its own baseline of '
    || {{ to_text('round(100 * worst.baseline_median, 1)') }} || '% (median of '
    || {{ to_text('worst.history_count') }} || ' earlier weeks, MAD '
    || {{ to_text('round(100 * worst.baseline_mad, 1)') }} || ' points), robust score '
    || {{ to_text('round(worst.score, 1)') }} || '; outlier weeks ended '
    || {{ to_text('worst.first_seen_date') }} || ' to ' || {{ to_text('worst.last_seen_date') }}
    || '. The rows: fct_sales_lines returns of ' || worst.location_id
    || ' whose original_sales_line_id is a sale of that week.'
        as explanation,
    worst.first_seen_date,
    worst.last_seen_date,
    cast(null as date) as resolved_date
from worst
