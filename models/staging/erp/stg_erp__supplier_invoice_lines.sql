with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_supplier_invoices'),
        contract_natural_key('erp', 'erp_supplier_invoices', [
            'invoice_number',
            'invoice_line_number',
        ]),
    ) }}
),

renamed as (
    select
        deduplicated.invoice_number as supplier_invoice_number,
        deduplicated.invoice_line_number as supplier_invoice_line_number,
        deduplicated.supplier_id,
        deduplicated.invoice_date,
        deduplicated.line_type,
        deduplicated.po_number as purchase_order_number,
        deduplicated.po_line_number as purchase_order_line_number,
        deduplicated.receipt_number as goods_receipt_number,
        deduplicated.sku,
        deduplicated.invoiced_units,
        deduplicated.unit_price,
        deduplicated.line_amount,
        deduplicated.currency_code,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
)

select
    renamed.supplier_invoice_number,
    renamed.supplier_invoice_line_number,
    renamed.supplier_id,
    renamed.invoice_date,
    renamed.line_type,
    renamed.purchase_order_number,
    renamed.purchase_order_line_number,
    renamed.goods_receipt_number,
    renamed.sku,
    renamed.invoiced_units,
    renamed.unit_price,
    renamed.line_amount,
    renamed.currency_code,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
