{#-
    Relations land in exactly the schema their folder configures (raw, staging, intermediate,
    marts, seeds), not in dbt's default "<target schema>_<custom schema>". The schema names
    are part of the public interface (docs/interfaces.md) and must not change with the target.
    A model without a custom schema lands in the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
