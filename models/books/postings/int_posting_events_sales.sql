-- Postings step 1: the sales events (docs/glossary.md, Postings). One row per sale or return line
-- of every channel (gross, discount or returned value, tax, and the cost of the units issued or
-- restocked) and one per settled marketplace line with a fee, in functional and reporting
-- currency, each tracing to its file and row. Sales amounts keep the reporting amounts of the
-- line (converted from the transaction currency, as the KPI marts do); a cost converts from
-- functional currency at the business date's rate, rounded per event.
-- Rebuilt by load on the posting date, with the valuation's window (docs/decisions.md,
-- "Incremental postings"): a day's events are posted again when a new event or a re-costed
-- receipt falls on or before it. A line that arrived after its period's close is valued on its
-- posting date, so it is posted again with that date's lines (config window_column
-- posted_from: the strategy deletes what this selects).
-- depends_on: {{ ref('int_receipt_costs_backdated') }}

with

sales_lines as (
    select
        sales_facts.*,
        late.adjusts_period_start_date
    from {{ ref('fct_sales_lines') }} as sales_facts
    {{ join_posting_period(
        'late',
        'sales_facts.business_date',
        'sales_facts.source_file',
        'sales_facts.entity_code',
    ) }}
    where {{ in_load_window(posting_date('late', 'sales_facts.business_date')) }}
),

costs as (
    select
        costed.sales_line_id,
        costed.event_type,
        costed.cost_amount
    from {{ ref('int_valuation_events_costed') }} as costed
    -- the window's lines' costs, and those of its lines that arrived after their period's close
    where {{ window_sales_line_costs('sales_lines') }}
),

costed_lines as (
    select
        sales_lines.*,
        -- a damaged return goes back to no stock and moves no cost; an unresolved code has none
        coalesce(costs.cost_amount, 0) as cost_functional,
        {{ to_currency('coalesce(costs.cost_amount, 0)', 'reporting_rates') }}
            as cost_reporting
    from sales_lines
    left join costs
        on
            sales_lines.sales_line_id = costs.sales_line_id
            and costs.event_type
            = case when sales_lines.is_return then 'return_restock' else 'issue' end
    {{ join_fx_rate(
        'reporting_rates', 'sales_lines.business_date', 'sales_lines.functional_currency_code'
    ) }}
),

sales_events as (
    select
        'sales_line:' || costed_lines.sales_line_id as event_id,
        case when costed_lines.is_return then 'return' else 'sale' end as event_type,
        costed_lines.business_date,
        costed_lines.entity_code,
        costed_lines.location_id,
        costed_lines.channel,
        costed_lines.order_id as document_number,
        costed_lines.sku,
        costed_lines.units,
        costed_lines.source_system,
        costed_lines.source_file,
        costed_lines.source_row_number,
        costed_lines.functional_currency_code,
        costed_lines.reporting_currency_code,
        {{ posting_amount_columns({
            'gross': [
                'case when not costed_lines.is_return'
                ~ ' then costed_lines.gross_amount_functional end',
                'case when not costed_lines.is_return'
                ~ ' then costed_lines.gross_amount_reporting end',
            ],
            'discount': [
                'case when not costed_lines.is_return'
                ~ ' then costed_lines.discount_amount_functional end',
                'case when not costed_lines.is_return'
                ~ ' then costed_lines.discount_amount_reporting end',
            ],
            'returned_value': [
                'case when costed_lines.is_return then costed_lines.net_amount_functional end',
                'case when costed_lines.is_return then costed_lines.net_amount_reporting end',
            ],
            'tax': ['costed_lines.tax_amount_functional', 'costed_lines.tax_amount_reporting'],
            'cost': ['costed_lines.cost_functional', 'costed_lines.cost_reporting'],
        }) }}
    from costed_lines
),

fee_events as (
    select
        'marketplace_fee:' || fees.sales_line_id as event_id,
        'marketplace_fee' as event_type,
        fees.business_date,
        fees.entity_code,
        fees.location_id,
        'marketplace' as channel,
        fees.order_id as document_number,
        fees.sku,
        cast(null as integer) as units,
        'marketplace' as source_system,
        fees.source_file,
        fees.source_row_number,
        fees.functional_currency_code,
        fees.reporting_currency_code,
        {{ posting_amount_columns({
            'fee': ['fees.fee_amount_functional', 'fees.fee_amount_reporting'],
        }) }}
    from {{ ref('fct_marketplace_fees') }} as fees
    {{ join_posting_period('late', 'fees.business_date', 'fees.source_file', 'fees.entity_code') }}
    where {{ in_load_window(posting_date('late', 'fees.business_date')) }}
)

select * from sales_events
union all
select * from fee_events
