with

-- rebuilt by load: the files of the load window's business dates (all of them on a full build)
delivered as (
    select * from {{ source('marketplace', 'marketplace_settlement') }}
    where {{ in_load_window('_business_date') }}
),

-- the contract's natural key; the copy loaded last wins (copies share their file's date)
deduplicated as (
    {{ deduplicate(
        'delivered',
        contract_natural_key('marketplace', 'marketplace_settlement', [
            'settlement_id',
            'settlement_row_number',
        ]),
    ) }}
),

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
),

-- the marketplace ships from one location of ours (dbt var marketplace_location_id)
settlement_rows as (
    select
        deduplicated.*,
        '{{ var("marketplace_location_id") }}' as location_id
    from deduplicated
),

renamed as (
    select
        settlement_rows.settlement_id,
        settlement_rows.settlement_row_number,
        settlement_rows.transaction_type,
        settlement_rows.row_type,
        settlement_rows.order_id,
        settlement_rows.order_line_number,
        settlement_rows.marketplace_item_code,
        settlement_rows.location_id,
        settlement_rows.posted_at,
        settlement_rows.quantity,
        settlement_rows.item_price_amount,
        settlement_rows.promotion_amount,
        settlement_rows.tax_amount,
        settlement_rows.fee_amount,
        settlement_rows.currency_code,
        settlement_rows._source_file as source_file,
        settlement_rows._source_row_number as source_row_number,
        settlement_rows._loaded_at as loaded_at,
        settlement_rows._business_date as file_business_date,
        cast(
            {{ utc_to_local('settlement_rows.posted_at', 'locations.time_zone') }} as date
        ) as business_date,
        cast(settlement_rows._load_id as {{ dbt.type_string() }}) as load_id
    from settlement_rows
    left join locations
        on settlement_rows.location_id = locations.location_id
)

select
    renamed.settlement_id,
    renamed.settlement_row_number,
    renamed.transaction_type,
    renamed.row_type,
    renamed.order_id,
    renamed.order_line_number,
    renamed.marketplace_item_code,
    renamed.location_id,
    renamed.posted_at,
    renamed.business_date,
    renamed.quantity,
    renamed.item_price_amount,
    renamed.promotion_amount,
    renamed.tax_amount,
    renamed.fee_amount,
    renamed.currency_code,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at,
    renamed.file_business_date
from renamed
