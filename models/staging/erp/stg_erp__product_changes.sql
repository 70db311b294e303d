-- Optional attributes take the product master's defaults (erp_products' contract meta default /
-- default_from), as in stg_erp__products: a change record states a product as a snapshot row does.
with

-- the contract's natural key, per change file (file business date); the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_products_changes'),
        ['_business_date'] + contract_natural_key('erp', 'erp_products_changes', [
            'sku',
            'effective_from_date',
        ]),
    ) }}
),

renamed as (
    select
        deduplicated._business_date as recorded_date,
        deduplicated.sku,
        deduplicated.effective_from_date,
        deduplicated.is_deleted,
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
    renamed.recorded_date,
    renamed.sku,
    renamed.effective_from_date,
    renamed.is_deleted,
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
