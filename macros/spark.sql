{#-
    Spark's side of what dbt-spark does not do as DuckDB does (docs/spark.md). Parquet tables
    without Delta or Iceberg have no DELETE, UPDATE or MERGE: an incremental model rewrites its
    table with `insert overwrite` from a staging table of the rows it keeps and the rebuilt ones.
-#}

{#- dbt-spark accepts its own strategies only; Concord's two are added here. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy in ['load_window', 'delete+insert'] -%}
        {%- do return(raw_strategy) -%}
    {%- endif -%}
    {%- do return(
        dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)
    ) -%}
{%- endmacro %}

{#-
    The incremental step of load_window (macros/incremental.sql: the rows from the window's
    first date on, and those config load_window_rewrites names, are replaced) and of delete+insert (the rows of the rebuilt keys are
    replaced), on Parquet tables: (1) <model>__dbt_window, a table of the target's rows outside
    what is replaced, plus the rebuilt rows (source, dbt's temporary view of the model's SQL);
    (2) `insert overwrite` of the target from it; (3) drop it. Not atomic: a crash in (1) leaves
    the target as it was and no watermark, so the next build redoes the window; a crash in (2)
    can leave the target empty or partial, with the watermark not recorded: rebuild the model
    with --full-refresh (docs/spark.md, "A crash during a build").
-#}
{% macro dbt_spark_get_incremental_sql(
    strategy, source, target, existing, unique_key, incremental_predicates
) -%}
    {%- if strategy not in ['load_window', 'delete+insert'] -%}
        {{- return(dbt.dbt_spark_get_incremental_sql(
            strategy, source, target, existing, unique_key, incremental_predicates
        )) -}}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted')
        | join(', ') -%}
    {%- if strategy == 'load_window' -%}
        {%- set replaced = load_window_replaced(load_window_start()) -%}
    {%- else -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key -%}
        {%- set replaced = '(' ~ keys | join(', ') ~ ') in (select ' ~ keys | join(', ')
            ~ ' from ' ~ source ~ ')' -%}
    {%- endif -%}
    {%- set staging = target.incorporate(path={'identifier': target.identifier ~ '__dbt_window'}) -%}
    {%- do run_query('drop table if exists ' ~ staging) -%}
    {%- do run_query(
        'create table ' ~ staging ~ ' using parquet as select ' ~ columns ~ ' from ' ~ target
        ~ ' where not coalesce(' ~ replaced ~ ', false) union all select ' ~ columns ~ ' from '
        ~ source
    ) -%}
    {%- do run_query(
        'insert overwrite table ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ staging
    ) -%}
    drop table if exists {{ staging }}
{%- endmacro %}


{#- The watermark table (macros/incremental.sql), one statement per call. -#}
{% macro spark__create_load_watermarks() -%}
    {%- if execute -%}
        {%- do run_query(
            'create schema if not exists ' ~ load_watermarks_relation().without_identifier()
        ) -%}
        {%- do run_query(
            'create table if not exists ' ~ load_watermarks_relation() ~ ' (model_name string,'
            ~ ' loaded_through_at timestamp, recorded_at timestamp, window_start date)'
            ~ ' using parquet'
        ) -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{#- dbt.listagg on Spark (dbt_project.yml dispatches dbt's macros to this project first):
    dbt-spark drops the ORDER BY; Spark 4 has listagg ... within group. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error('listagg: limit_num is not supported on Spark') }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}


{#- macros/json.sql on Spark: get_json_object gives a field as text (a nested object or array
    as its JSON text); an array's elements, as JSON text, in a column named value. -#}
{% macro spark__json_extract_text(json_expr, field) -%}
    get_json_object({{ json_expr }}, '$.{{ field }}')
{%- endmacro %}

{% macro spark__json_array_elements(json_expr) -%}
    inline(transform(from_json({{ json_expr }}, 'array<string>'), element -> named_struct('value', element)))
{%- endmacro %}


{#- macros/time_zones.sql on Spark (timestamps read in the session time zone, UTC): a local time
    in the autumn overlap hour reads as daylight time here, as standard time on DuckDB
    (docs/spark.md, "Engine differences"). -#}
{% macro spark__utc_to_local(ts, tz) -%}
    from_utc_timestamp({{ ts }}, {{ tz }})
{%- endmacro %}

{% macro spark__local_to_utc(ts, tz) -%}
    to_utc_timestamp({{ ts }}, {{ tz }})
{%- endmacro %}


{#- Seeds on Spark: dbt-spark binds seed values into the SQL unescaped, so a value with an
    apostrophe breaks the insert; here every value is a quoted literal with \ and ' escaped. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(
                        col_name, adapter.convert_type(agate_table, loop.index0)
                    ) -%}
                    {%- set value = row[loop.index0] -%}
                    {%- if value is none -%}
                        cast(null as {{ type }})
                    {%- else -%}
                        cast('{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                    {%- endif -%}
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%}){%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(statements[0] if statements else '') -}}
{%- endmacro %}
