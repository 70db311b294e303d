-- Marketplace fees: a selling expense per settled order line, never a discount on sales.

select
    lines.sales_line_id,
    lines.order_id,
    lines.order_line_number,
    lines.business_date,
    lines.entity_code,
    lines.location_id,
    lines.sku,
    lines.fee_amount,
    lines.currency_code,
    lines.fee_amount_functional,
    lines.functional_currency_code,
    lines.fee_amount_reporting,
    lines.reporting_currency_code,
    lines.source_file,
    lines.source_row_number
from {{ ref('int_sales_lines_converted') }} as lines
where lines.channel = 'marketplace' and lines.fee_amount <> 0
