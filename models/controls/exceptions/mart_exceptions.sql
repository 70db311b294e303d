{{ config(materialized='view') }}
-- The exception queue: one row per problem the controls found, in this build or an earlier one
-- of this warehouse, routed by the seed exception_routing (severity, owning role, SLA days;
-- finance edits it) and decided by the seed exception_actions (acknowledge, waive). The types
-- are listed in int_exceptions_detected. Memory comes from the model exception_history: an
-- exception keeps its id and earliest first-seen date for as long as it lasts; one that a build
-- no longer detects stays, resolved on the date of that build. An action decides only the
-- occurrence it could have looked at (macro action_answers): one dated before raised_date, the
-- day the current occurrence was raised (a new hold of a path, a problem back after it had
-- resolved), answered an earlier occurrence of the same id (docs/decisions.md, "An owner's
-- action answers one occurrence"). A view, so that a build whose failing tests skip some
-- controls still shows what the others found (docs/decisions.md, "The exception queue
-- remembers").

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
        ) as resolved_date,
        -- the history keeps no detector's raised date: the occurrences below date it
        cast(null as date) as raised_date
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
        detected.resolved_date,
        detected.raised_date
    from detected
    union all
    select * from cleared
),

-- the occurrences the memory saw: a version that is resolved (a deletion record, or a
-- resolution date) ends one; the versions after it are the next, raised by the build that
-- recorded the first of them
versions as (
    select
        history.exception_id,
        history.dbt_valid_from,
        case
            when history.dbt_is_deleted = 'True' or history.resolved_date is not null then 1
            else 0
        end as is_resolution
    from history
),

counted as (
    select
        versions.*,
        sum(versions.is_resolution) over (
            partition by versions.exception_id
            order by versions.dbt_valid_from
            rows between unbounded preceding and current row
        ) as resolutions_before
    from versions
),

-- each occurrence after the first: when a build recorded it
reopened as (
    select
        counted.exception_id,
        counted.resolutions_before,
        min(counted.dbt_valid_from) as raised_at
    from counted
    where counted.is_resolution = 0 and counted.resolutions_before > 0
    group by counted.exception_id, counted.resolutions_before
),

-- per exception: its latest unresolved occurrence (0: the first) and its latest resolution
occurrences as (
    select
        counted.exception_id,
        coalesce(
            max(case when counted.is_resolution = 0 then counted.resolutions_before end), 0
        ) as latest_occurrence,
        max(counted.resolutions_before) as resolutions,
        max(case when counted.is_resolution = 1 then counted.dbt_valid_from end)
            as last_resolved_at
    from counted
    group by counted.exception_id
),

-- the day each exception's current occurrence was raised: the detector's (a hold's day) where
-- it states one; else the build that recorded it after a resolution; an unresolved detection
-- the memory last saw resolved (this build's history skipped) came back after that
-- resolution, dated the day after it (an action of the clearing day does not answer it; once
-- the history runs, a build of that same day may date it earlier); null for the first
-- occurrence the warehouse knows
raised as (
    select
        exceptions.*,
        coalesce(
            exceptions.raised_date,
            case
                when
                    exceptions.resolved_date is null
                    and occurrences.resolutions > occurrences.latest_occurrence
                    then {{ add_days(1, 'cast(occurrences.last_resolved_at as date)') }}
                else cast(reopened.raised_at as date)
            end
        ) as occurrence_raised_date
    from exceptions
    left join occurrences on exceptions.exception_id = occurrences.exception_id
    left join reopened
        on
            occurrences.exception_id = reopened.exception_id
            and occurrences.latest_occurrence = reopened.resolutions_before
),

-- the latest decision on each exception (it decides the current occurrence or none)
actions as (
    select * from {{ ref('int_exception_actions_latest') }}
),

routed as (
    select
        raised.*,
        remembered.first_detected_at,
        actions.action,
        actions.reason as action_reason,
        actions.actor as action_actor,
        actions.action_date,
        routing.severity,
        routing.owning_role,
        routing.sla_days,
        case
            when remembered.first_seen_date < raised.first_seen_date
                then remembered.first_seen_date
            else raised.first_seen_date
        end as earliest_first_seen_date,
        case
            when raised.resolved_date is not null then 'resolved'
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
    from raised
    left join remembered on raised.exception_id = remembered.exception_id
    left join actions
        on
            raised.exception_id = actions.exception_id
            and {{ action_answers('actions.action_date', 'raised.occurrence_raised_date') }}
    left join {{ ref('exception_routing') }} as routing
        on raised.exception_type = routing.exception_type
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
    cast(routed.action_date as date) as action_date,
    cast(routed.occurrence_raised_date as date) as raised_date
from routed
