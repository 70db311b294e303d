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

wms_item_codes as (
    select
        cross_references.source_item_code as wms_item_code,
        cross_references.sku,
        cross_references.valid_from_date,
        cross_references.valid_to_date
    from (
        {{ current_ranges(
            ref('stg_erp__item_cross_references'),
            ref('stg_erp__item_cross_reference_changes'),
            ['source_system', 'source_item_code', 'sku', 'valid_from_date', 'valid_to_date'],
            ['source_system', 'source_item_code', 'valid_from_date'],
        ) }}
    ) as cross_references
    where cross_references.source_system = 'wms'
),

-- the latest statement of each SKU, from snapshots or change records
products as (
    {{ deduplicate(
        '(' ~ product_statements() ~ ')', ['sku'], order_by='effective_from_date desc'
    ) }}
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

-- the mapping valid on the business date; should two overlap, the one that started last
item_matches as (
    select
        movements.*,
        wms_item_codes.sku,
        wms_item_codes.valid_from_date
    from movements
    left join wms_item_codes
        on
            movements.wms_item_code = wms_item_codes.wms_item_code
            and movements.business_date >= wms_item_codes.valid_from_date
            and (
                wms_item_codes.valid_to_date is null
                or movements.business_date <= wms_item_codes.valid_to_date
            )
),

resolved as (
    {{ deduplicate(
        'item_matches',
        ['wms_site_code', 'movement_number'],
        order_by='valid_from_date desc nulls last',
        rank_column='item_match_rank',
    ) }}
),

renamed as (
    select
        resolved.wms_site_code,
        resolved.movement_number,
        resolved.location_id,
        resolved.movement_type,
        resolved.stock_status,
        resolved.wms_item_code,
        resolved.sku,
        resolved.unit_of_measure,
        resolved.quantity,
        products.case_pack_units,
        resolved.reference_number,
        resolved.moved_at,
        resolved.business_date,
        resolved._source_file as source_file,
        resolved._source_row_number as source_row_number,
        resolved._loaded_at as loaded_at,
        resolved._business_date as file_business_date,
        resolved.sku is null as is_unresolved_item,
        case
            when resolved.unit_of_measure = 'CS'
                then resolved.quantity * products.case_pack_units
            else resolved.quantity
        end as quantity_eaches,
        cast(resolved._load_id as {{ dbt.type_string() }}) as load_id
    from resolved
    left join products
        on resolved.sku = products.sku
)

select
    renamed.wms_site_code,
    renamed.movement_number,
    renamed.location_id,
    renamed.movement_type,
    renamed.stock_status,
    renamed.wms_item_code,
    renamed.sku,
    renamed.is_unresolved_item,
    renamed.unit_of_measure,
    renamed.quantity,
    renamed.case_pack_units,
    renamed.quantity_eaches,
    renamed.reference_number,
    renamed.moved_at,
    renamed.business_date,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at,
    renamed.file_business_date
from renamed
