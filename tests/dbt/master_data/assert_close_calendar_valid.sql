-- Returns one row per close of seed close_calendar that names no whole calendar month or closes
-- it before its last day: finance would be closing a period that is still taking business
-- dates (docs/glossary.md, Period close).

select
    closes.entity_code,
    closes.period_start_date,
    closes.closed_on
from {{ ref('close_calendar') }} as closes
where
    closes.period_start_date
    <> cast({{ dbt.date_trunc('month', 'closes.period_start_date') }} as date)
    or closes.closed_on
    < cast({{ dbt.dateadd(
        'day', -1, dbt.dateadd('month', 1, 'closes.period_start_date')
    ) }} as date)
