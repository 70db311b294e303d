with

refunded as (
    select order_events.*
    from {{ ref('stg_webshop__order_events') }} as order_events
    where
        order_events.event_type = 'refunded'
        -- rebuilt by load per order: the orders with events in the load window's files
        and {{ keys_in_load_window(
            'order_events.order_id',
            ref('stg_webshop__order_events'),
            'order_id',
            'file_business_date',
        ) }}
),

-- one row per line of the refunded event
refund_lines as (
    select
        refunded.event_id,
        refunded.order_id,
        refunded.event_at as refunded_at,
        refunded.business_date,
        refunded.event_location_id as location_id,
        refunded.currency_code,
        refunded.source_file,
        refunded.source_row_number,
        refunded.load_id,
        refunded.loaded_at,
        cast({{ json_extract_text('refund_line.value', 'line_number') }} as integer)
            as line_number,
        cast({{ json_extract_text('refund_line.value', 'quantity') }} as integer) as quantity,
        cast(
            {{ json_extract_text('refund_line.value', 'refund_amount') }} as decimal(18, 2)
        ) as refund_amount,
        cast(
            {{ json_extract_text('refund_line.value', 'refund_tax_amount') }} as decimal(18, 2)
        ) as refund_tax_amount,
        cast({{ json_extract_text('refund_line.value', 'restock') }} as boolean) as is_restocked
    from refunded
    cross join lateral {{ json_array_elements('refunded.refund_lines') }} as refund_line
)

select
    refund_lines.event_id,
    refund_lines.line_number,
    refund_lines.order_id,
    refund_lines.refunded_at,
    refund_lines.business_date,
    refund_lines.location_id,
    refund_lines.quantity,
    refund_lines.refund_amount,
    refund_lines.refund_tax_amount,
    refund_lines.currency_code,
    refund_lines.is_restocked,
    refund_lines.source_file,
    refund_lines.source_row_number,
    refund_lines.load_id,
    refund_lines.loaded_at
from refund_lines
