with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_transfers'),
        contract_natural_key('erp', 'erp_transfers', [
            'transfer_number',
            'transfer_line_number',
            'event_type',
        ]),
    ) }}
),

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
),

events as (
    select
        deduplicated.*,
        -- a shipment happens at the sender, a receipt at the receiver
        case
            when deduplicated.event_type = 'shipped' then deduplicated.from_location_id
            when deduplicated.event_type = 'received' then deduplicated.to_location_id
        end as event_location_id
    from deduplicated
),

renamed as (
    select
        events.transfer_number,
        events.transfer_line_number,
        events.event_type,
        events.from_location_id,
        events.to_location_id,
        events.sku,
        events.units,
        events.event_at,
        events._source_file as source_file,
        events._source_row_number as source_row_number,
        events._loaded_at as loaded_at,
        cast(
            {{ utc_to_local('events.event_at', 'locations.time_zone') }} as date
        ) as business_date,
        cast(events._load_id as {{ dbt.type_string() }}) as load_id
    from events
    left join locations
        on events.event_location_id = locations.location_id
)

select
    renamed.transfer_number,
    renamed.transfer_line_number,
    renamed.event_type,
    renamed.from_location_id,
    renamed.to_location_id,
    renamed.sku,
    renamed.units,
    renamed.event_at,
    renamed.business_date,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
