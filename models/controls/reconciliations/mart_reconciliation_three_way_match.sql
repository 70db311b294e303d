-- Reconciliation three_way_match (docs/glossary.md, Reconciliations): purchase order, goods receipt
-- and supplier invoice, per goods receipt, in the receiving entity's currency. Left: what the
-- supplier invoiced for the receipt's goods (every goods invoice line that names the receipt,
-- at the invoice date's rate). Right: what was received at the purchase order's price
-- (received units x purchase-order unit cost, at the receipt date's rate). Ordered, received
-- and invoiced units are shown beside. A receipt not invoiced yet is pending for dbt var
-- supplier_invoice_grace_days days after it, then a break; an invoice naming a receipt the ERP
-- has not delivered compares with nothing. Unless the entity expects no invoices (policy
-- column supplier_invoices_expected: no, or auto while the ERP has delivered no goods invoice
-- line for the entity): then a receipt without an invoice is information (status info, "not
-- invoiced"), never a break (docs/decisions.md, "Supplier invoices optional by policy").

with

locations as (
    select * from {{ ref('dim_location') }}
),

order_lines as (
    select * from {{ ref('stg_erp__purchase_order_lines') }}
),

received as (
    select
        receipt_lines.goods_receipt_number,
        min(receipt_lines.purchase_order_number) as purchase_order_number,
        min(locations.entity_code) as entity_code,
        min(receipt_lines.location_id) as location_id,
        min(receipt_lines.business_date) as receipt_business_date,
        sum(order_lines.ordered_units) as ordered_units,
        sum(receipt_lines.received_units) as received_units,
        sum(
            receipt_lines.received_units * order_lines.unit_cost * order_rates.exchange_rate
        ) as received_value
    from {{ ref('stg_erp__goods_receipt_lines') }} as receipt_lines
    left join order_lines
        on
            receipt_lines.purchase_order_number = order_lines.purchase_order_number
            and receipt_lines.purchase_order_line_number
            = order_lines.purchase_order_line_number
    left join locations on receipt_lines.location_id = locations.location_id
    {{ join_fx_rate(
        'order_rates',
        'receipt_lines.business_date',
        'order_lines.currency_code',
        'locations.functional_currency_code',
    ) }}
    group by receipt_lines.goods_receipt_number
),

-- a receipt's invoices, counted and listed in order from its distinct numbers (a distinct
-- count beside an ordered distinct list in one aggregation fails on Spark 4.x's optimizer)
invoice_numbers as (
    select
        numbers.goods_receipt_number,
        count(*) as invoice_count,
        {{ dbt.listagg(
            'numbers.supplier_invoice_number',
            "', '",
            'order by numbers.supplier_invoice_number',
        ) }} as supplier_invoice_numbers
    from (
        select distinct
            invoice_lines.goods_receipt_number,
            invoice_lines.supplier_invoice_number
        from {{ ref('stg_erp__supplier_invoice_lines') }} as invoice_lines
        where invoice_lines.line_type = 'goods'
    ) as numbers
    group by numbers.goods_receipt_number
),

invoiced as (
    select
        invoice_lines.goods_receipt_number,
        min(order_lines.entity_code) as entity_code,
        max(invoice_lines.invoice_date) as last_invoice_date,
        max(invoice_numbers.invoice_count) as invoice_count,
        max(invoice_numbers.supplier_invoice_numbers) as supplier_invoice_numbers,
        sum(invoice_lines.invoiced_units) as invoiced_units,
        sum(invoice_lines.line_amount * invoice_rates.exchange_rate) as invoiced_value
    from {{ ref('stg_erp__supplier_invoice_lines') }} as invoice_lines
    inner join invoice_numbers
        on
            invoice_lines.goods_receipt_number
            is not distinct from invoice_numbers.goods_receipt_number
    left join order_lines
        on
            invoice_lines.purchase_order_number = order_lines.purchase_order_number
            and invoice_lines.purchase_order_line_number
            = order_lines.purchase_order_line_number
    left join {{ ref('dim_entity') }} as entities on order_lines.entity_code = entities.entity_code
    {{ join_fx_rate(
        'invoice_rates',
        'invoice_lines.invoice_date',
        'invoice_lines.currency_code',
        'entities.functional_currency_code',
    ) }}
    where invoice_lines.line_type = 'goods'
    group by invoice_lines.goods_receipt_number
),

latest_receipt as (
    select max(received.receipt_business_date) as last_receipt_date from received
),

-- the entities for which the ERP delivers goods invoices at all
invoicing_entities as (
    select distinct invoiced.entity_code
    from invoiced
    where invoiced.entity_code is not null
),

comparisons as (
    select
        'three_way_match' as reconciliation_name,
        coalesce(received.goods_receipt_number, invoiced.goods_receipt_number)
            as goods_receipt_number,
        received.purchase_order_number,
        coalesce(received.entity_code, invoiced.entity_code) as entity_code,
        received.location_id,
        received.receipt_business_date,
        invoiced.last_invoice_date,
        invoiced.supplier_invoice_numbers,
        coalesce(invoiced.invoice_count, 0) as invoice_count,
        received.ordered_units,
        coalesce(received.received_units, 0) as received_units,
        coalesce(invoiced.invoiced_units, 0) as invoiced_units,
        case
            when invoiced.last_invoice_date > received.receipt_business_date
                then invoiced.last_invoice_date
            else coalesce(received.receipt_business_date, invoiced.last_invoice_date)
        end as comparison_date,
        cast({{ round_money('coalesce(invoiced.invoiced_value, 0)') }} as decimal(18, 2))
            as left_value,
        cast({{ round_money('coalesce(received.received_value, 0)') }} as decimal(18, 2))
            as right_value,
        coalesce(
            invoiced.invoice_count > 0
            or {{ add_days(
                var('supplier_invoice_grace_days'), 'received.receipt_business_date'
            ) }}
            <= latest_receipt.last_receipt_date,
            false
        ) as is_due,
        invoicing_entities.entity_code is not null as is_entity_invoiced
    from received
    full outer join invoiced on received.goods_receipt_number = invoiced.goods_receipt_number
    cross join latest_receipt
    left join invoicing_entities
        on coalesce(received.entity_code, invoiced.entity_code) = invoicing_entities.entity_code
),

assessed as (
    {{ reconciliation_assessed(
        'comparisons',
        informational_when="assessed.invoice_count = 0 and (
            assessed.supplier_invoices_expected = 'no'
            or (assessed.supplier_invoices_expected = 'auto' and not assessed.is_entity_invoiced)
        )",
    ) }}
)

select
    {{ reconciliation_common_columns(
        comparison_id="'three_way_match|' || assessed.goods_receipt_number",
        value_unit='entities.functional_currency_code',
        location_id='assessed.location_id',
    ) }},
    'Goods receipt ' || assessed.goods_receipt_number
    || coalesce(' of purchase order ' || assessed.purchase_order_number, ' (not delivered)')
    || coalesce(' at ' || assessed.location_id, '') || ': '
    || coalesce({{ to_text('assessed.ordered_units') }}, 'no') || ' units ordered, '
    || {{ to_text('assessed.received_units') }} || ' received worth '
    || {{ to_text('assessed.right_value') }} || ' '
    || coalesce(entities.functional_currency_code, '') || ' at the order price, '
    || {{ to_text('assessed.invoiced_units') }} || ' invoiced for '
    || {{ to_text('assessed.left_value') }} || ' '
    || coalesce(entities.functional_currency_code, '')
    || coalesce(' (' || assessed.supplier_invoice_numbers || ')', ' (no invoice yet)')
    || {{ difference_text() }}
    || case
        when assessed.status = 'pending'
            then
                '; pending: invoices are due within '
                || '{{ var("supplier_invoice_grace_days") }} days of the receipt'
        when assessed.status = 'info'
            then
                '; not invoiced: the entity sends no supplier invoices (reconciliation policy '
                || 'supplier_invoices_expected = ' || assessed.supplier_invoices_expected || ')'
        else ''
    end || '.' as explanation,
    assessed.goods_receipt_number,
    assessed.purchase_order_number,
    assessed.supplier_invoice_numbers,
    cast(assessed.invoice_count as bigint) as invoice_count,
    cast(assessed.ordered_units as bigint) as ordered_units,
    cast(assessed.received_units as bigint) as received_units,
    cast(assessed.invoiced_units as bigint) as invoiced_units
from assessed
left join {{ ref('dim_entity') }} as entities on assessed.entity_code = entities.entity_code
{{ join_fx_rate(
    'reporting_rates', 'assessed.comparison_date', 'entities.functional_currency_code'
) }}
