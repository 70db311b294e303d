with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_work_order_completions'),
        contract_natural_key(
            'erp', 'erp_work_order_completions', ['work_order_number', 'line_number']
        ),
    ) }}
),

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
),

renamed as (
    select
        deduplicated.work_order_number,
        deduplicated.line_number as work_order_line_number,
        deduplicated.location_id,
        deduplicated.completed_at,
        deduplicated.line_role,
        deduplicated.sku,
        deduplicated.units,
        deduplicated.conversion_cost,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(
            {{ utc_to_local('deduplicated.completed_at', 'locations.time_zone') }} as date
        ) as business_date,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
    left join locations
        on deduplicated.location_id = locations.location_id
)

select
    renamed.work_order_number,
    renamed.work_order_line_number,
    renamed.location_id,
    renamed.completed_at,
    renamed.line_role,
    renamed.sku,
    renamed.units,
    renamed.conversion_cost,
    renamed.business_date,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
