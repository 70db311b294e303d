-- Returns every staged event (a purchase-order line: by its order date, or the date the buyer
-- closed it for the change record that closes it; a planning forecast by the date of its
-- publication) dated more than var incremental_lookback_days before the business date of the
-- file that delivered it, and every stock movement whose UTC date is more than a day before
-- that. The models rebuilt by load rebuild from the earliest business date of newly loaded
-- files less that many days (the valuation, on UTC dates, one more: macros/incremental.sql):
-- such an event would be missed by an incremental build, so the lookback must grow.
{{ config(
    severity='error',
    meta={'dagster': {'ref': {'name': 'int_inventory_movements_unioned'}}}
) }}

with

events as (
    {% for model, date_expression in [
        ('stg_pos__sales_lines', 'staged.business_date'),
        ('stg_webshop__order_events', 'staged.business_date'),
        ('stg_webshop__refund_lines', 'staged.business_date'),
        ('stg_marketplace__settlement_lines', 'staged.business_date'),
        (
            'stg_erp__purchase_order_lines',
            'coalesce(staged.closed_date, staged.order_date)',
        ),
        ('stg_erp__goods_receipt_lines', 'staged.business_date'),
        ('stg_erp__transfer_events', 'staged.business_date'),
        ('stg_erp__stock_adjustments', 'staged.business_date'),
        ('stg_erp__sales_order_lines', 'staged.business_date'),
        ('stg_wms__movements', 'staged.business_date'),
        ('stg_planning__forecasts', 'staged.forecast_created_date'),
    ] %}
        select
            '{{ model }}' as model_name,
            staged.source_file,
            {{ date_expression }} as event_date,
            0 as margin_days
        from {{ ref(model) }} as staged
        union all
    {% endfor %}
    select
        'int_inventory_movements_unioned' as model_name,
        movements.source_file,
        cast(movements.moved_at as date) as event_date,
        1 as margin_days
    from {{ ref('int_inventory_movements_unioned') }} as movements
)

select
    events.model_name,
    events.source_file,
    load_log.business_date as file_business_date,
    min(events.event_date) as earliest_event_date
from events
inner join {{ source('ingestion', 'load_log') }} as load_log
    on events.source_file = load_log.source_file
-- the files of the last build's window (every file after a full build)
where
    {{ rewritten_by_last_build(
        ref('int_inventory_movements_unioned'), 'load_log.business_date'
    ) }}
group by events.model_name, events.source_file, events.margin_days, load_log.business_date
having
    min(events.event_date)
    < load_log.business_date - {{ var('incremental_lookback_days') }} - events.margin_days
