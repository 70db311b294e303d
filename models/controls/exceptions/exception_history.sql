{{ config(
    enabled=target.type == 'spark',
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='dbt_scd_id',
    schema='snapshots',
    full_refresh=false,
    contract={'enforced': false},
) }}
-- The exception queue's memory on Spark (docs/decisions.md, "The exception history on Spark"):
-- dbt snapshots need Delta or Iceberg there, so this incremental model keeps the versions the
-- snapshot snapshots/exception_history keeps on DuckDB, same relation, same columns, same
-- rules (strategy check on the columns listed below, hard deletes as new records): a detected
-- exception without a current version gets one; a changed one has its current version closed
-- (dbt_valid_to) and a new one; one no longer detected has its current version closed and a
-- deletion record (dbt_is_deleted 'True'). Never rebuilt (full_refresh false), as a snapshot.
{%- set checked = [
    'natural_key', 'entity_code', 'location_id', 'sku', 'affected_units',
    'affected_value_reporting', 'explanation', 'first_seen_date', 'last_seen_date',
    'resolved_date',
] %}
{%- set columns = [
    'exception_id', 'exception_type', 'natural_key', 'entity_code', 'location_id', 'sku',
    'source_system', 'affected_units', 'affected_value_reporting', 'reporting_currency_code',
    'explanation', 'first_seen_date', 'last_seen_date', 'resolved_date',
] %}
{%- set built_at = "cast('" ~ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") ~ "' as timestamp)" %}

with

detected as (
    select
        {%- for column in columns %}
        detected.{{ column }},
        {%- endfor %}
        {{ built_at }} as dbt_valid_from
    from {{ ref('int_exceptions_detected') }} as detected
),

{% if is_incremental() %}
current_versions as (
    select history.*
    from {{ this }} as history
    where history.dbt_valid_to is null
),

-- detected now, with the current version they continue (if any, and not a deletion record)
compared as (
    select
        detected.*,
        current_versions.dbt_scd_id as current_scd_id,
        coalesce(current_versions.dbt_is_deleted, 'True') = 'True' as is_new,
        not coalesce(current_versions.dbt_is_deleted, 'True') = 'True'
        and not (
            {%- for column in checked %}
            {{ 'and ' if not loop.first }}detected.{{ column }} is not distinct from current_versions.{{ column }}
            {%- endfor %}
        ) as is_changed
    from detected
    left join current_versions on detected.exception_id = current_versions.exception_id
),

opened as (
    select
        {%- for column in columns %}
        compared.{{ column }},
        {%- endfor %}
        compared.dbt_valid_from,
        'False' as dbt_is_deleted
    from compared
    where compared.is_new or compared.is_changed
),

cleared as (
    select current_versions.*
    from current_versions
    left join detected on current_versions.exception_id = detected.exception_id
    where detected.exception_id is null and current_versions.dbt_is_deleted = 'False'
),

-- the current versions that a new version or a deletion record closes
closed as (
    select
        {%- for column in columns %}
        current_versions.{{ column }},
        {%- endfor %}
        current_versions.dbt_scd_id,
        current_versions.dbt_updated_at,
        current_versions.dbt_valid_from,
        {{ built_at }} as dbt_valid_to,
        current_versions.dbt_is_deleted
    from current_versions
    where
        current_versions.dbt_scd_id in (
            select compared.current_scd_id from compared
            where compared.is_changed or (compared.is_new and compared.current_scd_id is not null)
        )
        or current_versions.dbt_scd_id in (select cleared.dbt_scd_id from cleared)
),

versions as (
    select * from opened
    union all
    select
        {%- for column in columns %}
        cleared.{{ column }},
        {%- endfor %}
        {{ built_at }} as dbt_valid_from,
        'True' as dbt_is_deleted
    from cleared
)
{% else %}
versions as (
    select detected.*, 'False' as dbt_is_deleted
    from detected
)
{% endif %}

select
    {%- for column in columns %}
    versions.{{ column }},
    {%- endfor %}
    md5(versions.exception_id || '|' || cast(versions.dbt_valid_from as string)) as dbt_scd_id,
    versions.dbt_valid_from as dbt_updated_at,
    versions.dbt_valid_from,
    cast(null as timestamp) as dbt_valid_to,
    versions.dbt_is_deleted
from versions
{%- if is_incremental() %}
union all
select * from closed
{%- endif %}
