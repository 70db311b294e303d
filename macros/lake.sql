{#-
    The engine-neutral raw layer on engines without ingestion's own tables (docs/spark.md):
    every source of schema raw (the extracts of the contract and ingestion's control tables) is
    an external Parquet table over its folder of the lake, CONCORD_LAKE_DIR (default data/lake):
    <lake>/raw/<table>/..., every Parquet file under it whatever its partition folders (the
    business_date=... folders are not read as a column: each file carries _business_date). The
    columns are the contract's (the source YAML, the one definition) with its types in the
    engine's names, and for an extract ingestion's lineage columns; a table with no file yet is
    empty. Registered afresh at the start of every run (on-run-start), so new files are read.
    DuckDB keeps ingestion's raw tables: nothing to do there.
-#}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources', 'concord')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
    select 1
{%- endmacro %}

{#- The lineage columns ingestion adds to every row of an extract (ingestion/load.py). -#}
{% macro lake_lineage_columns() -%}
    {{ return([
        ('_source_system', 'varchar'), ('_source_file', 'varchar'),
        ('_source_row_number', 'bigint'), ('_business_date', 'date'), ('_load_id', 'bigint'),
        ('_loaded_at', 'timestamp'),
    ]) }}
{%- endmacro %}

{#- contract_type(data_type): a type of the contract (source YAML) in the engine's name. -#}
{% macro contract_type(data_type) -%}
    {{- return(adapter.dispatch('contract_type', 'concord')(data_type)) -}}
{%- endmacro %}

{% macro default__contract_type(data_type) -%}
    {{- return(data_type) -}}
{%- endmacro %}

{% macro spark__contract_type(data_type) -%}
    {%- set lowered = data_type | lower -%}
    {{- return('string' if lowered in ('varchar', 'json', 'text') else data_type) -}}
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- set lake = env_var('CONCORD_LAKE_DIR', 'data/lake') | replace("'", "") -%}
        {%- do run_query('create schema if not exists raw') -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- if node.schema == 'raw' -%}
                {%- set columns = [] -%}
                {%- for column in node.columns.values() -%}
                    {%- do columns.append(
                        column.name ~ ' ' ~ contract_type(column.data_type)
                    ) -%}
                {%- endfor -%}
                {%- if node.source_name != 'ingestion' -%}
                    {%- for name, data_type in lake_lineage_columns() -%}
                        {%- do columns.append(name ~ ' ' ~ contract_type(data_type)) -%}
                    {%- endfor -%}
                {%- endif -%}
                {%- set relation = 'raw.' ~ node.identifier -%}
                {%- do run_query('drop table if exists ' ~ relation) -%}
                {%- do run_query(
                    'create table ' ~ relation ~ ' (' ~ columns | join(', ') ~ ') using parquet'
                    ~ " options (path '" ~ lake ~ '/raw/' ~ node.identifier
                    ~ "', recursiveFileLookup 'true')"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
