-- One row per calendar day from var calendar_start_date through var calendar_end_date.
with

spine as (
    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('calendar_start_date') ~ "' as date)",
        "cast('" ~ var('calendar_end_date') ~ "' as date)",
    ) }}
)

select cast(spine.date_day as date) as date_day
from spine
