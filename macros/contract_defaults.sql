{#-
    contract_default(relation_alias, source_name, table_name, column_name): the column of the
    relation with the contract's default for an empty value (docs/decisions.md, "Optional
    master attributes"). The default is the column's meta `default` (a literal, cast to the
    column's type) or `default_from` (another column of the same extract, itself defaulted),
    in the source YAML, the one definition; an empty text counts as empty. A column without a
    default is returned as it is. The graph is empty at parse time and in dbt unit tests, where
    the column is returned as it is.
-#}
{% macro contract_default(relation_alias, source_name, table_name, column_name) -%}
    {%- set sources = graph.get('sources') if execute else none -%}
    {%- set expression = relation_alias ~ '.' ~ column_name -%}
    {%- if not sources -%}
        {{- return(expression) -}}
    {%- endif -%}
    {%- set unique_id = 'source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name -%}
    {%- set node = sources.get(unique_id) -%}
    {%- if node is none -%}
        {{- exceptions.raise_compiler_error('contract_default: no source ' ~ unique_id) -}}
    {%- endif -%}
    {%- set column = (node.get('columns') or {}).get(column_name) -%}
    {%- if column is none -%}
        {{- exceptions.raise_compiler_error(
            'contract_default: ' ~ unique_id ~ ' has no column ' ~ column_name
        ) -}}
    {%- endif -%}
    {%- set meta = column.get('meta') or ((column.get('config') or {}).get('meta')) or {} -%}
    {%- set data_type = column.get('data_type') -%}
    {%- set value = expression -%}
    {%- if data_type == 'varchar' -%}
        {%- set value = "nullif(trim(" ~ expression ~ "), '')" -%}
    {%- endif -%}
    {%- if meta.get('default') is not none -%}
        {{- return(
            'coalesce(' ~ value ~ ', cast(' ~ "'" ~ meta.get('default') ~ "'" ~ ' as '
            ~ contract_type(data_type) ~ '))'
        ) -}}
    {%- elif meta.get('default_from') is not none -%}
        {{- return('coalesce(' ~ value ~ ', ' ~ contract_default(
            relation_alias, source_name, table_name, meta.get('default_from')
        ) ~ ')') -}}
    {%- endif -%}
    {{- return(expression) -}}
{%- endmacro %}
