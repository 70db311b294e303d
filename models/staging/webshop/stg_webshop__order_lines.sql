with

events as (
    select
        order_events.*,
        row_number() over (
            partition by order_events.order_id, order_events.event_type
            order by order_events.event_at desc, order_events.event_id desc
        ) as event_type_rank
    from {{ ref('stg_webshop__order_events') }} as order_events
    -- rebuilt by load per order: the orders with events in the load window's files
    where {{ keys_in_load_window(
        'order_events.order_id',
        ref('stg_webshop__order_events'),
        'order_id',
        'file_business_date',
    ) }}
),

-- the order's state is decided by event time, never by the file or order of delivery: the
-- latest event (refunds aside) gives the status; at equal times the later stage wins
status_events as (
    select
        events.order_id,
        events.event_type as order_status,
        row_number() over (
            partition by events.order_id
            order by
                events.event_at desc,
                case events.event_type
                    when 'cancelled' then 4
                    when 'shipped' then 3
                    when 'paid' then 2
                    when 'placed' then 1
                end desc
        ) as status_rank
    from events
    where events.event_type in ('placed', 'paid', 'shipped', 'cancelled')
),

placed as (
    select events.*
    from events
    where
        events.event_type = 'placed'
        and events.event_type_rank = 1
),

paid as (
    select events.*
    from events
    where
        events.event_type = 'paid'
        and events.event_type_rank = 1
),

shipped as (
    select events.*
    from events
    where
        events.event_type = 'shipped'
        and events.event_type_rank = 1
),

cancelled as (
    select events.*
    from events
    where
        events.event_type = 'cancelled'
        and events.event_type_rank = 1
),

-- one row per line of the placed event
placed_lines as (
    select
        placed.order_id,
        placed.event_id,
        placed.source_file,
        placed.source_row_number,
        placed.load_id,
        placed.loaded_at,
        cast({{ json_extract_text('order_line.value', 'line_number') }} as integer)
            as line_number,
        {{ json_extract_text('order_line.value', 'variant_sku') }} as variant_sku,
        cast({{ json_extract_text('order_line.value', 'quantity') }} as integer) as quantity,
        cast({{ json_extract_text('order_line.value', 'unit_price') }} as decimal(18, 4))
            as unit_price,
        cast(
            {{ json_extract_text('order_line.value', 'line_discount_amount') }} as decimal(18, 2)
        ) as line_discount_amount,
        cast({{ json_extract_text('order_line.value', 'tax_amount') }} as decimal(18, 2))
            as tax_amount
    from placed
    cross join lateral {{ json_array_elements('placed.lines') }} as order_line
),

order_lines as (
    select
        placed_lines.order_id,
        placed_lines.line_number,
        status_events.order_status,
        placed_lines.variant_sku,
        placed_lines.quantity,
        placed_lines.unit_price,
        placed_lines.line_discount_amount,
        placed_lines.tax_amount,
        placed.order_discount_amount,
        placed.currency_code,
        placed.customer_id,
        placed.customer_hash,
        placed.fulfillment_location_id,
        shipped.ship_from_location_id,
        placed.event_at as placed_at,
        paid.event_at as paid_at,
        shipped.event_at as shipped_at,
        cancelled.event_at as cancelled_at,
        placed.business_date as placed_business_date,
        shipped.business_date as shipped_business_date,
        placed_lines.event_id as placed_event_id,
        placed_lines.source_file,
        placed_lines.source_row_number,
        placed_lines.load_id,
        placed_lines.loaded_at
    from placed_lines
    inner join placed
        on placed_lines.event_id = placed.event_id
    inner join status_events
        on
            placed_lines.order_id = status_events.order_id
            and status_events.status_rank = 1
    left join paid
        on placed_lines.order_id = paid.order_id
    left join shipped
        on placed_lines.order_id = shipped.order_id
    left join cancelled
        on placed_lines.order_id = cancelled.order_id
)

select * from order_lines
