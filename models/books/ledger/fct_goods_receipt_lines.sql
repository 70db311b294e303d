-- Goods receipt lines at landed cost (docs/glossary.md, "Cost and margin"), with the purchase
-- order and the supplier they were received against. The amounts are the receipt's own
-- posting (goods at the purchase-order cost and the freight and duty allocated to the line, in
-- functional and reporting currency), so receipts by supplier, location or SKU tie to the books.
with

receipt_postings as (
    select
        event_id,
        business_date,
        entity_code,
        location_id,
        sku,
        units,
        functional_currency_code,
        coalesce(goods_amount, 0) as goods_amount,
        coalesce(charges_amount, 0) as charges_amount,
        coalesce(goods_amount_reporting, 0) as goods_amount_reporting,
        coalesce(charges_amount_reporting, 0) as charges_amount_reporting
    from {{ ref('fct_gl_posting_events') }}
    where event_type = 'goods_receipt'
),

landed as (
    select * from {{ ref('int_receipt_lines_landed') }}
)

select
    receipt_postings.event_id as movement_id,
    landed.goods_receipt_number,
    landed.goods_receipt_line_number,
    landed.purchase_order_number,
    landed.purchase_order_line_number,
    landed.supplier_id,
    receipt_postings.business_date,
    receipt_postings.entity_code,
    receipt_postings.location_id,
    receipt_postings.sku,
    receipt_postings.units as received_units,
    receipt_postings.functional_currency_code,
    receipt_postings.goods_amount,
    receipt_postings.charges_amount,
    receipt_postings.goods_amount_reporting,
    receipt_postings.charges_amount_reporting,
    cast(
        receipt_postings.goods_amount + receipt_postings.charges_amount as decimal(18, 2)
    ) as landed_amount,
    cast(
        receipt_postings.goods_amount_reporting + receipt_postings.charges_amount_reporting
        as decimal(18, 2)
    ) as landed_amount_reporting
from receipt_postings
inner join landed on receipt_postings.event_id = landed.movement_id
