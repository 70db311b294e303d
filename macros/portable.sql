{#-
    Small SQL forms that differ between engines, one dispatched macro each (default__: the
    SQL-standard or DuckDB form; spark__: Spark's). tests/python/test_portable_sql.py fails on
    these constructs written directly in models, tests or undispatched macros.
-#}

{#- regexp_replace_all(expression, pattern, replacement): every match replaced. -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'concord')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{#- Spark replaces every match. -#}
{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}


{#- iso_day_of_week(date_expression): 1 (Monday) to 7 (Sunday). -#}
{% macro iso_day_of_week(date_expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'concord')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expression) -%}
    extract(isodow from {{ date_expression }})
{%- endmacro %}

{% macro spark__iso_day_of_week(date_expression) -%}
    (weekday({{ date_expression }}) + 1)
{%- endmacro %}


{#-
    built_columns(): a subquery of every column of the warehouse this project builds in:
    table_schema, table_name, column_name. DuckDB: information_schema.columns of the target's
    database. Spark has no information_schema: the columns of every model, seed and snapshot
    of the project that exists, listed when the query is compiled.
-#}
{% macro built_columns() -%}
    {{ return(adapter.dispatch('built_columns', 'concord')()) }}
{%- endmacro %}

{% macro default__built_columns() -%}
    (
        select
            catalog_columns.table_schema,
            catalog_columns.table_name,
            catalog_columns.column_name
        from information_schema.columns as catalog_columns
        where catalog_columns.table_catalog = '{{ target.database }}'
    )
{%- endmacro %}

{% macro spark__built_columns() -%}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
            {%- if node.resource_type in ['model', 'seed', 'snapshot']
                and node.config.materialized != 'ephemeral' -%}
                {%- set relation = adapter.get_relation(
                    database=node.database, schema=node.schema, identifier=node.alias
                ) -%}
                {%- if relation is not none -%}
                    {%- for column in adapter.get_columns_in_relation(relation) -%}
                        {%- do rows.append("('" ~ node.schema ~ "', '" ~ node.alias ~ "', '"
                            ~ column.name ~ "')") -%}
                    {%- endfor -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if rows -%}
    (
        select * from values {{ rows | join(', ') }}
            as listed (table_schema, table_name, column_name)
    )
    {%- else -%}
    (
        select
            cast(null as string) as table_schema,
            cast(null as string) as table_name,
            cast(null as string) as column_name
        where false
    )
    {%- endif -%}
{%- endmacro %}
