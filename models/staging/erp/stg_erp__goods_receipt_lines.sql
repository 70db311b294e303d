with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_goods_receipts'),
        contract_natural_key('erp', 'erp_goods_receipts', [
            'receipt_number',
            'receipt_line_number',
        ]),
    ) }}
),

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
),

renamed as (
    select
        deduplicated.receipt_number as goods_receipt_number,
        deduplicated.receipt_line_number as goods_receipt_line_number,
        deduplicated.po_number as purchase_order_number,
        deduplicated.po_line_number as purchase_order_line_number,
        deduplicated.location_id,
        deduplicated.sku,
        deduplicated.received_units,
        deduplicated.received_at,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        -- the receiving location's local date
        cast(
            {{ utc_to_local('deduplicated.received_at', 'locations.time_zone') }} as date
        ) as business_date,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
    left join locations
        on deduplicated.location_id = locations.location_id
)

select
    renamed.goods_receipt_number,
    renamed.goods_receipt_line_number,
    renamed.purchase_order_number,
    renamed.purchase_order_line_number,
    renamed.location_id,
    renamed.sku,
    renamed.received_units,
    renamed.received_at,
    renamed.business_date,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
