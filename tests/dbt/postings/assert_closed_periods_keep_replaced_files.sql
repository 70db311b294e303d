-- Returns every file of an event extract other than the POS sales that replaced an earlier
-- delivery of its business date after the close of a period it can hold events of
-- (int_late_posting_periods). The closed period keeps a replaced POS file's lines and posts the
-- correction less them in the first open period (int_pos_sales_lines_restated); the other
-- extracts' replaced rows are kept in raw.replaced_rows but not yet read back, so such a
-- period would lose the first delivery's events: an error, naming the file, rather than a
-- closed period that silently changes (docs/decisions.md, "Period close: a closed month's file
-- delivered again").
{{ config(
    severity='error',
    meta={'dagster': {'ref': {'name': 'int_late_posting_periods'}}}
) }}
{%- set event_extracts = [] %}
{%- if execute %}
    {%- for node in graph.sources.values() %}
        {%- set cadence = (node.meta or {}).get('cadence') %}
        {%- if node.source_name != 'ingestion' and cadence not in (none, 'weekly_snapshot')
            and node.name != 'pos_sales' %}
            {%- do event_extracts.append(node.name) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

select distinct
    load_log.extract_name,
    load_log.source_file,
    load_log.related_load_id as replaced_load_id,
    late.entity_code,
    late.adjusts_period_start_date
from {{ source('ingestion', 'load_log') }} as load_log
inner join {{ ref('int_late_posting_periods') }} as late
    on load_log.source_file = late.source_file
where
    load_log.status = 'replaced'
    and load_log.extract_name in (
        {%- for name in event_extracts %}
            '{{ name }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )
