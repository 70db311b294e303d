with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_stock_adjustments'),
        contract_natural_key('erp', 'erp_stock_adjustments', ['adjustment_number']),
    ) }}
),

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
),

renamed as (
    select
        deduplicated.adjustment_number as stock_adjustment_number,
        deduplicated.location_id,
        deduplicated.sku,
        deduplicated.reason_code,
        deduplicated.units,
        deduplicated.adjusted_at,
        deduplicated.unit_cost,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(
            {{ utc_to_local('deduplicated.adjusted_at', 'locations.time_zone') }} as date
        ) as business_date,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
    left join locations
        on deduplicated.location_id = locations.location_id
)

select
    renamed.stock_adjustment_number,
    renamed.location_id,
    renamed.sku,
    renamed.reason_code,
    renamed.units,
    renamed.adjusted_at,
    renamed.unit_cost,
    renamed.business_date,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
