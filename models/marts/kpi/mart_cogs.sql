-- COGS per business date, entity, location, channel and SKU (docs/glossary.md): units issued for
-- sale at the moving-average cost of the moment, less restocked returns at the cost they were
-- issued at; with net units, net sales and gross margin, in functional and reporting currency.
-- Rebuilt by load: a day's lines are costed again when a new event or a re-costed receipt
-- falls on or before it (docs/decisions.md, "Incremental event facts"). Lines that arrived after
-- their period's close are reported on their posting date in the first open period, in rows of
-- their own naming the business date and period they belong to (docs/glossary.md, Period
-- close), converted at their business date's rate as the ledger posts them.
-- depends_on: {{ ref('int_receipt_costs_backdated') }}

with

sales_lines as (
    select
        sales_facts.*,
        late.adjusts_period_start_date,
        {{ posting_date('late', 'sales_facts.business_date') }} as posting_date
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
        costed.original_sales_line_id,
        costed.event_type,
        costed.cost_amount
    from {{ ref('int_valuation_events_costed') }} as costed
    -- the window's lines' costs, and those of its lines that arrived after their period's close
    where {{ window_sales_line_costs('sales_lines') }}
),

costed_lines as (
    select
        sales_lines.posting_date,
        sales_lines.business_date,
        sales_lines.adjusts_period_start_date,
        sales_lines.entity_code,
        sales_lines.location_id,
        sales_lines.channel,
        sales_lines.sku,
        sales_lines.functional_currency_code,
        sales_lines.reporting_currency_code,
        case
            when sales_lines.adjusts_period_start_date is not null then sales_lines.business_date
        end as adjusted_business_date,
        case
            when sales_lines.is_return then -sales_lines.units else sales_lines.units
        end as net_units,
        case when sales_lines.is_return then -1 else 1 end
        * sales_lines.net_amount_functional as net_sales,
        case when sales_lines.is_return then -1 else 1 end
        * sales_lines.net_amount_reporting as net_sales_reporting,
        case
            when not sales_lines.is_return then costs.cost_amount
            when sales_lines.is_restocked then -costs.cost_amount
            else 0
        end as cogs,
        case
            when not sales_lines.is_return and costs.cost_amount is null
                then sales_lines.units
            else 0
        end as units_without_cost
    from sales_lines
    left join costs
        on
            sales_lines.sales_line_id = costs.sales_line_id
            and costs.event_type
            = case when sales_lines.is_return then 'return_restock' else 'issue' end
)

select
    costed_lines.posting_date as business_date,
    costed_lines.entity_code,
    costed_lines.location_id,
    costed_lines.channel,
    costed_lines.sku,
    cast(sum(costed_lines.net_units) as bigint) as net_units,
    cast(sum(costed_lines.units_without_cost) as bigint) as units_without_cost,
    cast(sum(coalesce(costed_lines.cogs, 0)) as decimal(18, 2)) as cogs,
    cast(sum(costed_lines.net_sales) as decimal(18, 2)) as net_sales,
    cast(sum(costed_lines.net_sales - coalesce(costed_lines.cogs, 0)) as decimal(18, 2))
        as gross_margin,
    costed_lines.functional_currency_code as currency_code,
    {{ round_money('sum(coalesce(costed_lines.cogs, 0)) * max(rates.exchange_rate)') }}
        as cogs_reporting,
    cast(sum(costed_lines.net_sales_reporting) as decimal(18, 2)) as net_sales_reporting,
    cast(
        sum(costed_lines.net_sales_reporting)
        - {{ round_money('sum(coalesce(costed_lines.cogs, 0)) * max(rates.exchange_rate)') }}
        as decimal(18, 2)
    ) as gross_margin_reporting,
    costed_lines.reporting_currency_code,
    costed_lines.adjusted_business_date,
    costed_lines.adjusts_period_start_date
from costed_lines
{{ join_fx_rate(
    'rates',
    'costed_lines.business_date',
    'costed_lines.functional_currency_code',
    'costed_lines.reporting_currency_code',
) }}
group by
    costed_lines.posting_date,
    costed_lines.entity_code,
    costed_lines.location_id,
    costed_lines.channel,
    costed_lines.sku,
    costed_lines.functional_currency_code,
    costed_lines.reporting_currency_code,
    costed_lines.adjusted_business_date,
    costed_lines.adjusts_period_start_date
