-- Step 1 of the sales chain: every sale and return line of every channel (seed channels) in one
-- shape, in transaction currency, before order-level discounts are allocated and codes
-- resolved. Sales are recognised when goods leave: POS at the till, webshop at shipment,
-- marketplace at settlement, wholesale at shipment from the DC. Returns carry the value the
-- source refunded or credited (gross less discount).
-- Unit prices keep the source's decimals (up to four); a line's gross is units x unit price
-- rounded to cents on the line (docs/decisions.md, "Rounding of money").

with

-- the stores' lines, and those a closed period keeps of a file delivered again after its close
-- with their reversals (int_pos_sales_lines_restated; docs/glossary.md, Period close)
pos_lines as (
    select
        live.pos_store_code,
        live.receipt_number,
        live.receipt_line_number,
        live.transaction_type,
        live.original_receipt_number,
        live.original_receipt_line_number,
        live.return_condition,
        live.barcode,
        live.location_id,
        live.business_date,
        live.transaction_at,
        live.quantity,
        live.unit_price,
        live.discount_amount,
        live.tax_amount,
        live.currency_code,
        live.source_file,
        live.source_row_number,
        '' as line_version,
        cast(null as string) as restatement_role,
        '' as original_line_version
    from {{ ref('stg_pos__sales_lines') }} as live
    union all
    select * from {{ ref('int_pos_sales_lines_restated') }}
),

pos as (
    select
        'store' as channel,
        'pos' as source_system,
        'pos:' || pos_lines.pos_store_code || ':' || pos_lines.receipt_number || ':'
        || cast(pos_lines.receipt_line_number as string) || pos_lines.line_version
            as sales_line_id,
        pos_lines.receipt_number as order_id,
        pos_lines.receipt_line_number as order_line_number,
        pos_lines.transaction_type = 'return' as is_return,
        case
            when pos_lines.transaction_type = 'return'
                then
                    'pos:' || pos_lines.pos_store_code || ':'
                    || pos_lines.original_receipt_number || ':'
                    || cast(pos_lines.original_receipt_line_number as string)
                    || pos_lines.original_line_version
        end as original_sales_line_id,
        coalesce(pos_lines.return_condition = 'restock', false) as is_restocked,
        pos_lines.barcode as source_item_code,
        pos_lines.location_id,
        pos_lines.business_date,
        pos_lines.transaction_at,
        pos_lines.quantity as units,
        pos_lines.unit_price,
        {{ round_money('pos_lines.quantity * pos_lines.unit_price') }} as gross_amount,
        pos_lines.discount_amount as line_discount_amount,
        cast(0 as decimal(18, 2)) as order_discount_amount,
        pos_lines.tax_amount,
        cast(0 as decimal(18, 2)) as fee_amount,
        pos_lines.currency_code,
        cast(null as string) as customer_hash,
        cast(null as string) as customer_account,
        pos_lines.source_file,
        pos_lines.source_row_number,
        -- a line a closed period keeps of a file delivered again ('booked') or its reversal
        pos_lines.restatement_role
    from pos_lines
),

webshop_sales as (
    select
        'webshop' as channel,
        'webshop' as source_system,
        'webshop:' || order_lines.order_id || ':'
        || cast(order_lines.line_number as string) as sales_line_id,
        order_lines.order_id,
        order_lines.line_number as order_line_number,
        false as is_return,
        cast(null as string) as original_sales_line_id,
        false as is_restocked,
        order_lines.variant_sku as source_item_code,
        order_lines.ship_from_location_id as location_id,
        order_lines.shipped_business_date as business_date,
        order_lines.shipped_at as transaction_at,
        order_lines.quantity as units,
        order_lines.unit_price,
        {{ round_money('order_lines.quantity * order_lines.unit_price') }} as gross_amount,
        order_lines.line_discount_amount,
        order_lines.order_discount_amount,
        order_lines.tax_amount,
        cast(0 as decimal(18, 2)) as fee_amount,
        order_lines.currency_code,
        order_lines.customer_hash,
        cast(null as string) as customer_account,
        order_lines.source_file,
        order_lines.source_row_number,
        cast(null as string) as restatement_role
    from {{ ref('stg_webshop__order_lines') }} as order_lines
    where order_lines.shipped_at is not null
),

