-- Net sales per business date, entity, location, channel and SKU (docs/glossary.md): gross sales
-- less discounts less returns, in the entity's functional and the group reporting currency.
-- Lines that arrived after their period's close are reported on their posting date in the first
-- open period, in rows of their own naming the business date and period they belong to
-- (docs/glossary.md, Period close): a closed period's rows never change.

with

classified as (
    select
        {{ posting_date('late', 'sales_lines.business_date') }} as business_date,
        case
            when late.adjusts_period_start_date is not null then sales_lines.business_date
        end as adjusted_business_date,
        late.adjusts_period_start_date,
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
    {{ join_posting_period(
        'late', 'sales_lines.business_date', 'sales_lines.source_file', 'sales_lines.entity_code'
    ) }}
    where {{ in_load_window(posting_date('late', 'sales_lines.business_date')) }}
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
    ) as net_sales_reporting,
    classified.adjusted_business_date,
    classified.adjusts_period_start_date
from classified
group by
    classified.business_date,
    classified.entity_code,
    classified.location_id,
    classified.channel,
    classified.sku,
    classified.functional_currency_code,
    classified.reporting_currency_code,
    classified.adjusted_business_date,
    classified.adjusts_period_start_date
