-- Returns every file of an extract that posts, other than the POS sales, that replaced an
-- earlier delivery of its business date after the close of a period (int_late_posting_periods)
-- when the replaced or the replacing file holds events dated in that period. The closed period
-- keeps a replaced POS file's lines and posts the correction less them in the first open
-- period (int_pos_sales_lines_restated); the other extracts' replaced rows are kept in
-- raw.replaced_rows but not yet read back, so such a period would lose the first delivery's
-- events: an error, naming the file, rather than a closed period that silently changes
-- (docs/decisions.md, "Period close: a closed month's file delivered again"). A re-delivery
-- whose rows hold no event of the closed period changes nothing there and passes.
-- posting_extracts: each extract that posts, with the column dating its events and how many
-- days before the period an event of it can post in the period (a UTC time is a local date
-- one day apart; an order placed any time before shipping in the period posts when it ships:
-- none). Every daily or on-event extract is listed here or in not_posting_extracts, so a new
-- one must be placed.
{{ config(
    severity='error',
    meta={'dagster': {'ref': {'name': 'int_late_posting_periods'}}}
) }}
{%- set posting_extracts = {
    'erp_goods_receipts': ('erp', 'received_at', 1),
    'erp_supplier_invoices': ('erp', 'invoice_date', 0),
    'erp_transfers': ('erp', 'event_at', 1),
    'erp_stock_adjustments': ('erp', 'adjusted_at', 1),
    'erp_opening_balances': ('erp', 'as_of_date', 0),
    'erp_work_order_completions': ('erp', 'completed_at', 1),
    'erp_sales_orders': ('erp', 'transaction_at', 1),
    'marketplace_settlement': ('marketplace', 'posted_at', 1),
    'webshop_order_events': ('webshop', 'event_at', none),
    'wms_movements': ('wms', 'moved_at', 1),
} %}
{%- set not_posting_extracts = [
    'pos_sales', 'erp_gl_journal_lines', 'erp_purchase_orders', 'erp_fx_rates', 'wms_on_hand',
] %}
{%- if execute %}
    {%- for node in graph.sources.values() %}
        {%- set cadence = (node.meta or {}).get('cadence') %}
        {%- if node.source_name != 'ingestion' and cadence in ('daily', 'weekdays', 'on_event')
            and node.name not in posting_extracts and node.name not in not_posting_extracts %}
            {{- exceptions.raise_compiler_error(
                'assert_closed_periods_keep_replaced_files: extract ' ~ node.name
                ~ ' is in neither posting_extracts nor not_posting_extracts'
            ) -}}
        {%- endif %}
    {%- endfor %}
{%- endif %}

with

replacements as (
    select distinct
        load_log.extract_name,
        load_log.source_file,
        load_log.load_id as replacing_load_id,
        load_log.related_load_id as replaced_load_id,
        late.entity_code,
        late.adjusts_period_start_date
    from {{ source('ingestion', 'load_log') }} as load_log
    inner join {{ ref('int_late_posting_periods') }} as late
        on load_log.source_file = late.source_file
    where
        load_log.status = 'replaced'
        and load_log.extract_name in (
            {%- for name in posting_extracts %}
                '{{ name }}'{{ ',' if not loop.last }}
            {%- endfor %}
        )
),

-- the loads of both sides of each replacement
loads as (
    select replacements.replacing_load_id as load_id from replacements
    union all
    select replacements.replaced_load_id as load_id from replacements
),

-- the dates of their rows: the live raw table, and the replaced rows (the replacing file may
-- have been replaced in turn)
event_dates as (
    {%- for name, (source_name, column, margin_days) in posting_extracts.items() %}
        select
            '{{ name }}' as extract_name,
            delivered._load_id as load_id,
            cast(delivered.{{ column }} as date) as event_date
        from (
            select
                live._load_id,
                live.{{ column }}
            from {{ source(source_name, name) }} as live
            union all
            select
                replaced._load_id,
                replaced.{{ column }}
            from ({{ replaced_rows(source_name, name) }}) as replaced
        ) as delivered
        where delivered._load_id in (select loads.load_id from loads)
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- the days before its period an event of each extract can post in it (null: any day), and
-- after it (a UTC time one, a date none)
margins as (
    {%- for name, (source_name, column, margin_days) in posting_extracts.items() %}
        select
            '{{ name }}' as extract_name,
            {{ 'cast(null as integer)' if margin_days is none else margin_days }}
                as days_before,
            {{ 0 if margin_days == 0 else 1 }} as days_after
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select distinct
    replacements.extract_name,
    replacements.source_file,
    replacements.replaced_load_id,
    replacements.entity_code,
    replacements.adjusts_period_start_date
from replacements
inner join margins on replacements.extract_name = margins.extract_name
inner join event_dates
    on
        replacements.extract_name = event_dates.extract_name
        and event_dates.load_id in (
            replacements.replacing_load_id, replacements.replaced_load_id
        )
where
    event_dates.event_date < cast({{ dbt.dateadd(
        'day',
        'margins.days_after',
        dbt.dateadd('month', 1, 'replacements.adjusts_period_start_date'),
    ) }} as date)
    and (
        margins.days_before is null
        or event_dates.event_date >= cast({{ dbt.dateadd(
            'day', '-margins.days_before', 'replacements.adjusts_period_start_date'
        ) }} as date)
    )
