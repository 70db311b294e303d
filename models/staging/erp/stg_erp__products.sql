-- Optional attributes (the contract's meta default / default_from) take their defaults here.
with

-- the contract's natural key, per snapshot (file business date); the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_products'),
        ['_business_date'] + contract_natural_key('erp', 'erp_products', ['sku']),
    ) }}
),

renamed as (
    select
        deduplicated._business_date as snapshot_date,
        deduplicated.sku,
        deduplicated.product_name,
        deduplicated.department,
        {{ contract_default('deduplicated', 'erp', 'erp_products', 'category') }} as category,
        {{ contract_default('deduplicated', 'erp', 'erp_products', 'subcategory') }} as subcategory,
        {{ contract_default('deduplicated', 'erp', 'erp_products', 'brand') }} as brand,
        {{ contract_default('deduplicated', 'erp', 'erp_products', 'case_pack_units') }}
            as case_pack_units,
        deduplicated.base_unit_of_measure,
        deduplicated.is_active,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
)

select
    renamed.snapshot_date,
    renamed.sku,
    renamed.product_name,
    renamed.department,
    renamed.category,
    renamed.subcategory,
    renamed.brand,
    renamed.case_pack_units,
    renamed.base_unit_of_measure,
    renamed.is_active,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
