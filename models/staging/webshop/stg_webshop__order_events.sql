with

-- rebuilt by load per order: every event of the orders that the load window's files touch
-- (every order on a full build), since an event's location comes from its order's others
delivered as (
    select * from {{ source('webshop', 'webshop_order_events') }}
    where {{ keys_in_load_window(
        'order_id',
        source('webshop', 'webshop_order_events'),
        'order_id',
        '_business_date',
    ) }}
),

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        'delivered',
        contract_natural_key('webshop', 'webshop_order_events', ['event_id']),
    ) }}
),

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
),

-- the locations of each order, from its latest placed and latest shipped event
order_locations as (
    select
        deduplicated.order_id,
        deduplicated.event_type,
        deduplicated.fulfillment_location_id,
        deduplicated.ship_from_location_id,
        row_number() over (
            partition by deduplicated.order_id, deduplicated.event_type
            order by deduplicated.event_at desc, deduplicated.event_id desc
        ) as event_rank
    from deduplicated
    where deduplicated.event_type in ('placed', 'shipped')
),

events as (
    select
        deduplicated.*,
        -- where the event happens: shipped at the ship-from location, refunded back to it
        -- (the fulfilling location until a shipment is known), the rest at the fulfilling one
        case
            when deduplicated.event_type = 'shipped'
                then deduplicated.ship_from_location_id
            when deduplicated.event_type = 'refunded'
                then coalesce(shipped.ship_from_location_id, placed.fulfillment_location_id)
            else placed.fulfillment_location_id
        end as event_location_id
    from deduplicated
    left join order_locations as placed
        on
            deduplicated.order_id = placed.order_id
            and placed.event_type = 'placed'
            and placed.event_rank = 1
    left join order_locations as shipped
        on
            deduplicated.order_id = shipped.order_id
            and shipped.event_type = 'shipped'
            and shipped.event_rank = 1
),

renamed as (
    select
        events.event_id,
        events.event_type,
        events.event_at,
        events.order_id,
        events.currency_code,
        events.fulfillment_location_id,
        events.ship_from_location_id,
        events.event_location_id,
        events.order_discount_amount,
        events.shipping_amount,
        events.lines,
        events.refund_lines,
        events._source_file as source_file,
        events._source_row_number as source_row_number,
        events._loaded_at as loaded_at,
        events._business_date as file_business_date,
        {{ json_extract_text('events.customer', 'customer_id') }} as customer_id,
        -- personal data: only the salted hash of the e-mail address leaves this model
        {{ hash_pii(json_extract_text('events.customer', 'email')) }} as customer_hash,
        cast(
            {{ utc_to_local('events.event_at', 'locations.time_zone') }} as date
        ) as business_date,
        cast(events._load_id as {{ dbt.type_string() }}) as load_id
    from events
    left join locations
        on events.event_location_id = locations.location_id
)

select
    renamed.event_id,
    renamed.event_type,
    renamed.event_at,
    renamed.business_date,
    renamed.order_id,
    renamed.currency_code,
    renamed.customer_id,
    renamed.customer_hash,
    renamed.fulfillment_location_id,
    renamed.ship_from_location_id,
    renamed.event_location_id,
    renamed.order_discount_amount,
    renamed.shipping_amount,
    renamed.lines,
    renamed.refund_lines,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at,
    renamed.file_business_date
from renamed
