-- Returns every posting event of a closed period whose file was delivered after the close and
-- that does not post as an adjustment of that period (docs/glossary.md, Period close): the
-- closed period's balances would change. int_late_posting_periods pairs a close only with the
-- files that can hold the period's events (by the date in the file's name); this test proves
-- no event falls outside that scope.
{{ config(
    severity='error',
    meta={'dagster': {'ref': {'name': 'fct_gl_posting_events'}}}
) }}

with

deliveries as (
    select
        load_log.source_file,
        max(load_log.delivery_date) as delivery_date
    from {{ source('ingestion', 'load_log') }} as load_log
    where load_log.delivery_date is not null
    group by load_log.source_file
)

select
    events.event_id,
    events.entity_code,
    events.business_date,
    events.source_file,
    deliveries.delivery_date,
    closes.closed_on,
    events.adjusts_period_start_date
from {{ ref('fct_gl_posting_events') }} as events
inner join deliveries on events.source_file = deliveries.source_file
inner join {{ ref('close_calendar') }} as closes
    on
        events.entity_code = closes.entity_code
        and cast({{ dbt.date_trunc('month', 'events.business_date') }} as date)
        = cast(closes.period_start_date as date)
where
    deliveries.delivery_date > cast(closes.closed_on as date)
    and (
        events.adjusts_period_start_date is null
        or events.adjusts_period_start_date <> cast(closes.period_start_date as date)
    )
