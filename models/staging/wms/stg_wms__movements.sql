with

-- rebuilt by load: the files of the load window's business dates (all of them on a full build)
delivered as (
    select * from {{ source('wms', 'wms_movements') }}
    where {{ in_load_window('_business_date') }}
),

-- the contract's natural key; the copy loaded last wins (copies share their file's date)
deduplicated as (
    {{ deduplicate(
        'delivered',
        contract_natural_key('wms', 'wms_movements', ['wms_site_code', 'movement_number']),
    ) }}
),

-- one location per WMS site code: the one whose latest snapshot carries the code
site_locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['wms_site_code']) }}
),

movements as (
    select
        deduplicated.*,
        site_locations.location_id,
        -- the DC's local date
        cast(
            {{ utc_to_local('deduplicated.moved_at', 'site_locations.time_zone') }} as date
        ) as business_date
    from deduplicated
    left join site_locations
        on deduplicated.wms_site_code = site_locations.wms_site_code
),

renamed as (
    select
        movements.wms_site_code,
        movements.movement_number,
        movements.location_id,
        movements.movement_type,
        movements.stock_status,
        movements.wms_item_code,
        movements.unit_of_measure,
        movements.quantity,
        movements.reference_number,
        movements.moved_at,
        movements.business_date,
        movements._source_file as source_file,
        movements._source_row_number as source_row_number,
        movements._loaded_at as loaded_at,
        movements._business_date as file_business_date,
        cast(movements._load_id as {{ dbt.type_string() }}) as load_id
    from movements
)

select
    renamed.wms_site_code,
    renamed.movement_number,
    renamed.location_id,
    renamed.movement_type,
    renamed.stock_status,
    renamed.wms_item_code,
    renamed.unit_of_measure,
    renamed.quantity,
    renamed.reference_number,
    renamed.moved_at,
    renamed.business_date,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at,
    renamed.file_business_date
from renamed
