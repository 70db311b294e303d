-- Postings step 3: the supplier invoices (docs/glossary.md, Postings), one row per invoice line. A
-- goods line clears goods received not invoiced at what its receipt booked for those units
-- (invoiced units x purchase-order cost, at the receipt date's rate); freight and duty clear the
-- accrual the receipt booked (at the receipt date's rate); whatever the invoice asks beyond that
-- is purchase price variance. The entity and location are the receipt's (else the purchase
-- order's); the business date is the invoice date.

with

invoice_lines as (
    select * from {{ ref('stg_erp__supplier_invoice_lines') }}
),

order_lines as (
    select * from {{ ref('stg_erp__purchase_order_lines') }}
),

receipt_lines as (
    select * from {{ ref('stg_erp__goods_receipt_lines') }}
),

locations as (
    select * from {{ ref('dim_location') }}
),

-- one location and date per goods receipt (its lines agree)
receipts as (
    select
        receipt_lines.goods_receipt_number,
        min(receipt_lines.location_id) as location_id,
        min(receipt_lines.business_date) as business_date
    from receipt_lines
    group by receipt_lines.goods_receipt_number
),

matched as (
    select
        invoice_lines.supplier_invoice_number,
        invoice_lines.supplier_invoice_line_number,
        invoice_lines.line_type,
        invoice_lines.invoice_date,
        invoice_lines.goods_receipt_number,
        invoice_lines.sku,
        invoice_lines.invoiced_units,
        invoice_lines.line_amount,
        invoice_lines.currency_code,
        invoice_lines.source_file,
        invoice_lines.source_row_number,
        order_lines.unit_cost as order_unit_cost,
        order_lines.currency_code as order_currency_code,
        locations.location_id,
        locations.entity_code,
        locations.functional_currency_code,
        -- the receipt's date values what it booked; without a receipt, the invoice's
        coalesce(receipts.business_date, invoice_lines.invoice_date) as receipt_business_date
    from invoice_lines
    left join order_lines
        on
            invoice_lines.purchase_order_number = order_lines.purchase_order_number
            and invoice_lines.purchase_order_line_number = order_lines.purchase_order_line_number
    left join receipts on invoice_lines.goods_receipt_number = receipts.goods_receipt_number
    left join locations
        on coalesce(receipts.location_id, order_lines.ship_to_location_id) = locations.location_id
),

converted as (
    select
        matched.*,
        {{ to_currency('matched.line_amount', 'invoice_rates') }}
            as invoiced_functional,
        case
            when matched.line_type = 'goods'
                then {{ round_money(
                    'matched.invoiced_units * matched.order_unit_cost'
                    ~ ' * order_rates.exchange_rate'
                ) }}
            else {{ to_currency('matched.line_amount', 'charge_rates') }}
        end as receipt_side_functional,
        reporting_rates.exchange_rate as reporting_exchange_rate
    from matched
    {{ join_fx_rate(
        'invoice_rates',
        'matched.invoice_date',
        'matched.currency_code',
        'matched.functional_currency_code',
    ) }}
    {{ join_fx_rate(
        'order_rates',
        'matched.receipt_business_date',
        'matched.order_currency_code',
        'matched.functional_currency_code',
    ) }}
    {{ join_fx_rate(
        'charge_rates',
        'matched.receipt_business_date',
        'matched.currency_code',
        'matched.functional_currency_code',
    ) }}
    {{ join_fx_rate(
        'reporting_rates', 'matched.invoice_date', 'matched.functional_currency_code'
    ) }}
)

select
    'supplier_invoice:' || converted.supplier_invoice_number || ':'
    || cast(converted.supplier_invoice_line_number as {{ dbt.type_string() }}) as event_id,
    'supplier_invoice' as event_type,
    converted.invoice_date as business_date,
    converted.entity_code,
    converted.location_id,
    cast(null as {{ dbt.type_string() }}) as channel,
    converted.supplier_invoice_number as document_number,
    converted.sku,
    converted.invoiced_units as units,
    'erp' as source_system,
    converted.source_file,
    converted.source_row_number,
    converted.functional_currency_code,
    {{ reporting_currency_code() }} as reporting_currency_code,
    {{ posting_amount_columns({
        'goods': [
            "case when converted.line_type = 'goods' then converted.receipt_side_functional end",
            "case when converted.line_type = 'goods' then "
            ~ round_money('converted.receipt_side_functional * converted.reporting_exchange_rate')
            ~ ' end',
        ],
        'charges': [
            "case when converted.line_type <> 'goods' then converted.receipt_side_functional end",
            "case when converted.line_type <> 'goods' then "
            ~ round_money('converted.receipt_side_functional * converted.reporting_exchange_rate')
            ~ ' end',
        ],
        'price_variance': [
            'converted.invoiced_functional - converted.receipt_side_functional',
            round_money(
                '(converted.invoiced_functional - converted.receipt_side_functional)'
                ~ ' * converted.reporting_exchange_rate'
            ),
        ],
    }) }}
from converted
