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
