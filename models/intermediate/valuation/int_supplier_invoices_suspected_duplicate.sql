-- The one definition of a suspected duplicate supplier invoice, read by the exception queue
-- (int_exceptions__duplicate_invoices) and by landed cost (int_receipt_lines_landed): a
-- supplier's invoice with the same total and currency as an earlier one of the same supplier,
-- dated at most dbt var duplicate_invoice_max_days days later, whose number equals the earlier
-- one's but for formatting (case, spaces, dashes, slashes, dots: INV-000123 and INV000123).
-- One row per suspected duplicate: the later invoice; on the same date, the greater number
-- (docs/decisions.md, "Each charge counts once"). With the owner's decision: the latest action
-- of seed exception_actions on its exception; confirm_genuine lets its charges count again.

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
        max(invoice_lines.loaded_at) as loaded_at,
        upper({{ regexp_replace_all(
            "invoice_lines.supplier_invoice_number", "'[^A-Za-z0-9]'", "''"
        ) }})
            as normalized_number
    from {{ ref('stg_erp__supplier_invoice_lines') }} as invoice_lines
    group by
        invoice_lines.supplier_id,
        invoice_lines.supplier_invoice_number,
        invoice_lines.currency_code
),

pairs as (
    select
        duplicates.supplier_id,
        duplicates.supplier_invoice_number,
        duplicates.currency_code,
        duplicates.invoice_date,
        duplicates.invoice_amount,
        duplicates.line_count,
        duplicates.goods_receipt_number,
        duplicates.source_file,
        originals.supplier_invoice_number as original_invoice_number,
        originals.invoice_date as original_invoice_date,
        -- the later of the two loads: either one arriving changes what counts
        greatest(duplicates.loaded_at, originals.loaded_at) as loaded_at,
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

suspected as (
    select
        {{ dbt.hash(
            "'duplicate_supplier_invoice|' || pairs.supplier_id || '|' "
            ~ "|| pairs.supplier_invoice_number"
        ) }} as exception_id,
        pairs.*
    from pairs
    where pairs.original_rank = 1
),

-- the latest decision on each exception
decisions as (
    select * from {{ ref('int_exception_actions_latest') }}
)

select
    suspected.exception_id,
    suspected.supplier_id,
    suspected.supplier_invoice_number,
    suspected.currency_code,
    suspected.invoice_date,
    suspected.invoice_amount,
    suspected.line_count,
    suspected.goods_receipt_number,
    suspected.source_file,
    suspected.original_invoice_number,
    suspected.original_invoice_date,
    suspected.loaded_at,
    decisions.action as latest_action,
    coalesce(decisions.action = 'confirm_genuine', false) as is_confirmed_genuine
from suspected
left join decisions on suspected.exception_id = decisions.exception_id
