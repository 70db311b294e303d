{#-
    Time zone conversion between naive UTC and naive local timestamps (IANA zone names).

    utc_to_local(ts, tz): the local wall-clock time (naive) of a naive UTC timestamp.
    local_to_utc(ts, tz): the naive UTC timestamp of a naive local wall-clock time.

    ts and tz are SQL expressions (a column, or a quoted literal such as "'Europe/Berlin'").
    default__ is the SQL-standard "at time zone" form, which DuckDB (ICU, built in) and Postgres
    run as written: "naive at time zone z" reads the naive value as local time in z and gives an
    instant; "instant at time zone z" gives z's wall clock of that instant. The result does not
    depend on the session time zone. Engines without that form add <adapter>__utc_to_local.
    A local time in a spring-forward gap or an autumn overlap does not name one instant; DuckDB
    (ICU) and Postgres both read it as standard time (e.g. Los Angeles 2026-03-08 02:30 -> 10:30
    UTC, 2026-11-01 01:30 -> 09:30 UTC).
-#}

{% macro utc_to_local(ts, tz) -%}
    {{ return(adapter.dispatch('utc_to_local', 'concord')(ts, tz)) }}
{%- endmacro %}

{% macro default__utc_to_local(ts, tz) -%}
    ((({{ ts }}) at time zone 'UTC') at time zone ({{ tz }}))
{%- endmacro %}


{% macro local_to_utc(ts, tz) -%}
    {{ return(adapter.dispatch('local_to_utc', 'concord')(ts, tz)) }}
{%- endmacro %}

{% macro default__local_to_utc(ts, tz) -%}
    ((({{ ts }}) at time zone ({{ tz }})) at time zone 'UTC')
{%- endmacro %}
