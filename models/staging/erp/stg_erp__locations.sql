with

-- the contract's natural key, per snapshot (file business date); the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_locations'),
        ['_business_date'] + contract_natural_key('erp', 'erp_locations', ['location_id']),
    ) }}
),

renamed as (
    select
        deduplicated._business_date as snapshot_date,
        deduplicated.location_id,
        deduplicated.location_name,
        deduplicated.location_type,
        deduplicated.entity_code,
        deduplicated.time_zone,
        deduplicated.pos_store_code,
        deduplicated.wms_site_code,
        deduplicated.opened_date,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
)

select
    renamed.snapshot_date,
    renamed.location_id,
    renamed.location_name,
    renamed.location_type,
    renamed.entity_code,
    renamed.time_zone,
    renamed.pos_store_code,
    renamed.wms_site_code,
    renamed.opened_date,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
