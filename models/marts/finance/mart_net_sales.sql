-- Net sales per business date, entity, location, channel and SKU (GLOSSARY.md): gross sales
-- less discounts less returns, in the entity's functional and the group reporting currency.

select
    lines.business_date,
    lines.entity_code,
    lines.location_id,
    lines.channel,
    lines.sku,
    cast(sum(case when not lines.is_return then lines.units else 0 end) as bigint) as units_sold,
    cast(sum(case when lines.is_return then lines.units else 0 end) as bigint) as units_returned,
    cast(sum(case when not lines.is_return then lines.gross_amount_functional else 0 end)
        as decimal(18, 2)) as gross_sales,
    cast(sum(case when not lines.is_return then lines.discount_amount_functional else 0 end)
        as decimal(18, 2)) as discounts,
    cast(sum(case when lines.is_return then lines.net_amount_functional else 0 end)
        as decimal(18, 2)) as returns,
    cast(sum(case when lines.is_return then -1 else 1 end * lines.net_amount_functional)
        as decimal(18, 2)) as net_sales,
    lines.functional_currency_code as currency_code,
    cast(sum(case when not lines.is_return then lines.gross_amount_reporting else 0 end)
        as decimal(18, 2)) as gross_sales_reporting,
    cast(sum(case when not lines.is_return then lines.discount_amount_reporting else 0 end)
        as decimal(18, 2)) as discounts_reporting,
    cast(sum(case when lines.is_return then lines.net_amount_reporting else 0 end)
        as decimal(18, 2)) as returns_reporting,
    cast(sum(case when lines.is_return then -1 else 1 end * lines.net_amount_reporting)
        as decimal(18, 2)) as net_sales_reporting,
    lines.reporting_currency_code
from {{ ref('fct_sales_lines') }} as lines
group by
    lines.business_date,
    lines.entity_code,
    lines.location_id,
    lines.channel,
    lines.sku,
    lines.functional_currency_code,
    lines.reporting_currency_code
