-- Every sale and return line of every channel at line grain, with amounts in transaction,
-- functional and reporting currency. Returns link to the line they return where the source
-- says so; every line traces to its file and row.

select
    sales_lines.sales_line_id,
    sales_lines.channel,
    sales_lines.source_system,
    sales_lines.order_id,
    sales_lines.order_line_number,
    sales_lines.is_return,
    sales_lines.original_sales_line_id,
    sales_lines.is_restocked,
    sales_lines.business_date,
    sales_lines.transaction_at,
    sales_lines.entity_code,
    sales_lines.location_id,
    sales_lines.sku,
    sales_lines.source_item_code,
    sales_lines.is_unresolved_item,
    sales_lines.customer_hash,
    sales_lines.customer_account,
    sales_lines.units,
    sales_lines.unit_price,
    sales_lines.gross_amount,
    sales_lines.line_discount_amount,
    sales_lines.allocated_discount_amount,
    sales_lines.discount_amount,
    cast(sales_lines.gross_amount - sales_lines.discount_amount as decimal(18, 2)) as net_amount,
    sales_lines.tax_amount,
    sales_lines.currency_code,
    sales_lines.gross_amount_functional,
    sales_lines.discount_amount_functional,
    cast(
        sales_lines.gross_amount_functional - sales_lines.discount_amount_functional
        as decimal(18, 2)
    ) as net_amount_functional,
    sales_lines.tax_amount_functional,
    sales_lines.functional_currency_code,
    sales_lines.gross_amount_reporting,
    sales_lines.discount_amount_reporting,
    cast(
        sales_lines.gross_amount_reporting - sales_lines.discount_amount_reporting
        as decimal(18, 2)
    ) as net_amount_reporting,
    sales_lines.tax_amount_reporting,
    sales_lines.reporting_currency_code,
    sales_lines.source_file,
    sales_lines.source_row_number,
    sales_lines.restatement_role
from {{ ref('int_sales_lines_converted') }} as sales_lines
where {{ in_load_window('sales_lines.business_date') }}
