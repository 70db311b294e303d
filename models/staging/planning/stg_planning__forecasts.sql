with

-- rebuilt by load: the files of the load window's business dates (all of them on a full build)
delivered as (
    select * from {{ source('planning', 'planning_forecast') }}
    where {{ in_load_window('_business_date') }}
),

-- the contract's natural key; the copy loaded last wins (copies share their file's date: the
-- key holds the publication date, which is the file's)
deduplicated as (
    {{ deduplicate(
        'delivered',
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
        deduplicated._business_date as file_business_date,
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
    renamed.loaded_at,
    renamed.file_business_date
from renamed
