-- Products, one row per SKU version (SCD type 2 from the ERP product master's weekly
-- snapshots), plus one unresolved member (sku = var unresolved_sku) that carries the units and
-- value of facts whose item code the ERP cross-reference does not resolve. A fact finds its
-- version by sku and business_date between valid_from_date and valid_to_date (open when null).
with

versions as (
    select
        {{ dbt.concat([
            'products.sku',
            "'#'",
            'cast(products.version_number as ' ~ dbt.type_string() ~ ')',
        ]) }} as product_version_id,
        products.sku,
        products.version_number,
        products.product_name,
        products.department,
        products.category,
        products.subcategory,
        products.brand,
        products.case_pack_units,
        products.base_unit_of_measure,
        products.is_active,
        products.valid_from_date,
        products.valid_to_date,
        products.is_current,
        false as is_unresolved_member,
        products.first_snapshot_date,
        products.last_snapshot_date,
        products.is_in_latest_snapshot
    from {{ ref('int_products_historized') }} as products
),

unresolved_member as (
    select
        '{{ var("unresolved_sku") }}' as product_version_id,
        '{{ var("unresolved_sku") }}' as sku,
        1 as version_number,
        'Unresolved item code' as product_name,
        'Unresolved' as department,
        'Unresolved' as category,
        'Unresolved' as subcategory,
        'Unresolved' as brand,
        cast(null as integer) as case_pack_units,
        'EA' as base_unit_of_measure,
        false as is_active,
        (
            select min(calendar_days.date_day) from {{ ref('int_calendar_days') }} as calendar_days
        ) as valid_from_date,
        cast(null as date) as valid_to_date,
        true as is_current,
        true as is_unresolved_member,
        cast(null as date) as first_snapshot_date,
        cast(null as date) as last_snapshot_date,
        false as is_in_latest_snapshot
),

products as (
    select * from versions
    union all
    select * from unresolved_member
)

select
    cast(products.product_version_id as {{ dbt.type_string() }}) as product_version_id,
    cast(products.sku as {{ dbt.type_string() }}) as sku,
    cast(products.version_number as integer) as version_number,
    cast(products.product_name as {{ dbt.type_string() }}) as product_name,
    cast(products.department as {{ dbt.type_string() }}) as department,
    cast(products.category as {{ dbt.type_string() }}) as category,
    cast(products.subcategory as {{ dbt.type_string() }}) as subcategory,
    cast(products.brand as {{ dbt.type_string() }}) as brand,
    cast(products.case_pack_units as integer) as case_pack_units,
    cast(products.base_unit_of_measure as {{ dbt.type_string() }}) as base_unit_of_measure,
    products.is_active,
    products.valid_from_date,
    products.valid_to_date,
    products.is_current,
    products.is_unresolved_member,
    products.first_snapshot_date,
    products.last_snapshot_date,
    products.is_in_latest_snapshot
from products
