-- Where a file delivered after a period's close posts that period's events (docs/glossary.md,
-- Period close; docs/decisions.md, "Period close"): one row per entity, period closed in seed
-- close_calendar and landing file delivered after the close date. The file's events dated in
-- that period post into the first period of the entity still open at the file's delivery date
-- (a later month with no close, or one closed on or after that date), on the delivery date,
-- moved into that period if it lies outside it. Lateness is decided from the delivery folder's
-- date (raw.load_log) and the seed, so a full refresh decides exactly as the builds before it.
-- Only files that can hold the closed period's events are paired with its close: those whose
-- business date (the date in the file name) lies from the day before the period's first day (a
-- file of a UTC date holds events of the next local date east of UTC) to its last day plus the
-- load lookback and two days (test assert_events_within_the_load_lookback: an event is at most
-- incremental_lookback_days older than its file, a stock movement's UTC date one day more, and
-- its local date one more again), and every file of the extracts whose events post on a date
-- the file's does not bound: supplier invoices (an invoice posts on its invoice date) and the
-- webshop's order events (a sale takes its placement file as its source and posts when it
-- ships, possibly weeks later; docs/decisions.md, "Period close").
-- Any other file delivered after the close
-- holds no event of the period: pairing it would only make the valuation and the KPI marts
-- read it (docs/decisions.md, "Period close").
{%- set unbounded_extracts = ['erp_supplier_invoices', 'webshop_order_events'] %}

with

closes as (
    select
        close_calendar.entity_code,
        cast(close_calendar.period_start_date as date) as period_start_date,
        cast(close_calendar.closed_on as date) as closed_on
    from {{ ref('close_calendar') }} as close_calendar
),

files as (
    select distinct
        load_log.source_file,
        load_log.extract_name,
        load_log.business_date,
        load_log.delivery_date
    from {{ source('ingestion', 'load_log') }} as load_log
    where
        load_log.extract_name is not null
        and load_log.delivery_date is not null
        and load_log.business_date is not null
),

months as (
    select
        cast({{ dbt.date_trunc('month', 'calendar_days.date_day') }} as date)
            as period_start_date,
        max(calendar_days.date_day) as period_end_date
    from {{ ref('int_calendar_days') }} as calendar_days
    group by cast({{ dbt.date_trunc('month', 'calendar_days.date_day') }} as date)
),

late_files as (
    select
        closes.entity_code,
        closes.period_start_date as adjusts_period_start_date,
        files.source_file,
        files.delivery_date
    from closes
    inner join files
        on
            closes.closed_on < files.delivery_date
            and (
                files.extract_name in (
                    {%- for name in unbounded_extracts %}
                        '{{ name }}'{{ ',' if not loop.last }}
                    {%- endfor %}
                )
                or files.business_date
                between cast({{ dbt.dateadd('day', -1, 'closes.period_start_date') }} as date)
                and cast({{ dbt.dateadd(
                    'day',
                    var('incremental_lookback_days') | int + 1,
                    dbt.dateadd('month', 1, 'closes.period_start_date'),
                ) }} as date)
            )
),

-- the later months still open at the delivery
open_months as (
    select
        late_files.entity_code,
        late_files.adjusts_period_start_date,
        late_files.source_file,
        late_files.delivery_date,
        months.period_start_date
    from late_files
    inner join months on late_files.adjusts_period_start_date < months.period_start_date
    left join closes as later_closes
        on
            late_files.entity_code = later_closes.entity_code
            and months.period_start_date = later_closes.period_start_date
            and late_files.delivery_date > later_closes.closed_on
    where later_closes.entity_code is null
),

first_open as (
    select
        open_months.entity_code,
        open_months.adjusts_period_start_date,
        open_months.source_file,
        open_months.delivery_date,
        min(open_months.period_start_date) as posting_period_start_date
    from open_months
    group by
        open_months.entity_code,
        open_months.adjusts_period_start_date,
        open_months.source_file,
        open_months.delivery_date
)

select
    first_open.entity_code,
    first_open.adjusts_period_start_date,
    first_open.source_file,
    first_open.delivery_date,
    first_open.posting_period_start_date,
    case
        when first_open.delivery_date < months.period_start_date then months.period_start_date
        when first_open.delivery_date > months.period_end_date then months.period_end_date
        else first_open.delivery_date
    end as posting_date
from first_open
inner join months on first_open.posting_period_start_date = months.period_start_date
