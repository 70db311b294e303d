-- The exception queue's volume breaks (issue 18; docs/decisions.md, "Anomalies against history
-- and peers"): a day's file of a sales feed that arrived complete (a header, rows, every store)
-- but with far fewer rows than the feed usually carries. Watched are the feeds of a sales
-- channel's daily activity (int_deliveries_assessed.sales_channel); the ERP's batch feeds
-- (receipts, transfers, invoices) are lumpy by nature and tied out by the reconciliations. The
-- baseline is the median and median absolute deviation of the rows loaded on the feed's
-- complete dates of the previous history_days days (from warmup_days after its first date, at
-- least min_history of them) or, when higher, of the same weekday's dates among them (a busy
-- weekday is judged against its own level; a quiet one never below the feed's). A day breaks
-- when its rows are at most min_ratio of the median, the median is at least min_volume rows
-- and the robust score (spread at least mad_floor of the median) reaches min_score (seed
-- anomaly_thresholds).
-- Days with no rows are the completeness controls' (missing_delivery). One exception per feed
-- and date; the impact is the net sales short of the baseline's median net sales.

with

thresholds as (
    {{ anomaly_thresholds('volume_break', [
        'warmup_days', 'history_days', 'min_history', 'min_score', 'min_ratio', 'min_volume',
        'mad_floor',
    ]) }}
),

deliveries as (
    select deliveries.*
    from {{ ref('int_deliveries_assessed') }} as deliveries
    where
        deliveries.scope_code is null
        and deliveries.sales_channel is not null
        and deliveries.is_complete
        and deliveries.rows_loaded > 0
),

feeds as (
    select
        deliveries.extract_name,
        min(deliveries.business_date) as first_date
    from deliveries
    group by deliveries.extract_name
),

observed as (
    select
        deliveries.extract_name,
        deliveries.source_system,
        deliveries.live_source_file,
        deliveries.business_date as observed_date,
        {{ dbt.datediff(
            'feeds.first_date', 'deliveries.business_date', 'day'
        ) }} as day_number,
        thresholds.warmup_days,
        thresholds.history_days,
        deliveries.rows_loaded,
        deliveries.net_sales_reporting
    from deliveries
    cross join thresholds
    inner join feeds on deliveries.extract_name = feeds.extract_name
),

{{ feed_baseline('rows_loaded') }},

-- the same weekday's earlier dates: a busy weekday is judged against its own level
{{ feed_baseline('rows_loaded', 'weekday_observed', same_weekday=true) }},

{{ feed_baseline('net_sales_reporting', 'net_sales_observed') }},

-- the baseline: the higher of all earlier dates' median and the same weekday's
chosen as (
    select
        all_days.extract_name,
        all_days.source_system,
        all_days.live_source_file,
        all_days.observed_date,
        all_days.rows_loaded,
        all_days.net_sales_reporting,
        all_days.history_count,
        same_weekday.history_count as weekday_history_count,
        coalesce(same_weekday.baseline_median > all_days.baseline_median, false) as is_weekday,
        case
            when same_weekday.baseline_median > all_days.baseline_median
                then same_weekday.baseline_median
            else all_days.baseline_median
        end as baseline_median,
        case
            when same_weekday.baseline_median > all_days.baseline_median
                then same_weekday.baseline_mad
            else all_days.baseline_mad
        end as baseline_mad
    from observed_baselined as all_days
    left join weekday_observed_baselined as same_weekday
        on
            all_days.extract_name = same_weekday.extract_name
            and all_days.observed_date = same_weekday.observed_date
),

scored as (
    select
        baselined.*,
        net_sales.baseline_median as net_sales_baseline_reporting,
        (baselined.baseline_median - baselined.rows_loaded)
        / {{ robust_spread(
            'baselined.baseline_mad', 'thresholds.mad_floor * baselined.baseline_median'
        ) }} as score,
        thresholds.min_history,
        thresholds.min_score,
        thresholds.min_ratio,
        thresholds.min_volume
    from chosen as baselined
    cross join thresholds
    left join net_sales_observed_baselined as net_sales
        on
            baselined.extract_name = net_sales.extract_name
            and baselined.observed_date = net_sales.observed_date
),

breaks as (
    select scored.*
    from scored
    where
        scored.history_count >= scored.min_history
        and scored.baseline_median >= scored.min_volume
        and scored.rows_loaded <= scored.min_ratio * scored.baseline_median
        and scored.score >= scored.min_score
)

select
    {{ dbt.hash(
        "'volume_break|' || breaks.extract_name || '|' || " ~ to_text('breaks.observed_date')
    ) }} as exception_id,
    'volume_break' as exception_type,
    breaks.extract_name || '|' || {{ to_text('breaks.observed_date') }} as natural_key,
    cast(null as {{ dbt.type_string() }}) as entity_code,
    cast(null as {{ dbt.type_string() }}) as location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    breaks.source_system,
    cast(breaks.baseline_median - breaks.rows_loaded as bigint) as affected_units,
    case
        when breaks.net_sales_baseline_reporting > breaks.net_sales_reporting
            then
                {{ round_money(
                    'breaks.net_sales_baseline_reporting - breaks.net_sales_reporting'
                ) }}
    end as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'The ' || breaks.extract_name || ' file of ' || {{ to_text('breaks.observed_date') }}
    || ' (' || breaks.live_source_file || ') loaded ' || {{ to_text('breaks.rows_loaded') }}
    || ' rows against a baseline of ' || {{ to_text('breaks.baseline_median') }}
    || ' (median of '
    || case
        when breaks.is_weekday
            then
                {{ to_text('breaks.weekday_history_count') }}
                || ' earlier complete dates of the same weekday'
        else {{ to_text('breaks.history_count') }} || ' earlier complete dates'
    end || ', MAD ' || {{ to_text('breaks.baseline_mad') }}
    || '), robust score '
    || {{ to_text('round(breaks.score, 1)') }}
    || coalesce(
        '; net sales ' || {{ to_text(round_money('breaks.net_sales_reporting')) }}
        || ' against ' || {{ to_text(round_money('breaks.net_sales_baseline_reporting')) }}
        || ' ' || {{ reporting_currency_code() }}, ''
    )
    || '. The file is complete but short: ask the source for a full re-delivery.'
        as explanation,
    breaks.observed_date as first_seen_date,
    breaks.observed_date as last_seen_date,
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from breaks
