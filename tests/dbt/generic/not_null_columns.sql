{#-
    not_null_columns: none of column_names is ever null. One test per model for all its
    required columns (dbt's not_null is one test, one query and one asset check per column;
    docs/decisions.md, "One not-null test per model"). Returns one row per null value, whose
    column null_column names the column; with store_failures, the rest of the row follows it.
    A column whose not-null test has another configuration (severity, where) than its
    siblings keeps its own not_null or goes into a second not_null_columns with that config.
    A model column named null_column is stored beside it as null_column_1 on DuckDB
    (docs/decisions.md, "One test per model and kind"): a model should not have one.
-#}
{% test not_null_columns(model, column_names) %}
    {%- if column_names is string or not column_names -%}
        {{ exceptions.raise_compiler_error(
            'not_null_columns on ' ~ model ~ ': column_names must be a non-empty list of '
            ~ 'column names, got ' ~ column_names
        ) }}
    {%- endif -%}
    {%- set row = ', *' if should_store_failures() else '' -%}
    {%- for column in column_names %}
select '{{ column }}' as null_column{{ row }}
from {{ model }}
where {{ column }} is null
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}

{% endtest %}
