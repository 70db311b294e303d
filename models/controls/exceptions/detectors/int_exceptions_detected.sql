{{ config(materialized='view') }}
-- Every problem the controls find in this build's data, one row per exception: the union of the
-- per-type models int_exceptions__<type>, listed below, which all produce these columns. A new
-- type adds its model to the list and its routing row to seed exception_routing. A view, so
-- that the queue reads each type's latest build even when a build skips another type's model
-- (a failing upstream test skips its dependants, never the types that do not depend on it).
-- The model exception_history keeps the memory; mart_exceptions routes and ranks.
{%- set exception_models = [
    'int_exceptions__unresolved_codes',
    'int_exceptions__fx_gaps',
    'int_exceptions__reconciliation_breaks',
    'int_exceptions__negative_stock',
    'int_exceptions__duplicate_invoices',
    'int_exceptions__price_mismatches',
    'int_exceptions__late_events',
    'int_exceptions__quarantined_rows',
    'int_exceptions__issues_without_cost',
    'int_exceptions__missing_deliveries',
    'int_exceptions__held_redeliveries',
    'int_exceptions__rejected_files',
    'int_exceptions__return_rate_outliers',
    'int_exceptions__sku_return_rate_outliers',
    'int_exceptions__customer_return_rate_outliers',
    'int_exceptions__underpricing',
    'int_exceptions__stock_imbalances',
    'int_exceptions__stock_out_risks',
    'int_exceptions__shrink_spikes',
    'int_exceptions__supplier_cost_creep',
    'int_exceptions__volume_breaks',
] %}

{% for exception_model in exception_models %}
    select
        cast(typed.exception_id as {{ dbt.type_string() }}) as exception_id,
        cast(typed.exception_type as {{ dbt.type_string() }}) as exception_type,
        cast(typed.natural_key as {{ dbt.type_string() }}) as natural_key,
        cast(typed.entity_code as {{ dbt.type_string() }}) as entity_code,
        cast(typed.location_id as {{ dbt.type_string() }}) as location_id,
        cast(typed.sku as {{ dbt.type_string() }}) as sku,
        cast(typed.source_system as {{ dbt.type_string() }}) as source_system,
        cast(typed.affected_units as bigint) as affected_units,
        cast(typed.affected_value_reporting as decimal(18, 2)) as affected_value_reporting,
        cast(typed.reporting_currency_code as {{ dbt.type_string() }}) as reporting_currency_code,
        cast(typed.explanation as {{ dbt.type_string() }}) as explanation,
        cast(typed.first_seen_date as date) as first_seen_date,
        cast(typed.last_seen_date as date) as last_seen_date,
        cast(typed.resolved_date as date) as resolved_date,
        cast(typed.raised_date as date) as raised_date
    from {{ ref(exception_model) }} as typed
    {% if not loop.last %}union all{% endif %}
{% endfor %}
