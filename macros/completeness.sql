{#-
    completeness_contract(): the extract contract's completeness expectations as a relation, one
    row per extract (every source table whose config.meta has a cadence, i.e. every
    models/staging/*/_*__sources.yml table): source_system, extract_name, cadence (daily |
    weekdays | weekly_snapshot | changes | on_event: never expected), expects_rows (meta
    expect_rows; false: a delivery of no data
    rows is a quiet day), scope_column (meta completeness_scope_column: the store or site column
    every expected day must carry each member of, or null), sales_channel (meta sales_channel:
    the mart_net_sales channel the extract feeds, or null), delivery_lag_days (meta
    delivery_lag_days, default 0: a business date's file is due that many days after it) and
    changes_extract_name (for a weekly snapshot extract, the extract whose meta changes_of names
    it: its change records, or null). Read
    from dbt's graph, so the contract YAML stays the one definition (docs/decisions.md,
    "Completeness: expected deliveries from the contract"). While dbt parses (no graph yet), an
    empty relation of the same columns.
-#}
{% macro completeness_contract() -%}
    {%- set rows = [] -%}
    {%- set changes_extracts = {} -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() -%}
            {%- set meta = node.config.meta or node.meta or {} -%}
            {%- if meta.get('changes_of') -%}
                {%- do changes_extracts.update({meta['changes_of']: node.name}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- set meta = node.config.meta or node.meta or {} -%}
            {%- if meta.get('cadence') -%}
                {%- if meta.get('expect_rows') is none -%}
                    {{- exceptions.raise_compiler_error(
                        'completeness_contract: extract ' ~ node.name
                        ~ ' has no meta expect_rows in its contract'
                    ) -}}
                {%- endif -%}
                {%- do rows.append({
                    'source_system': node.source_name,
                    'extract_name': node.name,
                    'cadence': meta['cadence'],
                    'expects_rows': meta['expect_rows'],
                    'scope_column': meta.get('completeness_scope_column'),
                    'sales_channel': meta.get('sales_channel'),
                    'delivery_lag_days': meta.get('delivery_lag_days', 0),
                    'changes_extract_name': changes_extracts.get(node.name),
                }) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if rows | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as extract_name,
        cast(null as {{ dbt.type_string() }}) as cadence,
        cast(null as boolean) as expects_rows,
        cast(null as {{ dbt.type_string() }}) as scope_column,
        cast(null as {{ dbt.type_string() }}) as sales_channel,
        cast(null as integer) as delivery_lag_days,
        cast(null as {{ dbt.type_string() }}) as changes_extract_name
    where false
    {%- else %}
        {%- for row in rows %}
    select
        cast('{{ row.source_system }}' as {{ dbt.type_string() }}) as source_system,
        cast('{{ row.extract_name }}' as {{ dbt.type_string() }}) as extract_name,
        cast('{{ row.cadence }}' as {{ dbt.type_string() }}) as cadence,
        {{ 'true' if row.expects_rows else 'false' }} as expects_rows,
        cast({{ "'" ~ row.scope_column ~ "'" if row.scope_column else 'null' }}
            as {{ dbt.type_string() }}) as scope_column,
        cast({{ "'" ~ row.sales_channel ~ "'" if row.sales_channel else 'null' }}
            as {{ dbt.type_string() }}) as sales_channel,
        cast({{ row.delivery_lag_days | int }} as integer) as delivery_lag_days,
        cast({{ "'" ~ row.changes_extract_name ~ "'" if row.changes_extract_name else 'null' }}
            as {{ dbt.type_string() }}) as changes_extract_name
            {%- if not loop.last %}
    union all
            {%- endif %}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}


{#-
    completeness_scoped_extracts(): {extract name: scope column} of the extracts whose contract
    names a completeness_scope_column ({} while dbt parses).
-#}
{% macro completeness_scoped_extracts() -%}
    {%- set scoped = {} -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() -%}
            {%- set meta = node.config.meta or node.meta or {} -%}
            {%- if meta.get('cadence') and meta.get('completeness_scope_column') -%}
                {%- do scoped.update({node.name: meta['completeness_scope_column']}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(scoped) -}}
{%- endmacro %}
