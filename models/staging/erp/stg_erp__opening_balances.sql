with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_opening_balances'),
        contract_natural_key('erp', 'erp_opening_balances', ['as_of_date', 'location_id', 'sku']),
    ) }}
),

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
),

renamed as (
    select
        deduplicated.as_of_date as business_date,
        deduplicated.location_id,
        deduplicated.sku,
        deduplicated.units,
        deduplicated.unit_cost,
        deduplicated.currency_code,
        -- the balance stands at the opening of the as-of date: local midnight, in UTC
        cast(
            {{ local_to_utc('cast(deduplicated.as_of_date as timestamp)', 'locations.time_zone') }}
            as timestamp
        ) as opened_at,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
    left join locations
        on deduplicated.location_id = locations.location_id
)

select
    renamed.business_date,
    renamed.location_id,
    renamed.sku,
    renamed.units,
    renamed.unit_cost,
    renamed.currency_code,
    renamed.opened_at,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
