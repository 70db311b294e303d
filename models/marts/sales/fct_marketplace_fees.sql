-- Marketplace fees: a selling expense per settled order line, never a discount on sales.

select
    sales_lines.sales_line_id,
    sales_lines.order_id,
    sales_lines.order_line_number,
    sales_lines.business_date,
    sales_lines.entity_code,
    sales_lines.location_id,
    sales_lines.sku,
    sales_lines.fee_amount,
    sales_lines.currency_code,
    sales_lines.fee_amount_functional,
    sales_lines.functional_currency_code,
    sales_lines.fee_amount_reporting,
    sales_lines.reporting_currency_code,
    sales_lines.source_file,
    sales_lines.source_row_number
from {{ ref('int_sales_lines_converted') }} as sales_lines
where
    sales_lines.channel = 'marketplace'
    and sales_lines.fee_amount <> 0
    and {{ in_load_window('sales_lines.business_date') }}
