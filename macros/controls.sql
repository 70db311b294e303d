{#-
    contract_column_position(source_name, table_name, column_name): the 1-based position of a
    column in an extract's contract (the source table's columns in _<system>__sources.yml), which
    is its field number in a delivered row. Fails to compile for a column the contract does not
    have; 0 while dbt parses (the graph is not loaded yet).
-#}
{% macro contract_column_position(source_name, table_name, column_name) -%}
    {%- if not execute -%}
        {{- return(0) -}}
    {%- endif -%}
    {%- set unique_id = 'source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name -%}
    {%- set node = graph.sources.get(unique_id) -%}
    {%- if node is none -%}
        {{- exceptions.raise_compiler_error('contract_column_position: no source ' ~ unique_id) -}}
    {%- endif -%}
    {%- set names = node.columns.keys() | list -%}
    {%- if column_name not in names -%}
        {{- exceptions.raise_compiler_error(
            'contract_column_position: ' ~ unique_id ~ ' has no column ' ~ column_name
        ) -}}
    {%- endif -%}
    {{- return(names.index(column_name) + 1) -}}
{%- endmacro %}


{#-
    contract_field(source_name, table_name, column_name, raw_text, delimiter): the text of a
    contract column in a delivered row (split on the delimiter, without quote handling), or null
    when empty.
-#}
{% macro contract_field(source_name, table_name, column_name, raw_text, delimiter) -%}
    nullif({{ dbt.split_part(
        raw_text,
        delimiter,
        contract_column_position(source_name, table_name, column_name),
    ) }}, '')
{%- endmacro %}


{#-
    try_cast_or_null(expression, data_type): the expression cast to data_type, or null when the
    text does not parse (a quarantined row's values). DuckDB: try_cast; other engines: dbt's
    safe_cast, which is safe on Snowflake and BigQuery (Postgres needs its own implementation).
-#}
{% macro try_cast_or_null(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast_or_null', 'concord')(expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast_or_null(expression, data_type) -%}
    {{ dbt.safe_cast(expression, data_type) }}
{%- endmacro %}

{% macro duckdb__try_cast_or_null(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}


{#-
    action_answers(action_date, raised_date): whether an owner's action of seed
    exception_actions dated action_date answers the occurrence of its exception raised on
    raised_date (a date or timestamp): only an action dated on or after that day does; an
    earlier one answered an earlier occurrence of the same exception id. A null raised_date
    (the first occurrence the warehouse knows) is answered by any action; a null action_date
    answers nothing. The one statement of the rule in SQL, read by the exception queue and the
    held re-deliveries; ingestion's release_frees states it in Python (docs/decisions.md, "An
    owner's action answers one occurrence").
-#}
{% macro action_answers(action_date, raised_date) -%}
    (
        {{ action_date }} is not null
        and ({{ raised_date }} is null or {{ action_date }} >= cast({{ raised_date }} as date))
    )
{%- endmacro %}
