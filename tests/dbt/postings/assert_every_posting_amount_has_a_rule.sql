{#- Dagster: a check of fct_gl_posting_events (the test reads several relations) -#}
{{ config(meta={'dagster': {'ref': {'name': 'fct_gl_posting_events'}}}) }}
-- Returns one row per event type and amount component that carries an amount in
-- fct_gl_posting_events but has no row in seed posting_rules: that amount would be left out of
-- the ledger without a trace. An error: the rules are incomplete.
{%- set components = posting_amount_components() %}

with

amounts as (
    {% for component in components %}
        select
            events.event_type,
            '{{ component }}' as amount_component,
            count(*) as event_count
        from {{ ref('fct_gl_posting_events') }} as events
        where
            events.{{ component }}_amount <> 0
            or events.{{ component }}_amount_reporting <> 0
        group by events.event_type
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    amounts.event_type,
    amounts.amount_component,
    amounts.event_count
from amounts
left join {{ ref('posting_rules') }} as rules
    on
        amounts.event_type = rules.event_type
        and amounts.amount_component = rules.amount_component
where rules.event_type is null
