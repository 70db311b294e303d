-- Returns every staged event dated more than var incremental_lookback_days before the business
-- date of the file that delivered it. The incremental event facts rebuild from the earliest
-- business date of newly loaded files less that many days (macros/incremental.sql): such an
-- event would be missed by an incremental build, so the lookback must grow.
{{ config(severity='error') }}

with

events as (
    {% for model in [
        'stg_pos__sales_lines',
        'stg_webshop__order_events',
        'stg_webshop__refund_lines',
        'stg_marketplace__settlement_lines',
        'stg_erp__goods_receipt_lines',
        'stg_erp__transfer_events',
        'stg_erp__stock_adjustments',
        'stg_wms__movements',
    ] %}
        select
            '{{ model }}' as model_name,
            staged.source_file,
            staged.business_date
        from {{ ref(model) }} as staged
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    events.model_name,
    events.source_file,
    load_log.business_date as file_business_date,
    min(events.business_date) as earliest_event_business_date
from events
inner join {{ source('ingestion', 'load_log') }} as load_log
    on events.source_file = load_log.source_file
group by events.model_name, events.source_file, load_log.business_date
having
    min(events.business_date)
    < load_log.business_date - {{ var('incremental_lookback_days') }}
