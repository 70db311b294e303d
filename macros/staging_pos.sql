{#-
    pos_sales_lines_staged(delivered, extra_key=[], passthrough=[]): the body of the POS sales
    lines' staging (deduplicated on the contract's natural key and extra_key, the store's
    location, business date and UTC time, renamed), as CTEs after the caller's CTE named
    `delivered` that holds raw rows of pos_sales; passthrough: columns of those rows kept as
    they are. One definition for stg_pos__sales_lines (the live rows) and
    stg_pos__sales_lines_replaced (the rows of replaced files).
-#}
{% macro pos_sales_lines_staged(delivered, extra_key=[], passthrough=[]) -%}
-- the contract's natural key; the copy loaded last wins (copies share their file's date)
deduplicated as (
    {{ deduplicate(
        delivered,
        contract_natural_key('pos', 'pos_sales', [
            'pos_store_code',
            'receipt_number',
            'receipt_line_number',
        ]) + extra_key,
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
        {%- for column in passthrough %},
        deduplicated.{{ column }}
        {%- endfor %}
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
    {%- for column in passthrough %},
    renamed.{{ column }}
    {%- endfor %}
from renamed
{%- endmacro %}
