with

-- the contract's natural key, per change file (file business date); the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_price_list_changes'),
        ['_business_date'] + contract_natural_key('erp', 'erp_price_list_changes', [
            'entity_code',
            'sku',
            'valid_from_date',
        ]),
    ) }}
),

renamed as (
    select
        deduplicated._business_date as recorded_date,
        deduplicated.entity_code,
        deduplicated.sku,
        deduplicated.valid_from_date,
        deduplicated.valid_to_date,
        deduplicated.unit_price,
        deduplicated.currency_code,
        deduplicated.is_deleted,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
)

select
    renamed.recorded_date,
    renamed.entity_code,
    renamed.sku,
    renamed.valid_from_date,
    renamed.valid_to_date,
    renamed.unit_price,
    renamed.currency_code,
    renamed.is_deleted,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
