-- Valuation: goods receipts whose landed cost changes after they were booked, with when the
-- change arrived. A freight or duty invoice line adds to its receipt's landed cost
-- (int_receipt_lines_landed), so the moving average changes from the receipt's business date on,
-- however much later the invoice is loaded; so does a charge line that becomes, or stops being,
-- a suspected duplicate (when either invoice of the pair is loaded), and an owner's decision to
-- count a suspected duplicate after all, or to take that back (when a build first saw it:
-- int_duplicate_charge_decisions_recorded). One row per receipt and time of such a change: the
-- models rebuilt by load rebuild from the receipt's date when the change is newer than their
-- last build's loads (macros/incremental.sql).

with

receipts as (
    select
        receipt_lines.goods_receipt_number,
        min(receipt_lines.business_date) as business_date
    from {{ ref('stg_erp__goods_receipt_lines') }} as receipt_lines
    group by receipt_lines.goods_receipt_number
),

changes as (
    select
        invoice_lines.goods_receipt_number,
        invoice_lines.loaded_at
    from {{ ref('stg_erp__supplier_invoice_lines') }} as invoice_lines
    where invoice_lines.line_type in ('freight', 'duty')
    union all
    select
        suspected.goods_receipt_number,
        suspected.loaded_at
    from {{ ref('int_supplier_invoices_suspected_duplicate') }} as suspected
    union all
    select
        decisions.goods_receipt_number,
        decisions.recorded_at as loaded_at
    from {{ ref('int_duplicate_charge_decisions_recorded') }} as decisions
)

select
    changes.goods_receipt_number,
    changes.loaded_at,
    min(receipts.business_date) as changed_from_date
from changes
inner join receipts on changes.goods_receipt_number = receipts.goods_receipt_number
group by changes.goods_receipt_number, changes.loaded_at
