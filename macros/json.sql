{#-
    JSON helpers (the only JSON-specific SQL of the project).

    json_extract_text(json_expr, field): a top-level field of a JSON object as text (null when
    absent or JSON null). Cast the result to the field's type at the call site.

    json_array_elements(json_expr): a table function, for "cross join lateral", with one row per
    element of a JSON array, the element in a column named "value". An empty array or a null
    gives no rows.
-#}

{% macro json_extract_text(json_expr, field) -%}
    {{ return(adapter.dispatch('json_extract_text', 'concord')(json_expr, field)) }}
{%- endmacro %}

{#- DuckDB and Postgres both read "->>" on JSON as "field as text". -#}
{% macro default__json_extract_text(json_expr, field) -%}
    ({{ json_expr }} ->> '{{ field }}')
{%- endmacro %}


{% macro json_array_elements(json_expr) -%}
    {{ return(adapter.dispatch('json_array_elements', 'concord')(json_expr)) }}
{%- endmacro %}

{#- Postgres: json_array_elements(json) returns setof json in a column named "value". -#}
{% macro default__json_array_elements(json_expr) -%}
    json_array_elements({{ json_expr }})
{%- endmacro %}

{#- DuckDB: json_each over an array gives one row per element, the element in "value". -#}
{% macro duckdb__json_array_elements(json_expr) -%}
    json_each({{ json_expr }})
{%- endmacro %}
