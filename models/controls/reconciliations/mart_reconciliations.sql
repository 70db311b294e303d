-- Every comparison of every reconciliation in one relation (their common columns): the input
-- of the exception queue's reconciliation breaks and of the status summary. A new
-- reconciliation adds its model to the list below and its rows to seed reconciliation_policy.
{%- set reconciliation_models = [
    'mart_reconciliation_sales_gl',
    'mart_reconciliation_inventory_gl',
    'mart_reconciliation_on_hand_wms',
    'mart_reconciliation_channel_orders',
    'mart_reconciliation_three_way_match',
    'mart_reconciliation_books',
] %}

{% for reconciliation_model in reconciliation_models %}
    select
        {{ reconciliation_column_list('reconciliation') }}
    from {{ ref(reconciliation_model) }} as reconciliation
    {% if not loop.last %}union all{% endif %}
{% endfor %}
