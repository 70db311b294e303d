{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='dbt_scd_id',
    schema='snapshots',
    access='protected',
    full_refresh=false,
    contract={'enforced': false},
) }}
-- The exception queue's memory across builds (docs/decisions.md, "The exception queue
-- remembers" and "The exception history: one incremental model"), the same on every engine:
-- every build records the exceptions it detects. A detected exception without a current
-- version gets one; a changed one (any column listed in `checked`) has its current version
-- closed (dbt_valid_to) and a new one; one no longer detected has its current version closed
-- and a deletion record (dbt_is_deleted 'True'), dated by the build that cleared it. Never
-- rebuilt, not even by --full-refresh (full_refresh false): ids, first detections and
-- resolutions survive every rebuild; only a new warehouse starts without memory. Relation
-- snapshots.exception_history and its columns are those of the dbt snapshot it replaces, so a
-- warehouse that snapshot built continues as it is.
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
{%- set unchanged = [] %}
{%- for column in checked %}
    {%- do unchanged.append(
        'detected.' ~ column ~ ' is not distinct from current_versions.' ~ column
    ) %}
{%- endfor %}
{%- set built_at = "cast('" ~ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") ~ "' as timestamp)" %}

with

detected as (
    select
        {{ 'detected.' ~ columns | join(', detected.') }},
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
            and not ({{ unchanged | join(' and ') }}) as is_changed
        from detected
        left join current_versions on detected.exception_id = current_versions.exception_id
    ),

    opened as (
        select
            {{ 'compared.' ~ columns | join(', compared.') }},
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
            {{ 'current_versions.' ~ columns | join(', current_versions.') }},
            current_versions.dbt_scd_id,
            current_versions.dbt_updated_at,
            current_versions.dbt_valid_from,
            {{ built_at }} as dbt_valid_to,
            current_versions.dbt_is_deleted
        from current_versions
        where
            current_versions.dbt_scd_id in (
                select compared.current_scd_id from compared
                where
                    compared.is_changed
                    or (compared.is_new and compared.current_scd_id is not null)
            )
            or current_versions.dbt_scd_id in (select cleared.dbt_scd_id from cleared)
    ),

    versions as (
        select * from opened
        union all
        select
            {{ 'cleared.' ~ columns | join(', cleared.') }},
            {{ built_at }} as dbt_valid_from,
            'True' as dbt_is_deleted
        from cleared
    )
{% else %}
    versions as (
        select
            detected.*,
            'False' as dbt_is_deleted
        from detected
    )
{% endif %}

select
    {{ 'versions.' ~ columns | join(', versions.') }},
    md5(versions.exception_id || '|' || cast(versions.dbt_valid_from as string)) as dbt_scd_id,
    versions.dbt_valid_from as dbt_updated_at,
    versions.dbt_valid_from,
    cast(null as timestamp) as dbt_valid_to,
    versions.dbt_is_deleted
from versions
{% if is_incremental() %}
    union all
    select * from closed
{% endif %}
