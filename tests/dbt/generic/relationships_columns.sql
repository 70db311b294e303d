{#-
    relationships_columns: every non-null value of each listed column exists in its parent,
    as dbt's relationships test checks one column. One test per model for its references to
    models upstream of it, one per parent for the others (so a failure skips what each
    reference's own test skipped; docs/decisions.md, "One test per model and kind");
    `relationships` lists them as
    {column, to, field}, `to` a ref() or source(). Returns one row per value without a parent,
    whose column orphan_column names the column, and its parent after ` -> ` when the column has
    two references in the list ("sku -> dim_product"); with store_failures, the tested row
    follows.
    A reference whose test has another configuration (severity, where) than its siblings goes
    into a second relationships_columns with that config. The parents are read whole, as dbt's
    relationships reads its `to`: a test's `where` and scoping apply to the tested model.
    A model column named orphan_column is stored beside it as orphan_column_1 on DuckDB
    (docs/decisions.md, "One test per model and kind"): a model should not have one.
-#}
{% test relationships_columns(model, relationships) %}
    {%- if relationships is string or relationships is mapping or not relationships -%}
        {{ exceptions.raise_compiler_error(
            'relationships_columns on ' ~ model ~ ': relationships must be a non-empty list of '
            ~ '{column, to, field}, got ' ~ relationships
        ) }}
    {%- endif -%}
    {%- for reference in relationships -%}
        {%- if reference is not mapping
            or not (reference.column and reference.to and reference.field) -%}
            {{ exceptions.raise_compiler_error(
                'relationships_columns on ' ~ model ~ ': each reference needs column, to and '
                ~ 'field, got ' ~ reference
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set row = ', tested.*' if should_store_failures() else '' -%}
    {#- the model read in each branch, as not_null_columns does: a `tested` CTE read by several
        branches is materialized by DuckDB (each branch then scans the copy) -#}
    {%- set columns = relationships | map(attribute='column') | list -%}
    {%- for reference in relationships %}
        {%- set parent = reference.to.identifier if reference.to.identifier is defined
            else reference.to -%}
        {%- set named = reference.column
            if columns | select('equalto', reference.column) | list | length == 1
            else reference.column ~ ' -> ' ~ parent %}
select '{{ named }}' as orphan_column{{ row }}
from (select * from {{ model }}) as tested
left join {{ reference.to }} as parent
    on tested.{{ reference.column }} = parent.{{ reference.field }}
where tested.{{ reference.column }} is not null and parent.{{ reference.field }} is null
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}

{% endtest %}
