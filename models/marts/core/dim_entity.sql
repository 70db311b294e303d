-- Legal entities, one row per entity as the latest ERP snapshot that lists it describes it,
-- with its functional currency and the group's reporting currency (var reporting_currency).
with

entities as (
    {{ latest_snapshot(ref('stg_erp__legal_entities'), ['entity_code']) }}
),

master as (
    select max(snapshots.snapshot_date) as master_snapshot_date
    from {{ ref('stg_erp__legal_entities') }} as snapshots
)

select
    cast(entities.entity_code as {{ dbt.type_string() }}) as entity_code,
    cast(entities.entity_name as {{ dbt.type_string() }}) as entity_name,
    cast(entities.functional_currency_code as {{ dbt.type_string() }})
        as functional_currency_code,
    cast({{ reporting_currency_code() }} as {{ dbt.type_string() }})
        as reporting_currency_code,
    cast(entities.country_code as {{ dbt.type_string() }}) as country_code,
    entities.snapshot_date as last_snapshot_date,
    entities.snapshot_date = master.master_snapshot_date as is_in_latest_snapshot
from entities
cross join master