webshop_returns as (
    select
        'webshop' as channel,
        'webshop' as source_system,
        'webshop-refund:' || refund_lines.event_id || ':'
        || cast(refund_lines.line_number as string) as sales_line_id,
        refund_lines.order_id,
        refund_lines.line_number as order_line_number,
        true as is_return,
        'webshop:' || refund_lines.order_id || ':'
        || cast(refund_lines.line_number as string) as original_sales_line_id,
        refund_lines.is_restocked,
        order_lines.variant_sku as source_item_code,
        refund_lines.location_id,
        refund_lines.business_date,
        refund_lines.refunded_at as transaction_at,
        refund_lines.quantity as units,
        -- the refund is the returned units at the price less discount originally charged; a
        -- refund of an order line never received (its placement was in a file that did not
        -- arrive) is valued at what was refunded, its price implied, its SKU unresolved
        -- (docs/decisions.md, "A refund without its order")
        coalesce(
            order_lines.unit_price,
            cast(refund_lines.refund_amount / nullif(refund_lines.quantity, 0) as decimal(18, 4))
        ) as unit_price,
        coalesce(
            {{ round_money('refund_lines.quantity * order_lines.unit_price') }},
            refund_lines.refund_amount
        ) as gross_amount,
        coalesce(
            {{ round_money('refund_lines.quantity * order_lines.unit_price') }}
            - refund_lines.refund_amount,
            cast(0 as decimal(18, 2))
        ) as line_discount_amount,
        cast(0 as decimal(18, 2)) as order_discount_amount,
        refund_lines.refund_tax_amount as tax_amount,
        cast(0 as decimal(18, 2)) as fee_amount,
        refund_lines.currency_code,
        order_lines.customer_hash,
        cast(null as string) as customer_account,
        refund_lines.source_file,
        refund_lines.source_row_number,
        cast(null as string) as restatement_role
    from {{ ref('stg_webshop__refund_lines') }} as refund_lines
    left join {{ ref('stg_webshop__order_lines') }} as order_lines
        on
            refund_lines.order_id = order_lines.order_id
            and refund_lines.line_number = order_lines.line_number
),

marketplace_promotions as (
    select
        settlement.order_id,
        sum(settlement.promotion_amount) as order_discount_amount
    from {{ ref('stg_marketplace__settlement_lines') }} as settlement
    where settlement.transaction_type = 'order' and settlement.row_type = 'promotion'
    group by settlement.order_id
),

marketplace as (
    select
        'marketplace' as channel,
        'marketplace' as source_system,
        case
            when settlement.transaction_type = 'order'
                then
                    'marketplace:' || settlement.order_id || ':'
                    || cast(settlement.order_line_number as string)
            else
                'marketplace-refund:' || settlement.settlement_id || ':'
                || cast(settlement.settlement_row_number as string)
        end as sales_line_id,
        settlement.order_id,
        settlement.order_line_number,
        settlement.transaction_type = 'refund' as is_return,
        case
            when settlement.transaction_type = 'refund'
                then
                    'marketplace:' || settlement.order_id || ':'
                    || cast(settlement.order_line_number as string)
        end as original_sales_line_id,
        -- marketplace returns go back to the stock the marketplace holds for us
        settlement.transaction_type = 'refund' as is_restocked,
        settlement.marketplace_item_code as source_item_code,
        settlement.location_id,
        settlement.business_date,
        settlement.posted_at as transaction_at,
        settlement.quantity as units,
        cast(settlement.item_price_amount / settlement.quantity as decimal(18, 4)) as unit_price,
        settlement.item_price_amount as gross_amount,
        case
            when settlement.transaction_type = 'refund' then settlement.promotion_amount
            else cast(0 as decimal(18, 2))
        end as line_discount_amount,
        case
            when settlement.transaction_type = 'order'
                then coalesce(promotions.order_discount_amount, 0)
            else cast(0 as decimal(18, 2))
        end as order_discount_amount,
        settlement.tax_amount,
        settlement.fee_amount,
        settlement.currency_code,
        cast(null as string) as customer_hash,
        cast(null as string) as customer_account,
        settlement.source_file,
        settlement.source_row_number,
        cast(null as string) as restatement_role
    from {{ ref('stg_marketplace__settlement_lines') }} as settlement
    left join marketplace_promotions as promotions
        on settlement.order_id = promotions.order_id
    where settlement.row_type = 'item'
),

-- wholesale: shipments to trade customers at negotiated prices, credit notes for returns
wholesale as (
    select
        'wholesale' as channel,
        'erp' as source_system,
        case
            when order_lines.line_type = 'return'
                then
                    'erp-credit:' || order_lines.document_number || ':'
                    || cast(order_lines.document_line_number as string)
            else
                'erp:' || order_lines.order_number || ':'
                || cast(order_lines.order_line_number as string)
        end as sales_line_id,
        order_lines.order_number as order_id,
        order_lines.order_line_number,
        order_lines.line_type = 'return' as is_return,
        case
            when order_lines.line_type = 'return'
                then
                    'erp:' || order_lines.order_number || ':'
                    || cast(order_lines.order_line_number as string)
        end as original_sales_line_id,
        coalesce(order_lines.return_condition = 'restock', false) as is_restocked,
        order_lines.sku as source_item_code,
        order_lines.location_id,
        order_lines.business_date,
        order_lines.transaction_at,
        order_lines.quantity as units,
        order_lines.unit_price,
        {{ round_money('order_lines.quantity * order_lines.unit_price') }} as gross_amount,
        order_lines.discount_amount as line_discount_amount,
        cast(0 as decimal(18, 2)) as order_discount_amount,
        order_lines.tax_amount,
        cast(0 as decimal(18, 2)) as fee_amount,
        order_lines.currency_code,
        cast(null as string) as customer_hash,
        -- a trade customer's account is a business identifier: kept, not hashed
        order_lines.customer_account,
        order_lines.source_file,
        order_lines.source_row_number,
        cast(null as string) as restatement_role
    from {{ ref('stg_erp__sales_order_lines') }} as order_lines
),

unioned as (
    select * from pos
    union all
    select * from webshop_sales
    union all
    select * from webshop_returns
    union all
    select * from marketplace
    union all
    select * from wholesale
)

select * from unioned
where {{ in_load_window('unioned.business_date') }}
