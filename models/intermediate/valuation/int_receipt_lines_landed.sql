-- Valuation step 1: landed cost of every goods receipt line, in the receiving entity's
-- functional currency: goods at the purchase-order cost plus the freight and duty invoiced for
-- the receipt, allocated to its lines by goods value at full precision (docs/glossary.md); a
-- receipt whose goods are worth nothing (free of charge) by units instead. Each charge counts
-- once: a charge line of a suspected duplicate invoice (int_supplier_invoices_suspected_duplicate)
-- stays out until its owner confirms it as genuine (docs/decisions.md, "Each charge counts once"
-- and "Charges on a receipt worth nothing").

with

receipts as (
    select * from {{ ref('stg_erp__goods_receipt_lines') }}
),

order_lines as (
    select * from {{ ref('stg_erp__purchase_order_lines') }}
),

locations as (
    select * from {{ ref('dim_location') }}
),

entities as (
    select * from {{ ref('dim_entity') }}
),

-- suspected duplicates whose owner has not confirmed them: their charges do not count
held_invoices as (
    select
        suspected.supplier_id,
        suspected.supplier_invoice_number,
        suspected.currency_code
    from {{ ref('int_supplier_invoices_suspected_duplicate') }} as suspected
    where not suspected.is_confirmed_genuine
),

charges as (
    select
        invoice_lines.goods_receipt_number,
        invoice_lines.currency_code,
        sum(invoice_lines.line_amount) as charge_amount
    from {{ ref('stg_erp__supplier_invoice_lines') }} as invoice_lines
    left join held_invoices
        on
            invoice_lines.supplier_id = held_invoices.supplier_id
            and invoice_lines.supplier_invoice_number = held_invoices.supplier_invoice_number
            and invoice_lines.currency_code = held_invoices.currency_code
    where
        invoice_lines.line_type in ('freight', 'duty')
        and held_invoices.supplier_invoice_number is null
    group by invoice_lines.goods_receipt_number, invoice_lines.currency_code
),

goods as (
    select
        receipts.goods_receipt_number,
        receipts.goods_receipt_line_number,
        receipts.location_id,
        locations.entity_code,
        receipts.sku,
        receipts.business_date,
        receipts.received_units,
        receipts.purchase_order_number,
        receipts.purchase_order_line_number,
        order_lines.supplier_id,
        order_lines.unit_cost,
        entities.functional_currency_code,
        'receipt:' || receipts.goods_receipt_number || ':'
        || cast(receipts.goods_receipt_line_number as string) as movement_id,
        cast(receipts.received_units as double) * cast(order_lines.unit_cost as double)
        * cast(goods_rates.exchange_rate as double) as goods_value
    from receipts
    left join order_lines
        on
            receipts.purchase_order_number = order_lines.purchase_order_number
            and receipts.purchase_order_line_number = order_lines.purchase_order_line_number
    left join locations on receipts.location_id = locations.location_id
    left join entities on locations.entity_code = entities.entity_code
    {{ join_fx_rate(
        'goods_rates',
        'receipts.business_date',
        'order_lines.currency_code',
        'entities.functional_currency_code',
    ) }}
),

receipt_charges as (
    select
        goods.goods_receipt_number,
        sum(
            cast(charges.charge_amount as double) * cast(charge_rates.exchange_rate as double)
        ) as charge_value
    from (
        select distinct
            goods.goods_receipt_number,
            goods.business_date,
            goods.functional_currency_code
        from goods
    ) as goods
    inner join charges on goods.goods_receipt_number = charges.goods_receipt_number
    {{ join_fx_rate(
        'charge_rates',
        'goods.business_date',
        'charges.currency_code',
        'goods.functional_currency_code',
    ) }}
    group by goods.goods_receipt_number
),

-- what each line's share of its receipt's charges is in proportion to: its goods value, or its
-- units when the receipt's goods are worth nothing (never 0 / 0)
weights as (
    select
        goods.*,
        case
            when sum(goods.goods_value) over receipt <> 0 then goods.goods_value
            else cast(goods.received_units as double)
        end as charge_weight
    from goods
    window receipt as (partition by goods.goods_receipt_number)
),

shares as (
    select
        weights.*,
        nullif(
            sum(weights.charge_weight) over (partition by weights.goods_receipt_number), 0
        ) as charge_weight_total
    from weights
)

select
    shares.movement_id,
    shares.goods_receipt_number,
    shares.goods_receipt_line_number,
    shares.location_id,
    shares.entity_code,
    shares.sku,
    shares.business_date,
    shares.received_units,
    shares.purchase_order_number,
    shares.purchase_order_line_number,
    shares.supplier_id,
    shares.unit_cost,
    shares.goods_value,
    shares.functional_currency_code,
    coalesce(
        coalesce(receipt_charges.charge_value, 0) * shares.charge_weight
        / shares.charge_weight_total,
        0
    ) as allocated_charge_value,
    shares.goods_value
    + coalesce(
        coalesce(receipt_charges.charge_value, 0) * shares.charge_weight
        / shares.charge_weight_total,
        0
    ) as landed_value
from shares
left join receipt_charges on shares.goods_receipt_number = receipt_charges.goods_receipt_number
