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

locations as (
    select * from {{ ref('dim_location') }}
),

entities as (
    select * from {{ ref('dim_entity') }}
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
    {{ join_item_cross_reference(
        'cross_references',
        'sales_lines.source_system',
        'sales_lines.source_item_code',
        'sales_lines.business_date',
        condition='not coalesce(channels.uses_erp_item_code, false)',
    ) }}
    left join locations on sales_lines.location_id = locations.location_id
    left join entities on locations.entity_code = entities.entity_code
)

select
    -- every column of step 2 passes through; the wildcard is deliberate
    resolved.*,  -- noqa: AM04
    {{ reporting_currency_code() }} as reporting_currency_code,
    functional_rates.exchange_rate as functional_exchange_rate,
    reporting_rates.exchange_rate as reporting_exchange_rate,
    {{ to_currency('resolved.gross_amount', 'functional_rates') }}
        as gross_amount_functional,
    {{ to_currency('resolved.discount_amount', 'functional_rates') }}
        as discount_amount_functional,
    {{ to_currency('resolved.tax_amount', 'functional_rates') }}
        as tax_amount_functional,
    {{ to_currency('resolved.fee_amount', 'functional_rates') }}
        as fee_amount_functional,
    {{ to_currency('resolved.gross_amount', 'reporting_rates') }}
        as gross_amount_reporting,
    {{ to_currency('resolved.discount_amount', 'reporting_rates') }}
        as discount_amount_reporting,
    {{ to_currency('resolved.tax_amount', 'reporting_rates') }}
        as tax_amount_reporting,
    {{ to_currency('resolved.fee_amount', 'reporting_rates') }}
        as fee_amount_reporting
from resolved
{{ join_fx_rate(
    'functional_rates',
    'resolved.business_date',
    'resolved.currency_code',
    'resolved.functional_currency_code',
) }}
{{ join_fx_rate('reporting_rates', 'resolved.business_date', 'resolved.currency_code') }}
