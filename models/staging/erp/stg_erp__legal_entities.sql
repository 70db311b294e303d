with

-- the contract's natural key, per snapshot (file business date); the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_legal_entities'),
        ['_business_date'] + contract_natural_key('erp', 'erp_legal_entities', ['entity_code']),
    ) }}
),

renamed as (
    select
        deduplicated._business_date as snapshot_date,
        deduplicated.entity_code,
        deduplicated.entity_name,
        deduplicated.functional_currency_code,
        deduplicated.country_code,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
)

select
    renamed.snapshot_date,
    renamed.entity_code,
    renamed.entity_name,
    renamed.functional_currency_code,
    renamed.country_code,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
