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

-- the mapping valid on the snapshot date; should two overlap, the one that started last
item_matches as (
    select
        deduplicated.*,
        wms_item_codes.sku,
        wms_item_codes.valid_from_date
    from deduplicated
    left join wms_item_codes
        on
            deduplicated.wms_item_code = wms_item_codes.wms_item_code
            and deduplicated.snapshot_date >= wms_item_codes.valid_from_date
            and (
                wms_item_codes.valid_to_date is null
                or deduplicated.snapshot_date <= wms_item_codes.valid_to_date
            )
),

resolved as (
    {{ deduplicate(
        'item_matches',
        ['snapshot_date', 'wms_site_code', 'wms_item_code', 'stock_status', 'unit_of_measure'],
        order_by='valid_from_date desc nulls last',
        rank_column='item_match_rank',
    ) }}
),

renamed as (
    select
        resolved.snapshot_date,
        resolved.wms_site_code,
        site_locations.location_id,
        resolved.wms_item_code,
        resolved.sku,
        resolved.stock_status,
        resolved.unit_of_measure,
        resolved.quantity,
        products.case_pack_units,
        resolved._source_file as source_file,
        resolved._source_row_number as source_row_number,
        resolved._loaded_at as loaded_at,
        resolved.sku is null as is_unresolved_item,
        case
            when resolved.unit_of_measure = 'CS'
                then resolved.quantity * products.case_pack_units
            else resolved.quantity
        end as quantity_eaches,
        cast(resolved._load_id as {{ dbt.type_string() }}) as load_id
    from resolved
    left join site_locations
        on resolved.wms_site_code = site_locations.wms_site_code
    left join products
        on resolved.sku = products.sku
)

select
    renamed.snapshot_date,
    renamed.wms_site_code,
    renamed.wms_item_code,
    renamed.stock_status,
    renamed.unit_of_measure,
    renamed.location_id,
    renamed.sku,
    renamed.is_unresolved_item,
    renamed.quantity,
    renamed.case_pack_units,
    renamed.quantity_eaches,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
