-- Locations (stores, distribution centres, the marketplace's virtual location), one row per
-- location as the latest ERP snapshot that lists it describes it: owning entity and its
-- functional currency, time zone, and the codes the POS and the WMS use for it.
with

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
),

entities as (
    {{ latest_snapshot(ref('stg_erp__legal_entities'), ['entity_code']) }}
),

master as (
    select max(snapshots.snapshot_date) as master_snapshot_date
    from {{ ref('stg_erp__locations') }} as snapshots
)

select
    cast(locations.location_id as {{ dbt.type_string() }}) as location_id,
    cast(locations.location_name as {{ dbt.type_string() }}) as location_name,
    cast(locations.location_type as {{ dbt.type_string() }}) as location_type,
    cast(locations.entity_code as {{ dbt.type_string() }}) as entity_code,
    cast(entities.functional_currency_code as {{ dbt.type_string() }})
        as functional_currency_code,
    cast(locations.time_zone as {{ dbt.type_string() }}) as time_zone,
    cast(locations.pos_store_code as {{ dbt.type_string() }}) as pos_store_code,
    cast(locations.wms_site_code as {{ dbt.type_string() }}) as wms_site_code,
    locations.opened_date,
    locations.snapshot_date as last_snapshot_date,
    locations.snapshot_date = master.master_snapshot_date as is_in_latest_snapshot
from locations
left join entities
    on locations.entity_code = entities.entity_code
cross join master
