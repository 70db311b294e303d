-- One row per calendar day, over a range the data sets (docs/decisions.md, "The calendar spans
-- the data"): from 1 January of the year before the earliest business date of any file loaded
-- (raw.load_log, rejected files aside) through 31 December of the year after the latest. The
-- year before covers the opening FX rates and price lists dated before the first delivery; the
-- year after covers forecasts and the rest of the latest retail year. An empty landing zone
-- gives the years around today.
with

loaded as (
    select
        coalesce(min(load_log.business_date), current_date) as first_business_date,
        coalesce(max(load_log.business_date), current_date) as last_business_date
    from {{ source('ingestion', 'load_log') }} as load_log
    where load_log.extract_name is not null and load_log.status <> 'rejected'
),

bounds as (
    select
        cast({{ dbt.date_trunc(
            'year', dbt.dateadd('year', -1, 'loaded.first_business_date')
        ) }} as date) as first_date,
        cast({{ dbt.dateadd(
            'day',
            -1,
            dbt.date_trunc('year', dbt.dateadd('year', 2, 'loaded.last_business_date')),
        ) }} as date) as last_date
    from loaded
),

-- 1 .. 2^17 (over 350 years of days), cut to the bounds
numbers as (
    {{ dbt.generate_series(131072) }}
)

select
    cast({{ dbt.dateadd('day', 'numbers.generated_number - 1', 'bounds.first_date') }} as date)
        as date_day
from numbers
cross join bounds
where
    numbers.generated_number - 1
    <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}
