with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('planning', 'planning_forecast'),
        contract_natural_key('planning', 'planning_forecast', [
            'forecast_created_date',
            'week_start_date',
            'location_id',
            'sku',
        ]),
    ) }}
),

renamed as (
    select
        deduplicated.forecast_created_date,
        deduplicated.week_start_date,
        deduplicated.location_id,
        deduplicated.sku,
        deduplicated.forecast_units,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
)

select
    renamed.forecast_created_date,
    renamed.week_start_date,
    renamed.location_id,
    renamed.sku,
    renamed.forecast_units,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
