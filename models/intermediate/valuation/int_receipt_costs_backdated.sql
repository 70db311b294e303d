-- Valuation: goods receipts whose landed cost changes after they were booked. A freight or duty
-- invoice line adds to its receipt's landed cost (int_receipt_lines_landed), so the moving
-- average changes from the receipt's business date on, however much later the invoice is
-- loaded. One row per receipt and load of such lines: mart_available_inventory, rebuilt by
-- load, rebuilds from the receipt's date when the load is new (macros/incremental.sql).

select
    invoice_lines.goods_receipt_number,
    invoice_lines.loaded_at,
    min(receipts.business_date) as changed_from_date
from {{ ref('stg_erp__supplier_invoice_lines') }} as invoice_lines
inner join {{ ref('stg_erp__goods_receipt_lines') }} as receipts
    on invoice_lines.goods_receipt_number = receipts.goods_receipt_number
where invoice_lines.line_type in ('freight', 'duty')
group by invoice_lines.goods_receipt_number, invoice_lines.loaded_at
