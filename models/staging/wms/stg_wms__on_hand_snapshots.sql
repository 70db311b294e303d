with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('wms', 'wms_on_hand'),
        contract_natural_key('wms', 'wms_on_hand', [
            'snapshot_date',
            'wms_site_code',
            'wms_item_code',
            'stock_status',
            'unit_of_measure',
        ]),
    ) }}
),

-- one location per WMS site code: the one whose latest snapshot carries the code
site_locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['wms_site_code']) }}
),

renamed as (
    select
        deduplicated.snapshot_date,
        deduplicated.wms_site_code,
        site_locations.location_id,
        deduplicated.wms_item_code,
        deduplicated.stock_status,
        deduplicated.unit_of_measure,
        deduplicated.quantity,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
    left join site_locations
        on deduplicated.wms_site_code = site_locations.wms_site_code
)

select
    renamed.snapshot_date,
    renamed.wms_site_code,
    renamed.wms_item_code,
    renamed.stock_status,
    renamed.unit_of_measure,
    renamed.location_id,
    renamed.quantity,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
