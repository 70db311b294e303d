{#- Dagster: a check of stg_webshop__order_events (the test reads several relations) -#}
{{ config(meta={'dagster': {'ref': {'name': 'stg_webshop__order_events'}}}) }}
-- Returns one row per column, in any schema the project builds (everything but raw), whose
-- name says it carries personal data (e-mail, name, phone, or the raw customer JSON). Such a
-- column must not exist: staging hashes personal data (hash_pii) and drops the rest.
-- depends_on: {{ ref('stg_webshop__order_events') }}
-- depends_on: {{ ref('stg_webshop__order_lines') }}
-- depends_on: {{ ref('stg_webshop__refund_lines') }}

select
    model_columns.table_schema,
    model_columns.table_name,
    model_columns.column_name
from {{ built_columns() }} as model_columns
where
    lower(model_columns.table_schema) <> 'raw'
    and (
        lower(model_columns.column_name) in ('customer', 'full_name')
        or lower(model_columns.column_name) like '%email%'
        or lower(model_columns.column_name) like '%phone%'
    )
