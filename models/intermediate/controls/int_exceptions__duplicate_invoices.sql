-- The exception queue's duplicate supplier invoices: a supplier's invoice with the same total
-- and currency as an earlier one of the same supplier, dated at most dbt var
-- duplicate_invoice_max_days days later, whose number equals the earlier one's but for
-- formatting (case, spaces, dashes, slashes, dots: INV-000123 and INV000123). One row per
-- suspected duplicate (the later invoice; on the same date, the greater number), with its
-- amount as the impact: paying it would pay the supplier twice.

with

invoices as (
    select
        invoice_lines.supplier_id,
        invoice_lines.supplier_invoice_number,
        invoice_lines.currency_code,
        min(invoice_lines.invoice_date) as invoice_date,
        sum(invoice_lines.line_amount) as invoice_amount,
        count(*) as line_count,
        min(invoice_lines.goods_receipt_number) as goods_receipt_number,
        min(invoice_lines.source_file) as source_file,
        upper(regexp_replace(invoice_lines.supplier_invoice_number, '[^A-Za-z0-9]', '', 'g'))
            as normalized_number
    from {{ ref('stg_erp__supplier_invoice_lines') }} as invoice_lines
    group by
        invoice_lines.supplier_id,
        invoice_lines.supplier_invoice_number,
        invoice_lines.currency_code
),

pairs as (
    select
        duplicates.*,
        originals.supplier_invoice_number as original_invoice_number,
        originals.invoice_date as original_invoice_date,
        row_number() over (
            partition by duplicates.supplier_id, duplicates.supplier_invoice_number
            order by originals.invoice_date, originals.supplier_invoice_number
        ) as original_rank
    from invoices as duplicates
    inner join invoices as originals
        on
            duplicates.supplier_id = originals.supplier_id
            and duplicates.currency_code = originals.currency_code
            and duplicates.invoice_amount = originals.invoice_amount
            and duplicates.normalized_number = originals.normalized_number
            and duplicates.supplier_invoice_number <> originals.supplier_invoice_number
            and (
                duplicates.invoice_date > originals.invoice_date
                or (
                    duplicates.invoice_date = originals.invoice_date
                    and duplicates.supplier_invoice_number > originals.supplier_invoice_number
                )
            )
            and duplicates.invoice_date
            <= {{ add_days(var('duplicate_invoice_max_days'), 'originals.invoice_date') }}
),

-- one location per goods receipt (its lines agree)
receipt_locations as (
    select
        receipt_lines.goods_receipt_number,
        min(receipt_lines.location_id) as location_id
    from {{ ref('stg_erp__goods_receipt_lines') }} as receipt_lines
    group by receipt_lines.goods_receipt_number
),

located as (
    select
        pairs.*,
        receipt_locations.location_id,
        locations.entity_code,
        pairs.invoice_amount * rates.exchange_rate as invoice_amount_reporting
    from pairs
    left join receipt_locations
        on pairs.goods_receipt_number = receipt_locations.goods_receipt_number
    left join {{ ref('dim_location') }} as locations
        on receipt_locations.location_id = locations.location_id
    left join {{ ref('int_fx_rates_daily') }} as rates
        on
            pairs.invoice_date = rates.rate_date
            and pairs.currency_code = rates.from_currency_code
            and rates.to_currency_code = '{{ var("reporting_currency") }}'
    where pairs.original_rank = 1
)

select
    {{ dbt.hash(
        "'duplicate_supplier_invoice|' || located.supplier_id || '|' "
        ~ "|| located.supplier_invoice_number"
    ) }} as exception_id,
    'duplicate_supplier_invoice' as exception_type,
    located.supplier_id || '|' || located.supplier_invoice_number as natural_key,
    located.entity_code,
    located.location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    'erp' as source_system,
    cast(null as bigint) as affected_units,
    {{ round_money('located.invoice_amount_reporting') }} as affected_value_reporting,
    '{{ var("reporting_currency") }}' as reporting_currency_code,
    'Supplier ' || located.supplier_id || ' invoice ' || located.supplier_invoice_number
    || ' of ' || {{ to_text('located.invoice_date') }} || ' for '
    || {{ to_text('located.invoice_amount') }} || ' ' || located.currency_code || ' ('
    || {{ to_text('located.line_count') }} || ' lines'
    || coalesce(', goods receipt ' || located.goods_receipt_number, '')
    || ') repeats invoice ' || located.original_invoice_number || ' of '
    || {{ to_text('located.original_invoice_date') }}
    || ': same supplier and amount, numbers equal but for formatting; in '
    || located.source_file || '.' as explanation,
    located.invoice_date as first_seen_date,
    located.invoice_date as last_seen_date,
    cast(null as date) as resolved_date
from located
