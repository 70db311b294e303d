-- The perpetual unit ledger: every movement of stock at a location, from the system that owns
-- it. Receipts and transfers come from the ERP, issues and customer returns from the sales
-- channels, store adjustments from the ERP, DC adjustments and quality holds from the WMS.
-- WMS receipts, picks and transfer shipments mirror ERP and webshop documents and are left to
-- reconciliation (docs/decisions.md, "Sources of the inventory ledger"). Opening balances (an
-- optional ERP extract) enter at local midnight of their as-of date ("Opening balances").
-- document_line_number: the movement's line in its document, a number (none where a document
-- has one line), so that the valuation orders a document's lines 1, 2, ..., 10 and not as text.

with

receipts as (
    select
        'receipt:' || receipts.goods_receipt_number || ':'
        || cast(receipts.goods_receipt_line_number as string) as movement_id,
        'receipt' as movement_type,
        cast(null as string) as reason_code,
        receipts.location_id,
        receipts.sku,
        receipts.business_date,
        receipts.received_at as moved_at,
        receipts.received_units as on_hand_units,
        0 as quarantined_units,
        0 as in_transit_units,
        cast(null as string) as in_transit_location_id,
        cast(null as string) as channel,
        receipts.goods_receipt_number as document_number,
        cast(receipts.goods_receipt_line_number as bigint) as document_line_number,
        cast(null as string) as sales_line_id,
        cast(null as string) as original_sales_line_id,
        'erp' as source_system,
        receipts.source_file,
        receipts.source_row_number
    from {{ ref('stg_erp__goods_receipt_lines') }} as receipts
),

transfers as (
    select
        'transfer_' || transfers.event_type || ':' || transfers.transfer_number || ':'
        || cast(transfers.transfer_line_number as string) as movement_id,
        case
            when transfers.event_type = 'shipped' then 'transfer_out' else 'transfer_in'
        end as movement_type,
        cast(null as string) as reason_code,
        case
            when transfers.event_type = 'shipped' then transfers.from_location_id
            else transfers.to_location_id
        end as location_id,
        transfers.sku,
        transfers.business_date,
        transfers.event_at as moved_at,
        case
            when transfers.event_type = 'shipped' then -transfers.units else transfers.units
        end as on_hand_units,
        0 as quarantined_units,
        case
            when transfers.event_type = 'shipped' then transfers.units else -transfers.units
        end as in_transit_units,
        transfers.to_location_id as in_transit_location_id,
        cast(null as string) as channel,
        transfers.transfer_number || ':' || cast(transfers.transfer_line_number as string)
            as document_number,
        cast(transfers.transfer_line_number as bigint) as document_line_number,
        cast(null as string) as sales_line_id,
        cast(null as string) as original_sales_line_id,
        'erp' as source_system,
        transfers.source_file,
        transfers.source_row_number
    from {{ ref('stg_erp__transfer_events') }} as transfers
),

sales as (
    select
        'sale:' || sales_lines.sales_line_id as movement_id,
        case
            when not sales_lines.is_return then 'issue'
            when sales_lines.is_restocked then 'return_restock'
            else 'return_damaged'
        end as movement_type,
        cast(null as string) as reason_code,
        sales_lines.location_id,
        sales_lines.sku,
        sales_lines.business_date,
        sales_lines.transaction_at as moved_at,
        case
            when not sales_lines.is_return then -sales_lines.units
            when sales_lines.is_restocked then sales_lines.units
            else 0
        end as on_hand_units,
        0 as quarantined_units,
        0 as in_transit_units,
        cast(null as string) as in_transit_location_id,
        sales_lines.channel,
        sales_lines.order_id as document_number,
        cast(sales_lines.order_line_number as bigint) as document_line_number,
        sales_lines.sales_line_id,
        sales_lines.original_sales_line_id,
        sales_lines.source_system,
        sales_lines.source_file,
        sales_lines.source_row_number
    from {{ ref('int_sales_lines_converted') }} as sales_lines
),

