with

-- rebuilt by load: the files of the load window's business dates (all of them on a full build)
delivered as (
    select * from {{ source('pos', 'pos_sales') }}
    where {{ in_load_window('_business_date') }}
),

-- the contract's natural key; the copy loaded last wins (copies share their file's date)
deduplicated as (
    {{ deduplicate(
        'delivered',
        contract_natural_key('pos', 'pos_sales', [
            'pos_store_code',
            'receipt_number',
            'receipt_line_number',
        ]),
    ) }}
),

-- one location per store code: the one whose latest snapshot carries the code
store_locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['pos_store_code']) }}
),

renamed as (
    select
        deduplicated.pos_store_code,
        store_locations.location_id,
        deduplicated.register_number,
        deduplicated.receipt_number,
        deduplicated.receipt_line_number,
        deduplicated.transaction_type,
        deduplicated.transaction_local_time as transaction_local_timestamp,
        deduplicated.barcode,
        deduplicated.quantity,
        deduplicated.unit_price,
        deduplicated.discount_amount,
        deduplicated.tax_amount,
        deduplicated.currency_code,
        deduplicated.original_receipt_number,
        deduplicated.original_receipt_line_number,
        deduplicated.return_condition,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        deduplicated._business_date as file_business_date,
        -- the till rings up local time: the store's own date, and UTC from the store's zone
        cast(deduplicated.transaction_local_time as date) as business_date,
        {{ local_to_utc('deduplicated.transaction_local_time', 'store_locations.time_zone') }}
            as transaction_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
    left join store_locations
        on deduplicated.pos_store_code = store_locations.pos_store_code
)

select
    renamed.pos_store_code,
    renamed.receipt_number,
    renamed.receipt_line_number,
    renamed.location_id,
    renamed.register_number,
    renamed.transaction_type,
    renamed.transaction_local_timestamp,
    renamed.transaction_at,
    renamed.business_date,
    renamed.barcode,
    renamed.quantity,
    renamed.unit_price,
    renamed.discount_amount,
    renamed.tax_amount,
    renamed.currency_code,
    renamed.original_receipt_number,
    renamed.original_receipt_line_number,
    renamed.return_condition,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at,
    renamed.file_business_date
from renamed
