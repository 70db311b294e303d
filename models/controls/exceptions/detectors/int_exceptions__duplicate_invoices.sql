-- The exception queue's duplicate supplier invoices: one row per suspected duplicate of
-- int_supplier_invoices_suspected_duplicate (the one definition: same supplier, amount and
-- currency as an earlier invoice, number equal but for formatting, dated at most dbt var
-- duplicate_invoice_max_days days later), with its amount as the impact: paying it would pay the
-- supplier twice. A suspected freight or duty line stays out of landed cost until its owner
-- confirms it (seed exception_actions, confirm_genuine); the exception stays in the queue either
-- way, its status set by the owner's decisions.

with

pairs as (
    select * from {{ ref('int_supplier_invoices_suspected_duplicate') }}
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
    {{ join_fx_rate('rates', 'pairs.invoice_date', 'pairs.currency_code') }}
)

select
    located.exception_id,
    'duplicate_supplier_invoice' as exception_type,
    located.supplier_id || '|' || located.supplier_invoice_number as natural_key,
    located.entity_code,
    located.location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    'erp' as source_system,
    cast(null as bigint) as affected_units,
    {{ round_money('located.invoice_amount_reporting') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
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
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from located