store_adjustments as (
    select
        'adjustment:' || adjustments.stock_adjustment_number as movement_id,
        -- a gain at a stated cost enters the moving average at it (docs/decisions.md,
        -- "Stock adjustments at a stated cost")
        case
            when adjustments.units > 0 and adjustments.unit_cost is not null
                then 'adjustment_at_cost'
            else 'adjustment'
        end as movement_type,
        adjustments.reason_code,
        adjustments.location_id,
        adjustments.sku,
        adjustments.business_date,
        adjustments.adjusted_at as moved_at,
        adjustments.units as on_hand_units,
        0 as quarantined_units,
        0 as in_transit_units,
        cast(null as string) as in_transit_location_id,
        cast(null as string) as channel,
        adjustments.stock_adjustment_number as document_number,
        cast(null as bigint) as document_line_number,
        cast(null as string) as sales_line_id,
        cast(null as string) as original_sales_line_id,
        'erp' as source_system,
        adjustments.source_file,
        adjustments.source_row_number
    from {{ ref('stg_erp__stock_adjustments') }} as adjustments
),

opening_balances as (
    select
        {{ opening_balance_movement_id('openings') }} as movement_id,
        'opening_balance' as movement_type,
        cast(null as string) as reason_code,
        openings.location_id,
        openings.sku,
        openings.business_date,
        openings.opened_at as moved_at,
        openings.units as on_hand_units,
        0 as quarantined_units,
        0 as in_transit_units,
        cast(null as string) as in_transit_location_id,
        cast(null as string) as channel,
        'opening:' || cast(openings.business_date as string) as document_number,
        cast(null as bigint) as document_line_number,
        cast(null as string) as sales_line_id,
        cast(null as string) as original_sales_line_id,
        'erp' as source_system,
        openings.source_file,
        openings.source_row_number
    from {{ ref('stg_erp__opening_balances') }} as openings
),

-- work order completions: the output in, the components out, at the completion moment
-- (docs/decisions.md, "Kits: work order completions")
production as (
    select
        {{ work_order_movement_id('completion_lines') }} as movement_id,
        case
            when completion_lines.line_role = 'output' then 'production_receipt'
            else 'production_issue'
        end as movement_type,
        cast(null as string) as reason_code,
        completion_lines.location_id,
        completion_lines.sku,
        completion_lines.business_date,
        completion_lines.completed_at as moved_at,
        case
            when completion_lines.line_role = 'output' then completion_lines.units
            else -completion_lines.units
        end as on_hand_units,
        0 as quarantined_units,
        0 as in_transit_units,
        cast(null as string) as in_transit_location_id,
        cast(null as string) as channel,
        completion_lines.work_order_number as document_number,
        cast(completion_lines.work_order_line_number as bigint) as document_line_number,
        cast(null as string) as sales_line_id,
        cast(null as string) as original_sales_line_id,
        'erp' as source_system,
        completion_lines.source_file,
        completion_lines.source_row_number
    from {{ ref('stg_erp__work_order_completions') }} as completion_lines
),

warehouse_movements as (
    select
        'wms:' || movements.wms_site_code || ':' || movements.movement_number as movement_id,
        case
            when movements.movement_type in ('hold', 'release') then movements.movement_type
            else 'adjustment'
        end as movement_type,
        case
            when movements.movement_type in ('shrink', 'damage', 'count_correction')
                then movements.movement_type
        end as reason_code,
        movements.location_id,
        coalesce(movements.sku, '{{ var("unresolved_sku") }}') as sku,
        movements.business_date,
        movements.moved_at,
        case
            when movements.movement_type in ('shrink', 'damage') then -movements.quantity_eaches
            when movements.movement_type = 'count_correction' then movements.quantity_eaches
            else 0
        end as on_hand_units,
        case
            when movements.movement_type = 'hold' then movements.quantity_eaches
            when movements.movement_type = 'release' then -movements.quantity_eaches
            when
                movements.movement_type in ('shrink', 'damage')
                and movements.stock_status = 'hold'
                then -movements.quantity_eaches
            else 0
        end as quarantined_units,
        0 as in_transit_units,
        cast(null as string) as in_transit_location_id,
        cast(null as string) as channel,
        movements.movement_number as document_number,
        cast(null as bigint) as document_line_number,
        cast(null as string) as sales_line_id,
        cast(null as string) as original_sales_line_id,
        'wms' as source_system,
        movements.source_file,
        movements.source_row_number
    from {{ ref('int_wms_movements_resolved') }} as movements
    where
        movements.movement_type in (
            'shrink', 'damage', 'count_correction', 'hold', 'release'
        )
),

unioned as (
    select * from opening_balances
    union all
    select * from receipts
    union all
    select * from transfers
    union all
    select * from sales
    union all
    select * from store_adjustments
    union all
    select * from production
    union all
    select * from warehouse_movements
)

select * from unioned
where {{ in_load_window('unioned.business_date') }}
