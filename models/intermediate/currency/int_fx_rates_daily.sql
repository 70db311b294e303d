-- Daily exchange rates with the gap rule of docs/glossary.md: on a day the ERP publishes no rate
-- for a pair, the latest earlier rate holds for at most var fx_max_gap_days days; beyond that
-- the rate is null and is_beyond_gap true (an exception, never a silent 1.0). Every day from
-- the first ERP rate date (or the first business date of a fact, if earlier) through the last
-- business date of a fact (or the last rate date plus the gap limit, if later).
with

published as (
    select
        fx_rates.rate_date,
        fx_rates.from_currency_code,
        fx_rates.to_currency_code,
        fx_rates.exchange_rate
    from {{ ref('stg_erp__fx_rates') }} as fx_rates
),

observed as (
    select
        business_dates.business_date,
        business_dates.currency_code,
        business_dates.functional_currency_code
    from {{ ref('int_business_dates_observed') }} as business_dates
),

entities as (
    {{ latest_snapshot(ref('stg_erp__legal_entities'), ['entity_code']) }}
),

known_currencies as (
    select published.from_currency_code as currency_code
    from published

    union distinct

    select published.to_currency_code as currency_code
    from published

    union distinct

    select observed.currency_code
    from observed
    where observed.currency_code is not null

    union distinct

    select entities.functional_currency_code as currency_code
    from entities

    union distinct

    select {{ reporting_currency_code() }} as currency_code
),

-- every pair the ERP publishes, every identity pair, and every pair the facts need: from their
-- currency into the reporting currency and into their entity's functional currency (a pair the
-- ERP never publishes is then beyond the gap on every day)
currency_pairs as (
    select
        published.from_currency_code,
        published.to_currency_code
    from published

    union distinct

    select
        known_currencies.currency_code as from_currency_code,
        known_currencies.currency_code as to_currency_code
    from known_currencies

    union distinct

    select
        observed.currency_code as from_currency_code,
        {{ reporting_currency_code() }} as to_currency_code
    from observed
    where observed.currency_code is not null

    union distinct

    select
        observed.currency_code as from_currency_code,
        observed.functional_currency_code as to_currency_code
    from observed
    where observed.currency_code is not null and observed.functional_currency_code is not null
),

rate_bounds as (
    select
        min(published.rate_date) as first_rate_date,
        cast(
            {{ dbt.dateadd('day', var('fx_max_gap_days'), 'max(published.rate_date)') }} as date
        ) as last_covered_date
    from published
),

fact_bounds as (
    select
        min(observed.business_date) as first_business_date,
        max(observed.business_date) as last_business_date
    from observed
),

date_range as (
    select
        coalesce(
            case
                when fact_bounds.first_business_date < rate_bounds.first_rate_date
                    then fact_bounds.first_business_date
                else rate_bounds.first_rate_date
            end,
            fact_bounds.first_business_date
        ) as first_date,
        coalesce(
            case
                when fact_bounds.last_business_date > rate_bounds.last_covered_date
                    then fact_bounds.last_business_date
                else rate_bounds.last_covered_date
            end,
            fact_bounds.last_business_date
        ) as last_date
    from rate_bounds
    cross join fact_bounds
),

days as (
    select calendar_days.date_day
    from {{ ref('int_calendar_days') }} as calendar_days
    inner join date_range
        on calendar_days.date_day between date_range.first_date and date_range.last_date
),

-- each day and pair, with the latest day on or before it that has a published rate
grid as (
    select
        days.date_day,
        currency_pairs.from_currency_code,
        currency_pairs.to_currency_code,
        max(published.rate_date) over (
            partition by currency_pairs.from_currency_code, currency_pairs.to_currency_code
            order by days.date_day
            rows between unbounded preceding and current row
        ) as source_rate_date
    from days
    cross join currency_pairs
    left join published
        on
            currency_pairs.from_currency_code = published.from_currency_code
            and currency_pairs.to_currency_code = published.to_currency_code
            and days.date_day = published.rate_date
),

measured as (
    select
        grid.date_day,
        grid.from_currency_code,
        grid.to_currency_code,
        grid.source_rate_date,
        published.exchange_rate as source_exchange_rate,
        grid.from_currency_code = grid.to_currency_code as is_identity,
        {{ dbt.datediff(
            'grid.source_rate_date', 'grid.date_day', 'day'
        ) }} as gap_days
    from grid
    left join published
        on
            grid.from_currency_code = published.from_currency_code
            and grid.to_currency_code = published.to_currency_code
            and grid.source_rate_date = published.rate_date
)

select
    measured.date_day as rate_date,
    measured.from_currency_code,
    measured.to_currency_code,
    cast(
        case
            when measured.is_identity then 1
            when measured.gap_days <= {{ var('fx_max_gap_days') }}
                then measured.source_exchange_rate
        end as decimal(18, 6)
    ) as exchange_rate,
    case
        when measured.is_identity then measured.date_day else measured.source_rate_date
    end as source_rate_date,
    cast(case when measured.is_identity then 0 else measured.gap_days end as integer) as gap_days,
    coalesce(
        not measured.is_identity
        and (
            measured.source_rate_date is null
            or measured.gap_days > {{ var('fx_max_gap_days') }}
        ),
        false
    ) as is_beyond_gap
from measured
