-- The exception queue's reconciliation breaks: type <reconciliation>_break, one row per break of
-- mart_reconciliations beyond its tolerance. A comparison of a day's activity (sales, channel
-- orders), a receipt or a period is one exception. A balance (inventory_gl per entity,
-- on_hand_wms per DC and SKU) is compared every day, so consecutive breaking days are one
-- episode, one exception keyed by its first day; an episode that ends (the next comparison
-- passes) is resolved on that date. The impact is the latest difference in the reporting
-- currency.

with

comparisons as (
    select
        reconciliations.*,
        -- the balances, compared at the close of every day
        reconciliations.reconciliation_name in ('inventory_gl', 'on_hand_wms') as is_balance
    from {{ ref('mart_reconciliations') }} as reconciliations
    where reconciliations.status in ('pass', 'break')
),

-- what is compared (without the reconciliation's name, and for a balance without the date)
series as (
    select
        comparisons.*,
        case
            when comparisons.is_balance
                then replace(
                    comparisons.comparison_id,
                    '|' || {{ to_text('comparisons.comparison_date') }},
                    ''
                )
            else comparisons.comparison_id
        end as series_id
    from comparisons
),

ordered as (
    select
        series.*,
        sum(case when series.status = 'pass' then 1 else 0 end) over (
            partition by series.series_id
            order by series.comparison_date
            rows between unbounded preceding and current row
        ) as passes_so_far
    from series
),

episodes as (
    select
        ordered.series_id,
        ordered.passes_so_far,
        min(ordered.comparison_date) as first_seen_date,
        max(ordered.comparison_date) as last_seen_date,
        count(*) as break_count
    from ordered
    where ordered.status = 'break'
    group by
        ordered.series_id,
        ordered.passes_so_far
),

latest_breaks as (
    select
        ordered.*,
        row_number() over (
            partition by ordered.series_id, ordered.passes_so_far
            order by ordered.comparison_date desc
        ) as recency_rank
    from ordered
    where ordered.status = 'break'
),

-- the first passing comparison after an episode ends it
resolutions as (
    select
        ordered.series_id,
        ordered.comparison_date as resolved_date,
        ordered.passes_so_far - 1 as episode_passes_so_far
    from ordered
    where ordered.status = 'pass'
),

described as (
    select
        latest_breaks.reconciliation_name,
        latest_breaks.reconciliation_name || '_break' as exception_type,
        substring(
            latest_breaks.series_id,
            length(latest_breaks.reconciliation_name) + 2
        ) || case
            when latest_breaks.is_balance
                then '|' || {{ to_text('episodes.first_seen_date') }}
            else ''
        end as natural_key,
        latest_breaks.entity_code,
        latest_breaks.location_id,
        latest_breaks.sku,
        case latest_breaks.reconciliation_name
            when 'on_hand_wms' then 'wms'
            when 'books_revenue' then 'warehouse'
            when 'books_cogs' then 'warehouse'
            when 'books_inventory' then 'warehouse'
            else 'erp'
        end as source_system,
        case
            when latest_breaks.value_unit = 'units'
                then cast(abs(latest_breaks.difference_value) as bigint)
        end as affected_units,
        abs(latest_breaks.difference_value_reporting) as affected_value_reporting,
        latest_breaks.reporting_currency_code,
        latest_breaks.explanation
        || case
            when episodes.break_count > 1
                then
                    ' It broke on ' || {{ to_text('episodes.break_count') }}
                    || ' consecutive comparisons from '
                    || {{ to_text('episodes.first_seen_date') }} || '.'
            else ''
        end
        || case
            when resolutions.resolved_date is not null
                then
                    ' Back within tolerance on ' || {{ to_text('resolutions.resolved_date') }}
                    || '.'
            else ''
        end as explanation,
        episodes.first_seen_date,
        episodes.last_seen_date,
        resolutions.resolved_date
    from latest_breaks
    inner join episodes
        on
            latest_breaks.series_id = episodes.series_id
            and latest_breaks.passes_so_far = episodes.passes_so_far
    left join resolutions
        on
            latest_breaks.series_id = resolutions.series_id
            and latest_breaks.passes_so_far = resolutions.episode_passes_so_far
    where latest_breaks.recency_rank = 1
)

select
    {{ dbt.hash("described.exception_type || '|' || described.natural_key") }} as exception_id,
    described.exception_type,
    described.natural_key,
    described.entity_code,
    described.location_id,
    described.sku,
    described.source_system,
    described.affected_units,
    cast(described.affected_value_reporting as decimal(18, 2)) as affected_value_reporting,
    described.reporting_currency_code,
    described.explanation,
    described.first_seen_date,
    described.last_seen_date,
    described.resolved_date,
    cast(null as date) as raised_date
from described
