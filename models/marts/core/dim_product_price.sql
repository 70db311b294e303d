-- List prices, one row per entity, SKU and validity range (the ERP selling price list, regular
-- price per each excluding tax, in the entity's functional currency). Kept apart from
-- dim_product because prices change per entity and on their own dates (docs/decisions.md).
select
    cast(
        {{ dbt.concat([
            'prices.entity_code',
            "'|'",
            'prices.sku',
            "'|'",
            'cast(prices.valid_from_date as ' ~ dbt.type_string() ~ ')',
        ]) }} as {{ dbt.type_string() }}
    ) as product_price_id,
    cast(prices.entity_code as {{ dbt.type_string() }}) as entity_code,
    cast(prices.sku as {{ dbt.type_string() }}) as sku,
    prices.valid_from_date,
    prices.valid_to_date,
    prices.valid_to_date is null as is_current,
    cast(prices.unit_price as decimal(18, 4)) as list_price,
    cast(prices.currency_code as {{ dbt.type_string() }}) as currency_code
from {{ ref('int_product_prices_dated') }} as prices
