-- The drill-down of the general ledger: one row per operational event that posts (sale and
-- return lines, marketplace fees, goods receipts, supplier invoice lines, transfers, stock
-- adjustments), its journal, its amount components in functional and reporting currency, and
-- the file and row it came from. fct_gl_postings sums these per journal and applies the
-- posting rules (seed posting_rules). An event whose file arrived after its period's close posts
-- on a date of the first open period, in a journal of its own naming the closed period it
-- adjusts (docs/glossary.md, Period close).
-- Rebuilt by load on the posting date, with the window of the postings it unions, and every
-- supplier invoice's postings each time (config load_window_rewrites: an invoice posts on its
-- invoice date, which a file's date does not bound; docs/decisions.md, "Incremental postings").
-- The events read are those posting in the window (posted_from: the posting date below, before
-- the join), so a late line re-costed on its posting date is posted again.
-- depends_on: {{ ref('int_receipt_costs_backdated') }}

with

unioned as (
    select * from {{ ref('int_posting_events_sales') }}
    union all
    select * from {{ ref('int_posting_events_inventory') }}
    union all
    select * from {{ ref('int_posting_events_purchasing') }}
),

events as (
    select * from unioned
    where
        {{ rows_replaced_from(
            'posted_from', load_window_start(), config.get('load_window_rewrites')
        ) if load_window_is_incremental() else 'true' }}
)

select
    events.event_id,
    -- one journal per business date, entity, location and event type (and channel for sales),
    -- and per posting date for events posted after their period's close
    {{ dbt.concat([
        'events.entity_code',
        "'-'",
        'cast(events.business_date as ' ~ dbt.type_string() ~ ')',
        "'-'",
        "coalesce(events.location_id, 'unknown')",
        "'-'",
        'events.event_type',
        "coalesce('-' || events.channel, '')",
        "coalesce('-adjustment-' || cast(late.posting_date as " ~ dbt.type_string() ~ "), '')",
    ]) }} as journal_id,
    events.event_type,
    events.business_date,
    events.entity_code,
    events.location_id,
    events.channel,
    events.document_number,
    events.sku,
    events.units,
    events.source_system,
    events.source_file,
    events.source_row_number,
    events.functional_currency_code,
    events.reporting_currency_code,
    {{ posting_amount_column_list('events') }},
    {{ posting_date('late', 'events.business_date') }} as posting_date,
    late.adjusts_period_start_date
from events
{{ join_posting_period(
    'late', 'events.business_date', 'events.source_file', 'events.entity_code'
) }}
