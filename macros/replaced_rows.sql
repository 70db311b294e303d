{#-
    replaced_rows(source_name, table_name): the rows that files of one extract had when a later
    delivery replaced them (raw.replaced_rows; docs/decisions.md, "Period close: a closed
    month's file delivered again"), in the shape of the extract's raw table: every contract
    column read back from row_values through its contract type (the source YAML, the one
    definition), then the lineage columns of the replaced load, then replaced_by_load_id.
    The graph is empty in dbt unit tests and at parse time: no column is read then.
-#}
{% macro replaced_rows(source_name, table_name) -%}
    {%- set sources = graph.get('sources') if execute else none -%}
    {%- set columns = [] -%}
    {%- if sources -%}
        {%- set unique_id = 'source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name -%}
        {%- set node = sources.get(unique_id) -%}
        {%- if node is none -%}
            {{- exceptions.raise_compiler_error('replaced_rows: no source ' ~ unique_id) -}}
        {%- endif -%}
        {%- for column in node.columns.values() -%}
            {%- do columns.append(column) -%}
        {%- endfor -%}
    {%- endif %}
    select
        {%- for column in columns %}
        cast({{ json_extract_text('replaced.row_values', column.name) }}
            as {{ contract_type(column.data_type) }}) as {{ column.name }},
        {%- endfor %}
        replaced.source_system as _source_system,
        replaced.source_file as _source_file,
        replaced.source_row_number as _source_row_number,
        replaced.business_date as _business_date,
        replaced.load_id as _load_id,
        replaced.loaded_at as _loaded_at,
        replaced.replaced_by_load_id
    from {{ source('ingestion', 'replaced_rows') }} as replaced
    where replaced.extract_name = '{{ table_name }}'
{%- endmacro %}
