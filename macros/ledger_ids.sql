{#-
    opening_balance_movement_id(relation): the inventory ledger's id of an opening balance row of
    stg_erp__opening_balances (aliased `relation`): one per as-of date, location and SKU. The
    ledger and the valuation both build it here, so that they join on the same key.
-#}
{% macro opening_balance_movement_id(relation) -%}
    'opening:' || cast({{ relation }}.business_date as {{ dbt.type_string() }}) || ':'
    || {{ relation }}.location_id || ':' || {{ relation }}.sku
{%- endmacro %}

{#-
    work_order_movement_id(relation): the inventory ledger's id of a line of
    stg_erp__work_order_completions (aliased `relation`), built here for the ledger and the
    valuation alike.
-#}
{% macro work_order_movement_id(relation) -%}
    'production:' || {{ relation }}.work_order_number || ':'
    || cast({{ relation }}.work_order_line_number as {{ dbt.type_string() }})
{%- endmacro %}
