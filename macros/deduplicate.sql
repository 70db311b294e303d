{#-
    Deduplication helpers for staging (docs/decisions.md, "Deduplication in staging").

    contract_natural_key(source_name, table_name, natural_key): the natural key columns of an
    extract as the model states them, checked against the contract (the source table's
    meta.natural_key), so that a model cannot drift from the one definition.

    deduplicate(relation, partition_by, order_by, rank_column): one row per partition_by, the first by
    order_by. The default order keeps the row loaded last, then the lowest row number of its
    file, then (only to be deterministic) the latest file name, which puts a re-delivery
    (_2, _3, ...) before the original. relation is a relation or a CTE name.

    latest_snapshot(relation, key_columns): each key's row from its latest snapshot_date in a
    snapshot staging model (e.g. the time zone of every location as last delivered).
-#}

{% macro contract_natural_key(source_name, table_name, natural_key) -%}
    {#- Returns natural_key, after checking that it is the contract's natural key of the source
        table (meta.natural_key in _<system>__sources.yml): a model that deduplicates on other
        columns than the contract fails to compile. The graph is empty in dbt unit tests, where
        the check is skipped. -#}
    {%- set sources = graph.get('sources') if execute else none -%}
    {%- if sources -%}
        {%- set unique_id = 'source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name -%}
        {%- set node = sources.get(unique_id) -%}
        {%- if node is none -%}
            {{- exceptions.raise_compiler_error('contract_natural_key: no source ' ~ unique_id) -}}
        {%- endif -%}
        {%- set contract_key = (node.get('meta') or {}).get('natural_key') or [] -%}
        {%- if (contract_key | list) != (natural_key | list) -%}
            {{- exceptions.raise_compiler_error(
                'contract_natural_key: ' ~ unique_id ~ ' has natural key ' ~ (contract_key | list)
                ~ ' in its contract, the model deduplicates on ' ~ (natural_key | list)
            ) -}}
        {%- endif -%}
    {%- endif -%}
    {{- return(natural_key) -}}
{%- endmacro %}


{% macro deduplicate(
    relation,
    partition_by,
    order_by='_loaded_at desc, _source_row_number asc, _source_file desc',
    rank_column='deduplication_rank'
) -%}
    {#- rank_column: the name of the rank the result carries; a relation that is itself the
        result of a deduplication already has a deduplication_rank, so a second deduplication
        must rank under another name, or it would filter on the first rank (always 1). -#}
    select ranked.*
    from (
        select
            candidate.*,
            row_number() over (
                partition by {{ partition_by | join(', ') }}
                order by {{ order_by }}
            ) as {{ rank_column }}
        from {{ relation }} as candidate
    ) as ranked
    where ranked.{{ rank_column }} = 1
{%- endmacro %}


{% macro latest_snapshot(relation, key_columns) -%}
    {{ deduplicate(relation, key_columns, order_by='snapshot_date desc') }}
{%- endmacro %}
