{#-
    Whole-table models on DuckDB, replaced in one statement inside the model's transaction:
    `create or replace table ... as` (docs/decisions.md, "Tables replaced in one statement").
    dbt-duckdb's own table materialization builds `<model>__dbt_tmp`, renames the old table to
    `<model>__dbt_backup`, renames the new one into place and drops the backup, after asking the
    catalog for databases, constraints and indexes: about ten statements a model, each with its
    dbt events, where DuckDB needs one. Readers see the old table or the new one, as before (the
    replacement commits with the model's post-hooks). Kept from dbt-duckdb's: hooks inside and
    outside the transaction, the contract's column check and constraints, grants and docs.
    Not handled, and not used by this project: Python models, foreign keys, indexes, DuckLake
    partitioning and sort keys. Other engines keep their adapter's table materialization.
-#}
{% materialization table, adapter='duckdb', supported_languages=['sql'] %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set grant_config = config.get('grants') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    -- `BEGIN` happens here:
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {#- a view (or anything else) of the model's name is not replaced by a table: dropped -#}
    {%- if existing_relation is not none and not existing_relation.is_table -%}
        {{ adapter.drop_relation(existing_relation) }}
    {%- endif -%}

    {% call statement('main') -%}
        {{ duckdb__replace_table_as(target_relation, compiled_code) }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do apply_grants(
        target_relation,
        grant_config,
        should_revoke=should_revoke(existing_relation, full_refresh_mode=True),
    ) %}
    {% do persist_docs(target_relation, model) %}
    -- `COMMIT` happens here
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- The statement (DuckDB's own SQL, named as an engine implementation: docs/spark.md, "Portable
    SQL"): with an enforced contract, the declared columns and constraints first (after dbt's
    check that the query's columns match them), then the rows. -#}
{% macro duckdb__replace_table_as(relation, compiled_code) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    {%- if config.get('contract').enforced %}
    {{ get_assert_columns_equivalent(compiled_code) }}
    create or replace table {{ relation }} {{ get_table_columns_and_constraints() }};
    insert into {{ relation }} {{ get_column_names() }} (
        {{ get_select_subquery(compiled_code) }}
    );
    {%- else %}
    create or replace table {{ relation }} as (
        {{ compiled_code }}
    );
    {%- endif %}
{%- endmacro %}
