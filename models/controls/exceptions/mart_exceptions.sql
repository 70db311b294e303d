{{ config(materialized='view') }}
-- The exception queue: one row per problem the controls found, in this build or an earlier one
-- of this warehouse, routed by the seed exception_routing (severity, owning role, SLA days;
-- finance edits it) and decided by the seed exception_actions (acknowledge, waive). The types
-- are listed in int_exceptions_detected. Memory comes from the model exception_history: an
-- exception keeps its id and earliest first-seen date for as long as it lasts; one that a build
-- no longer detects stays, resolved on the date of that build. A view, so that a build whose
-- failing tests skip some controls still shows what the others found (docs/decisions.md).

with

detected as (
    select * from {{ ref('int_exceptions_detected') }}
),

history as (
    select * from {{ ref('exception_history') }}
),

-- what earlier builds saw of each exception
remembered as (
    select
        history.exception_id,
        min(history.dbt_valid_from) as first_detected_at,
        min(history.first_seen_date) as first_seen_date
    from history
    where coalesce(history.dbt_is_deleted, 'False') <> 'True'
    group by history.exception_id
),

-- the snapshot's current record of each exception: a deletion record when a build cleared it
latest as (
    select history.*
    from history
    where history.dbt_valid_to is null
),

-- exceptions no longer detected: their last version, resolved by the build that cleared them
cleared as (
    select
        latest.exception_id,
        latest.exception_type,
        latest.natural_key,
        latest.entity_code,
        latest.location_id,
        latest.sku,
        latest.source_system,
        latest.affected_units,
        latest.affected_value_reporting,
        latest.reporting_currency_code,
        latest.explanation,
        latest.first_seen_date,
        latest.last_seen_date,
        case
            when latest.dbt_is_deleted = 'True' then latest.dbt_valid_from
        end as resolved_at,
        coalesce(
            latest.resolved_date,
            case when latest.dbt_is_deleted = 'True' then cast(latest.dbt_valid_from as date) end,
            latest.last_seen_date
        ) as resolved_date
    from latest
    left join detected on latest.exception_id = detected.exception_id
    where detected.exception_id is null
),

exceptions as (
    select
        detected.exception_id,
        detected.exception_type,
        detected.natural_key,
        detected.entity_code,
        detected.location_id,
        detected.sku,
        detected.source_system,
        detected.affected_units,
        detected.affected_value_reporting,
        detected.reporting_currency_code,
        detected.explanation,
        detected.first_seen_date,
        detected.last_seen_date,
        cast(null as timestamp) as resolved_at,
        detected.resolved_date
    from detected
    union all
    select * from cleared
),

-- the latest decision on each exception
actions as (
    select * from {{ ref('int_exception_actions_latest') }}
),

routed as (
    select
        exceptions.*,
        remembered.first_detected_at,
        actions.action,
        actions.reason as action_reason,
        actions.actor as action_actor,
        actions.action_date,
        routing.severity,
        routing.owning_role,
        routing.sla_days,
        case
            when remembered.first_seen_date < exceptions.first_seen_date
                then remembered.first_seen_date
            else exceptions.first_seen_date
        end as earliest_first_seen_date,
        case
            when exceptions.resolved_date is not null then 'resolved'
            when actions.action = 'waive' then 'waived'
            when actions.action = 'confirm_genuine' then 'confirmed'
            when actions.action = 'acknowledge' then 'acknowledged'
            else 'open'
        end as status,
        case routing.severity
            when 'critical' then 1
            when 'high' then 2
            when 'medium' then 3
            when 'low' then 4
        end as severity_rank
    from exceptions
    left join remembered on exceptions.exception_id = remembered.exception_id
    left join actions on exceptions.exception_id = actions.exception_id
    left join {{ ref('exception_routing') }} as routing
        on exceptions.exception_type = routing.exception_type
)

select
    cast(routed.exception_id as {{ dbt.type_string() }}) as exception_id,
    cast(routed.exception_type as {{ dbt.type_string() }}) as exception_type,
    cast(routed.natural_key as {{ dbt.type_string() }}) as natural_key,
    cast(routed.severity as {{ dbt.type_string() }}) as severity,
    cast(routed.owning_role as {{ dbt.type_string() }}) as owning_role,
    -- the open queue first, then by severity, impact (largest first) and age (oldest first)
    cast(
        row_number() over (
            order by
                case routed.status
                    when 'open' then 1
                    when 'acknowledged' then 1
                    when 'waived' then 2
                    when 'confirmed' then 2
                    else 3
                end asc,
                routed.severity_rank asc,
                routed.affected_value_reporting desc nulls last,
                routed.earliest_first_seen_date asc,
                routed.exception_id asc
        ) as integer
    ) as priority,
    cast(routed.status as {{ dbt.type_string() }}) as status,
    cast(routed.entity_code as {{ dbt.type_string() }}) as entity_code,
    cast(routed.location_id as {{ dbt.type_string() }}) as location_id,
    cast(routed.sku as {{ dbt.type_string() }}) as sku,
    cast(routed.source_system as {{ dbt.type_string() }}) as source_system,
    cast(routed.affected_units as bigint) as affected_units,
    cast(routed.affected_value_reporting as decimal(18, 2)) as affected_value_reporting,
    cast(routed.reporting_currency_code as {{ dbt.type_string() }}) as reporting_currency_code,
    cast(routed.explanation as {{ dbt.type_string() }}) as explanation,
    cast(routed.earliest_first_seen_date as date) as first_seen_date,
    cast(routed.last_seen_date as date) as last_seen_date,
    cast(routed.sla_days as integer) as sla_days,
    cast(
        {{ dbt.dateadd('day', 'routed.sla_days', 'routed.earliest_first_seen_date') }} as date
    ) as sla_due_date,
    cast(routed.resolved_date as date) as resolved_date,
    cast(routed.first_detected_at as timestamp) as first_detected_at,
    cast(routed.resolved_at as timestamp) as resolved_at,
    cast(routed.action_reason as {{ dbt.type_string() }}) as action_reason,
    cast(routed.action_actor as {{ dbt.type_string() }}) as action_actor,
    cast(routed.action_date as date) as action_date
from routed
