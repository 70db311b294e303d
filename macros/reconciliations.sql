{#-
    reconciliation_assessed(comparisons): the comparisons of a reconciliation with the policy
    applied (seed reconciliation_policy; docs/decisions.md, "Reconciliations"). comparisons is a
    relation or CTE name with at least reconciliation_name, entity_code, left_value,
    right_value (in the reconciliation's unit) and is_due (false while the right-hand side
    cannot cover the comparison yet). Adds difference_value (left - right), tolerance_abs and
    tolerance_bps (the entity's policy row, else the '*' row), tolerance_value =
    max(tolerance_abs, tolerance_bps / 10000 x |right_value|), severity, and status: pending
    when not due, pass within the tolerance, else break. A reconciliation without a policy row
    has a null severity, which its not_null test reports. informational_when, if given, is a
    condition on the assessed row (alias assessed; the policy's supplier_invoices_expected is
    among its columns) under which the comparison is information only: status info.
-#}
{% macro reconciliation_assessed(comparisons, informational_when=none) -%}
    select
        assessed.*,
        case
            {% if informational_when is not none -%}
            when {{ informational_when }} then 'info'
            {% endif -%}
            when not assessed.is_due then 'pending'
            when abs(assessed.difference_value) <= assessed.tolerance_value then 'pass'
            else 'break'
        end as status
    from (
        select
            compared.*,
            cast(compared.left_value - compared.right_value as decimal(18, 2))
                as difference_value,
            coalesce(own_policies.tolerance_abs, default_policies.tolerance_abs)
                as tolerance_abs,
            coalesce(own_policies.tolerance_bps, default_policies.tolerance_bps)
                as tolerance_bps,
            cast(greatest(
                coalesce(own_policies.tolerance_abs, default_policies.tolerance_abs),
                coalesce(own_policies.tolerance_bps, default_policies.tolerance_bps) / 10000
                * abs(compared.right_value)
            ) as decimal(18, 2)) as tolerance_value,
            coalesce(own_policies.severity, default_policies.severity) as severity,
            coalesce(
                own_policies.supplier_invoices_expected,
                default_policies.supplier_invoices_expected
            ) as supplier_invoices_expected
        from {{ comparisons }} as compared
        left join {{ ref('reconciliation_policy') }} as own_policies
            on
                compared.reconciliation_name = own_policies.reconciliation_name
                and compared.entity_code = own_policies.entity_code
        left join {{ ref('reconciliation_policy') }} as default_policies
            on
                compared.reconciliation_name = default_policies.reconciliation_name
                and default_policies.entity_code = '*'
    ) as assessed
{%- endmacro %}


{#-
    reconciliation_columns(): the columns every reconciliation model ends with, in order, for
    mart_reconciliations to union.
-#}
{% macro reconciliation_columns() -%}
    {{ return([
        'comparison_id', 'reconciliation_name', 'entity_code', 'location_id', 'sku',
        'comparison_date', 'left_value', 'right_value', 'difference_value', 'value_unit',
        'tolerance_abs', 'tolerance_bps', 'tolerance_value', 'severity', 'status',
        'difference_value_reporting', 'reporting_currency_code', 'explanation',
    ]) }}
{%- endmacro %}


{#-
    reconciliation_common_columns(comparison_id, value_unit, location_id=none, sku=none,
    reporting_difference=none, rate_alias='reporting_rates'): the columns every reconciliation
    model's final select starts with, from comparison_id to reporting_currency_code
    (reconciliation_columns() but its explanation, which each reconciliation words itself), of
    the assessed comparisons (alias assessed, reconciliation_assessed()). location_id and sku
    are null unless given; difference_value_reporting is reporting_difference (default the
    difference itself, in the value unit's currency) converted into the reporting currency at
    the rate the model joins as rate_alias with join_fx_rate() on the comparison date.
-#}
{% macro reconciliation_common_columns(
    comparison_id,
    value_unit,
    location_id=none,
    sku=none,
    reporting_difference=none,
    rate_alias='reporting_rates'
) -%}
    {%- set no_text = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
    {{ comparison_id }} as comparison_id,
    assessed.reconciliation_name,
    assessed.entity_code,
    {{ no_text if location_id is none else location_id }} as location_id,
    {{ no_text if sku is none else sku }} as sku,
    assessed.comparison_date,
    assessed.left_value,
    assessed.right_value,
    assessed.difference_value,
    {{ value_unit }} as value_unit,
    assessed.tolerance_abs,
    assessed.tolerance_bps,
    assessed.tolerance_value,
    assessed.severity,
    assessed.status,
    {{ to_currency(
        'assessed.difference_value' if reporting_difference is none else reporting_difference,
        rate_alias,
    ) }} as difference_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code
{%- endmacro %}


{#-
    erp_gl_due_columns(comparison_date): is_due and erp_covered_until_date of a comparison with
    the ERP's GL as posted by the cutoff (the date plus dbt var erp_gl_posting_lag_days; docs/
    decisions.md, "Reconciliations"): due once the ERP extract's latest posting (CTE
    erp_coverage, erp_gl_coverage(), cross joined) reaches the cutoff, pending until then.
-#}
{% macro erp_gl_due_columns(comparison_date) -%}
    coalesce(
        {{ add_days(var('erp_gl_posting_lag_days'), comparison_date) }}
        <= erp_coverage.last_posting_date,
        false
    ) as is_due,
    erp_coverage.last_posting_date as erp_covered_until_date
{%- endmacro %}


{#- erp_gl_coverage(erp_lines): the ERP extract's latest posting date (last_posting_date) -#}
{% macro erp_gl_coverage(erp_lines) -%}
    select max(erp_lines.last_posting_date) as last_posting_date from {{ erp_lines }} as erp_lines
{%- endmacro %}


{#-
    difference_text(): "; difference <difference>, tolerance <tolerance>" of an assessed
    comparison, for its explanation.
-#}
{% macro difference_text() -%}
    '; difference ' || {{ to_text('assessed.difference_value') }} || ', tolerance '
    || {{ to_text('assessed.tolerance_value') }}
{%- endmacro %}


{#-
    erp_pending_text(): why a comparison with the ERP's GL is pending, for its explanation: up
    to which date the ERP extract covers postings (column erp_covered_until_date).
-#}
{% macro erp_pending_text() -%}
    '; pending: the ERP extract covers postings up to '
    || coalesce({{ to_text('assessed.erp_covered_until_date') }}, 'no date yet')
{%- endmacro %}


{#- to_text(expression): the expression as text, for explanations (an amount keeps its cents). -#}
{% macro to_text(expression) -%}
    cast({{ expression }} as {{ dbt.type_string() }})
{%- endmacro %}


{#- add_days(days, date_expression): a date days later (earlier when negative), as a date. -#}
{% macro add_days(days, date_expression) -%}
    cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{%- endmacro %}


{#- reconciliation_column_list(alias): reconciliation_columns() of alias, comma separated. -#}
{% macro reconciliation_column_list(alias) -%}
    {%- set columns = [] -%}
    {%- for column in reconciliation_columns() -%}
        {%- do columns.append(alias ~ '.' ~ column) -%}
    {%- endfor -%}
    {{ columns | join(',\n        ') }}
{%- endmacro %}
