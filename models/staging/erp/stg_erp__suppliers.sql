with

-- the contract's natural key, per snapshot (file business date); the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_suppliers'),
        ['_business_date'] + contract_natural_key('erp', 'erp_suppliers', ['supplier_id']),
    ) }}
),

renamed as (
    select
        deduplicated._business_date as snapshot_date,
        deduplicated.supplier_id,
        deduplicated.supplier_name,
        deduplicated.supplier_type,
        deduplicated.country_code,
        deduplicated.currency_code,
        deduplicated.payment_terms_days,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
)

select
    renamed.snapshot_date,
    renamed.supplier_id,
    renamed.supplier_name,
    renamed.supplier_type,
    renamed.country_code,
    renamed.currency_code,
    renamed.payment_terms_days,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
