{#- Dagster: a check of int_valuation_events_costed (the test reads several relations) -#}
{{ config(meta={'dagster': {'ref': {'name': 'int_valuation_events_costed'}}}) }}
-- A returned row is a valued issue or restocked return whose units differ from the sales line
-- it values: the valuation and the sales fact must describe the same movements.

select
    costed.event_id,
    costed.units,
    sales_lines.units as line_units
from {{ ref('int_valuation_events_costed') }} as costed
inner join {{ ref('fct_sales_lines') }} as sales_lines
    on costed.sales_line_id = sales_lines.sales_line_id
where
    costed.event_type in ('issue', 'return_restock')
    -- an issue takes the line's units out, a restocked return puts them back (a reversed line
    -- of a closed period's file delivered again has negative units: it puts them back too)
    and costed.units
    <> case when costed.event_type = 'issue' then -1 else 1 end * sales_lines.units
    -- what the last build rewrote: the window of the costs covers the sales lines' (a day wider)
    and {{ rewritten_by_last_build(ref('int_valuation_events_costed'), 'costed.event_date') }}
