{#-
    hash_pii(expr): the salted hash of a piece of personal data, as lower-case hex SHA-256 of
    salt || '|' || lower(trim(expr)); null when expr is null. The salt comes from the
    environment (CONCORD_PII_SALT, required outside the default simulated world) through the
    connection: the dbt-duckdb plugin ingestion.pii sets the DuckDB variable concord_pii_salt,
    so the salt itself is never rendered into SQL, logs or target/. A query on a connection
    without the variable fails instead of hashing with no salt. Unit tests set var
    pii_test_salt, rendered as a literal (a test value, not a secret). Normalising (trim,
    lower case) makes the same e-mail address typed differently hash alike. Personal data
    itself never leaves staging: only the hash does.
-#}

{% macro pii_salt() -%}
    {%- if var('pii_test_salt', none) is not none -%}
        '{{ var("pii_test_salt") | replace("'", "''") }}'
    {%- else -%}
        {{ adapter.dispatch('connection_pii_salt', 'concord')() }}
    {%- endif -%}
{%- endmacro %}

{#- The salt the connection holds, never rendered: DuckDB's variable set by the plugin. -#}
{% macro default__connection_pii_salt() -%}
        coalesce(
            getvariable('concord_pii_salt'),
            cast(error('the connection has no concord_pii_salt: dbt sets it from CONCORD_PII_SALT through the ingestion.pii plugin of profiles/profiles.yml') as varchar)
        )
{%- endmacro %}

{#- Spark: the session's configuration spark.concord.pii_salt (profiles/profiles.yml, from
    CONCORD_PII_SALT), substituted by Spark's parser, not by dbt: the SQL dbt renders holds the
    reference only. Unset or empty, the query fails; so does a salt that Spark redacts (one
    matching spark.redaction.regex: containing secret, password, token or access key), which
    it would substitute as '*********(redacted)'. -#}
{% macro spark__connection_pii_salt() -%}
        case
            when '${spark.concord.pii_salt}' in ('', '$' || '{spark.concord.pii_salt}')
                then cast(raise_error('the Spark session has no spark.concord.pii_salt: profiles/profiles.yml sets it from CONCORD_PII_SALT') as string)
            when '${spark.concord.pii_salt}' like '%(redacted)'
                then cast(raise_error('Spark redacts this CONCORD_PII_SALT (it matches spark.redaction.regex: secret, password, token, access key): choose a salt without those words') as string)
            else '${spark.concord.pii_salt}'
        end
{%- endmacro %}

{#- The text that is hashed: salt, a separator, the normalised value (null stays null). -#}
{% macro pii_salted_text(expr) -%}
    ({{ pii_salt() }} || '|' || lower(trim({{ expr }})))
{%- endmacro %}

{% macro hash_pii(expr) -%}
    {{ return(adapter.dispatch('hash_pii', 'concord')(expr)) }}
{%- endmacro %}

{#- DuckDB: sha256(varchar) returns lower-case hex. -#}
{% macro duckdb__hash_pii(expr) -%}
    sha256({{ pii_salted_text(expr) }})
{%- endmacro %}

{#- Postgres 11+: sha256(bytea) returns bytea. -#}
{% macro postgres__hash_pii(expr) -%}
    encode(sha256(convert_to({{ pii_salted_text(expr) }}, 'UTF8')), 'hex')
{%- endmacro %}

{#- Spark, Databricks and Snowflake: sha2(string, 256) returns lower-case hex. -#}
{% macro default__hash_pii(expr) -%}
    sha2({{ pii_salted_text(expr) }}, 256)
{%- endmacro %}
