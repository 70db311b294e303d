-- Step 3 of the sales chain: the SKU valid on the business date (the code itself for a channel
-- that sells by ERP item codes, seed channels), the owning entity, and every
-- amount in functional and reporting currency. Each source amount is converted and rounded to
-- cents on its own; net amounts are derived from converted parts (docs/decisions.md,
-- "Currency conversion of sales lines").

with

sales_lines as (
    select * from {{ ref('int_sales_lines_allocated') }}
    where {{ in_load_window('business_date') }}
),

cross_references as (
    select * from {{ ref('int_item_cross_references_dated') }}
),

locations as (
    select * from {{ ref('dim_location') }}
),

entities as (
    select * from {{ ref('dim_entity') }}
),

rates as (
    select * from {{ ref('int_fx_rates_daily') }}
),

channels as (
    select * from {{ ref('dim_channel') }}
),

-- the ERP's own item codes: a channel that sells by them needs no cross-reference
erp_items as (
    select distinct products.sku from {{ ref('stg_erp__products') }} as products
),

resolved as (
    select
        sales_lines.*,
        coalesce(erp_items.sku, cross_references.sku) is null as is_unresolved_item,
        coalesce(erp_items.sku, cross_references.sku, '{{ var("unresolved_sku") }}') as sku,
        locations.entity_code,
        entities.functional_currency_code
    from sales_lines
    left join channels on sales_lines.channel = channels.channel
    left join erp_items
        on
            coalesce(channels.uses_erp_item_code, false)
            and sales_lines.source_item_code = erp_items.sku
    left join cross_references
        on
            not coalesce(channels.uses_erp_item_code, false)
            and sales_lines.source_system = cross_references.source_system
            and sales_lines.source_item_code = cross_references.source_item_code
            and sales_lines.business_date >= cross_references.valid_from_date
            and (
                cross_references.valid_to_date is null
                or sales_lines.business_date <= cross_references.valid_to_date
            )
    left join locations on sales_lines.location_id = locations.location_id
    left join entities on locations.entity_code = entities.entity_code
)

select
    -- every column of step 2 passes through; the wildcard is deliberate
    resolved.*,  -- noqa: AM04
    '{{ var("reporting_currency") }}' as reporting_currency_code,
    functional_rates.exchange_rate as functional_exchange_rate,
    reporting_rates.exchange_rate as reporting_exchange_rate,
    {{ round_money('resolved.gross_amount * functional_rates.exchange_rate') }}
        as gross_amount_functional,
    {{ round_money('resolved.discount_amount * functional_rates.exchange_rate') }}
        as discount_amount_functional,
    {{ round_money('resolved.tax_amount * functional_rates.exchange_rate') }}
        as tax_amount_functional,
    {{ round_money('resolved.fee_amount * functional_rates.exchange_rate') }}
        as fee_amount_functional,
    {{ round_money('resolved.gross_amount * reporting_rates.exchange_rate') }}
        as gross_amount_reporting,
    {{ round_money('resolved.discount_amount * reporting_rates.exchange_rate') }}
        as discount_amount_reporting,
    {{ round_money('resolved.tax_amount * reporting_rates.exchange_rate') }}
        as tax_amount_reporting,
    {{ round_money('resolved.fee_amount * reporting_rates.exchange_rate') }}
        as fee_amount_reporting
from resolved
left join rates as functional_rates
    on
        resolved.business_date = functional_rates.rate_date
        and resolved.currency_code = functional_rates.from_currency_code
        and resolved.functional_currency_code = functional_rates.to_currency_code
left join rates as reporting_rates
    on
        resolved.business_date = reporting_rates.rate_date
        and resolved.currency_code = reporting_rates.from_currency_code
        and reporting_rates.to_currency_code = '{{ var("reporting_currency") }}'
