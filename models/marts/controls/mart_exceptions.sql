-- The exception queue: one row per open problem the build found, routed by the seed
-- exception_routing (severity, owning role, SLA days; finance edits it). Each exception type is
-- an intermediate model int_exceptions__<type> with the common columns below; a new type adds
-- its model to the list and its routing row to the seed.
{%- set exception_models = [
    'int_exceptions__unresolved_codes',
    'int_exceptions__fx_gaps',
] %}

with

exceptions as (
    {% for exception_model in exception_models %}
        select
            typed.exception_id,
            typed.exception_type,
            typed.natural_key,
            typed.entity_code,
            typed.location_id,
            typed.sku,
            typed.source_system,
            typed.affected_units,
            typed.affected_value_reporting,
            typed.reporting_currency_code,
            typed.explanation,
            typed.first_seen_date,
            typed.last_seen_date
        from {{ ref(exception_model) }} as typed
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

routed as (
    select
        exceptions.*,
        routing.severity,
        routing.owning_role,
        routing.sla_days,
        case routing.severity
            when 'critical' then 1
            when 'high' then 2
            when 'medium' then 3
            when 'low' then 4
        end as severity_rank
    from exceptions
    left join {{ ref('exception_routing') }} as routing
        on exceptions.exception_type = routing.exception_type
)

select
    cast(routed.exception_id as {{ dbt.type_string() }}) as exception_id,
    cast(routed.exception_type as {{ dbt.type_string() }}) as exception_type,
    cast(routed.natural_key as {{ dbt.type_string() }}) as natural_key,
    cast(routed.severity as {{ dbt.type_string() }}) as severity,
    cast(routed.owning_role as {{ dbt.type_string() }}) as owning_role,
    cast(
        row_number() over (
            order by
                routed.severity_rank asc,
                routed.affected_value_reporting desc nulls last,
                routed.first_seen_date asc,
                routed.exception_id asc
        ) as integer
    ) as priority,
    cast('open' as {{ dbt.type_string() }}) as status,
    cast(routed.entity_code as {{ dbt.type_string() }}) as entity_code,
    cast(routed.location_id as {{ dbt.type_string() }}) as location_id,
    cast(routed.sku as {{ dbt.type_string() }}) as sku,
    cast(routed.source_system as {{ dbt.type_string() }}) as source_system,
    cast(routed.affected_units as bigint) as affected_units,
    cast(routed.affected_value_reporting as decimal(18, 2)) as affected_value_reporting,
    cast(routed.reporting_currency_code as {{ dbt.type_string() }}) as reporting_currency_code,
    cast(routed.explanation as {{ dbt.type_string() }}) as explanation,
    routed.first_seen_date,
    routed.last_seen_date,
    cast(routed.sla_days as integer) as sla_days,
    cast(
        {{ dbt.dateadd('day', 'routed.sla_days', 'routed.first_seen_date') }} as date
    ) as sla_due_date
from routed
