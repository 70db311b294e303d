-- Valuation step 1: landed cost of every goods receipt line, in the receiving entity's
-- functional currency: goods at the purchase-order cost plus the freight and duty invoiced for
-- the receipt, allocated to its lines by goods value at full precision (GLOSSARY.md).

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

rates as (
    select * from {{ ref('int_fx_rates_daily') }}
),

charges as (
    select
        invoice_lines.goods_receipt_number,
        invoice_lines.currency_code,
        sum(invoice_lines.line_amount) as charge_amount
    from {{ ref('stg_erp__supplier_invoice_lines') }} as invoice_lines
    where invoice_lines.line_type in ('freight', 'duty')
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
        order_lines.unit_cost,
        entities.functional_currency_code,
        'receipt:' || receipts.goods_receipt_number || ':'
        || cast(receipts.goods_receipt_line_number as varchar) as movement_id,
        cast(receipts.received_units as double) * cast(order_lines.unit_cost as double)
        * cast(goods_rates.exchange_rate as double) as goods_value
    from receipts
    left join order_lines
        on
            receipts.purchase_order_number = order_lines.purchase_order_number
            and receipts.purchase_order_line_number = order_lines.purchase_order_line_number
    left join locations on receipts.location_id = locations.location_id
    left join entities on locations.entity_code = entities.entity_code
    left join rates as goods_rates
        on
            receipts.business_date = goods_rates.rate_date
            and order_lines.currency_code = goods_rates.from_currency_code
            and entities.functional_currency_code = goods_rates.to_currency_code
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
    left join rates as charge_rates
        on
            goods.business_date = charge_rates.rate_date
            and charges.currency_code = charge_rates.from_currency_code
            and goods.functional_currency_code = charge_rates.to_currency_code
    group by goods.goods_receipt_number
)

select
    goods.movement_id,
    goods.goods_receipt_number,
    goods.goods_receipt_line_number,
    goods.location_id,
    goods.entity_code,
    goods.sku,
    goods.business_date,
    goods.received_units,
    goods.unit_cost,
    goods.goods_value,
    goods.functional_currency_code,
    coalesce(receipt_charges.charge_value, 0) * goods.goods_value
    / sum(goods.goods_value) over (partition by goods.goods_receipt_number)
        as allocated_charge_value,
    goods.goods_value
    + coalesce(receipt_charges.charge_value, 0) * goods.goods_value
    / sum(goods.goods_value) over (partition by goods.goods_receipt_number) as landed_value
from goods
left join receipt_charges on goods.goods_receipt_number = receipt_charges.goods_receipt_number
