-- Net sales per business date, entity, location, channel and SKU (docs/glossary.md): gross sales
-- less discounts less returns, in the entity's functional and the group reporting currency.

with

classified as (
    select
        sales_lines.business_date,
        sales_lines.entity_code,
        sales_lines.location_id,
        sales_lines.channel,
        sales_lines.sku,
        sales_lines.functional_currency_code,
        sales_lines.reporting_currency_code,
        case when sales_lines.is_return then 0 else sales_lines.units end as units_sold,
        case when sales_lines.is_return then sales_lines.units else 0 end as units_returned,
        case
            when sales_lines.is_return then 0 else sales_lines.gross_amount_functional
        end as gross_sales,
        case
            when sales_lines.is_return then 0 else sales_lines.discount_amount_functional
        end as discounts,
        case
            when sales_lines.is_return then sales_lines.net_amount_functional else 0
        end as returns,
        case
            when sales_lines.is_return then 0 else sales_lines.gross_amount_reporting
        end as gross_sales_reporting,
        case
            when sales_lines.is_return then 0 else sales_lines.discount_amount_reporting
        end as discounts_reporting,
        case
            when sales_lines.is_return then sales_lines.net_amount_reporting else 0
        end as returns_reporting
    from {{ ref('fct_sales_lines') }} as sales_lines
    where {{ in_load_window('sales_lines.business_date') }}
)

select
    classified.business_date,
    classified.entity_code,
    classified.location_id,
    classified.channel,
    classified.sku,
    classified.functional_currency_code as currency_code,
    classified.reporting_currency_code,
    cast(sum(classified.units_sold) as bigint) as units_sold,
    cast(sum(classified.units_returned) as bigint) as units_returned,
    cast(sum(classified.gross_sales) as decimal(18, 2)) as gross_sales,
    cast(sum(classified.discounts) as decimal(18, 2)) as discounts,
    cast(sum(classified.returns) as decimal(18, 2)) as returns,
    cast(
        sum(classified.gross_sales) - sum(classified.discounts) - sum(classified.returns)
        as decimal(18, 2)
    ) as net_sales,
    cast(sum(classified.gross_sales_reporting) as decimal(18, 2)) as gross_sales_reporting,
    cast(sum(classified.discounts_reporting) as decimal(18, 2)) as discounts_reporting,
    cast(sum(classified.returns_reporting) as decimal(18, 2)) as returns_reporting,
    cast(
        sum(classified.gross_sales_reporting)
        - sum(classified.discounts_reporting)
        - sum(classified.returns_reporting)
        as decimal(18, 2)
    ) as net_sales_reporting
from classified
group by
    classified.business_date,
    classified.entity_code,
    classified.location_id,
    classified.channel,
    classified.sku,
    classified.functional_currency_code,
    classified.reporting_currency_code
