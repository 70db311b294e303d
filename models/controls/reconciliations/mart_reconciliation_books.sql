-- Reconciliations books_revenue, books_cogs and books_inventory: the warehouse's trial balance
-- (mart_gl_trial_balance) ties to the KPI marts, per entity and period, in the entity's
-- currency. Revenue: the period's credits less debits on the revenue, discounts and returns
-- accounts against net sales (mart_net_sales). COGS: the period's net debit on the cost of
-- goods sold account against COGS (mart_cogs). Inventory: the inventory account's closing
-- balance against inventory value (mart_available_inventory) at the period's last date with
-- postings. Goods in transit between an entity's own locations sit in the in-transit account,
-- as they are not on hand anywhere. Stock is physical: events of a closed period that arrived
-- after its close moved it then, while the ledger posted them in a later period, so the ledger
-- side adds those later adjustments to the inventory account (mart_gl_restatements). They
-- posted at the average of their posting date (docs/glossary.md, Period close) while the stock
-- is valued at the average of the compared date: the ledger side also adds that difference, the
-- late movements' revaluation, computed from the valuation (not from the ledger, so a missing
-- posting still breaks) and shown in the explanation (docs/decisions.md, "Period close").

with

balances as (
    select * from {{ ref('mart_gl_trial_balance') }}
),

last_posting as (
    select max(postings.business_date) as last_business_date
    from {{ ref('fct_gl_postings') }} as postings
),

periods as (
    select distinct
        balances.entity_code,
        balances.period_start_date,
        balances.period_end_date,
        balances.currency_code,
        case
            when balances.period_end_date < last_posting.last_business_date
                then balances.period_end_date
            else last_posting.last_business_date
        end as comparison_date
    from balances
    cross join last_posting
),

ledger as (
    select
        balances.entity_code,
        balances.period_start_date,
        sum(
            case
                when balances.account_role in ('revenue', 'discounts', 'returns')
                    then balances.credit_amount - balances.debit_amount
                else 0
            end
        ) as net_revenue,
        sum(
            case
                when balances.account_role = 'cogs'
                    then balances.debit_amount - balances.credit_amount
                else 0
            end
        ) as cogs,
        sum(case when balances.account_role = 'inventory' then balances.closing_balance else 0 end)
            as inventory_balance
    from balances
    group by
        balances.entity_code,
        balances.period_start_date
),

-- inventory moved by events up to the period's end that posted after it (late for a closed
-- period): the period's closing balance holds every posting dated in the period, even one
-- dated after the comparison date, so only postings after the period's end are added
restated_inventory as (
    select
        periods.entity_code,
        periods.period_start_date,
        sum(restatements.net_amount) as net_amount
    from {{ ref('mart_gl_restatements') }} as restatements
    inner join periods
        on
            restatements.entity_code = periods.entity_code
            and restatements.adjusts_period_start_date <= periods.period_start_date
            and restatements.posting_date > periods.period_end_date
    where restatements.account_role = 'inventory'
    group by
        periods.entity_code,
        periods.period_start_date
),

-- the valued movements of the period up to its end that the valuation applied after it (late
-- for a closed period): what they moved in the inventory account at their posting date (an
-- inbound event that restarted the average below zero moved its value less what it booked to
-- purchase price variance), against their units at the average of the compared date, at which
-- the stock that holds them is valued
late_revaluation as (
    select
        periods.entity_code,
        periods.period_start_date,
        sum(
            coalesce(
                {{ round_money('costed.units * average_costs.average_cost') }}, 0
            )
            - (
                {{ inventory_effect('costed') }}
                - coalesce(restarts.revaluation_functional, 0)
            )
        ) as revaluation
    from {{ ref('int_valuation_events_costed') }} as costed
    inner join {{ ref('fct_inventory_movements') }} as movements
        on costed.event_id = movements.movement_id
    left join {{ ref('int_valuation_restart_revaluations') }} as restarts
        on costed.event_id = restarts.event_id
    inner join periods
        on
            costed.entity_code = periods.entity_code
            and movements.business_date <= periods.period_end_date
            and costed.business_date > periods.period_end_date
    {{ join_average_cost(
        'average_costs', 'costed.entity_code', 'costed.sku', 'periods.comparison_date'
    ) }}
    where movements.business_date <> costed.business_date
    group by
        periods.entity_code,
        periods.period_start_date
),

net_sales as (
    select
        periods.entity_code,
        periods.period_start_date,
        sum(sales.net_sales) as net_sales
    from {{ ref('mart_net_sales') }} as sales
    inner join periods
        on
            sales.entity_code = periods.entity_code
            and sales.business_date between periods.period_start_date and periods.period_end_date
    group by
        periods.entity_code,
        periods.period_start_date
),

cogs as (
    select
        periods.entity_code,
        periods.period_start_date,
        sum(cogs_rows.cogs) as cogs
    from {{ ref('mart_cogs') }} as cogs_rows
    inner join periods
        on
            cogs_rows.entity_code = periods.entity_code
            and cogs_rows.business_date >= periods.period_start_date
            and cogs_rows.business_date <= periods.period_end_date
    group by
        periods.entity_code,
        periods.period_start_date
),

inventory as (
    select
        periods.entity_code,
        periods.period_start_date,
        sum(positions.inventory_value) as inventory_value
    from {{ ref('mart_available_inventory') }} as positions
    inner join periods
        on
            positions.entity_code = periods.entity_code
            and positions.as_of_date = periods.comparison_date
    group by
        periods.entity_code,
        periods.period_start_date
),

measures as (
    select 'revenue' as measure
    union all
    select 'cogs' as measure
    union all
    select 'inventory' as measure
),

comparisons as (
    select
        measures.measure,
        periods.entity_code,
        periods.period_start_date,
        periods.comparison_date,
        periods.currency_code,
        cast(
            case measures.measure
                when 'revenue' then ledger.net_revenue
                when 'cogs' then ledger.cogs
                else
                    ledger.inventory_balance + coalesce(restated_inventory.net_amount, 0)
                    + coalesce(late_revaluation.revaluation, 0)
            end as decimal(18, 2)
        ) as left_value,
        cast(coalesce(
            case measures.measure
                when 'revenue' then net_sales.net_sales
                when 'cogs' then cogs.cogs
                else inventory.inventory_value
            end,
            0
        ) as decimal(18, 2)) as right_value,
        true as is_due,
        'books_' || measures.measure as reconciliation_name,
        case
            when measures.measure = 'inventory' then late_revaluation.revaluation
        end as late_revaluation
    from periods
    cross join measures
    left join ledger
        on
            periods.entity_code = ledger.entity_code
            and periods.period_start_date = ledger.period_start_date
    left join restated_inventory
        on
            periods.entity_code = restated_inventory.entity_code
            and periods.period_start_date = restated_inventory.period_start_date
    left join late_revaluation
        on
            periods.entity_code = late_revaluation.entity_code
            and periods.period_start_date = late_revaluation.period_start_date
    left join net_sales
        on
            periods.entity_code = net_sales.entity_code
            and periods.period_start_date = net_sales.period_start_date
    left join cogs
        on
            periods.entity_code = cogs.entity_code
            and periods.period_start_date = cogs.period_start_date
    left join inventory
        on
            periods.entity_code = inventory.entity_code
            and periods.period_start_date = inventory.period_start_date
),

assessed as (
    {{ reconciliation_assessed('comparisons') }}
)

select
    {{ reconciliation_common_columns(
        comparison_id="assessed.reconciliation_name || '|' || assessed.entity_code || '|' || "
        ~ to_text('assessed.period_start_date'),
        value_unit='assessed.currency_code',
    ) }},
    case assessed.measure
        when 'revenue' then 'Net revenue'
        when 'cogs' then 'Cost of goods sold'
        else 'Inventory'
    end || ' of ' || assessed.entity_code || ' for the period from '
    || {{ to_text('assessed.period_start_date') }} || case assessed.measure
        when 'inventory' then ' at the close of ' || {{ to_text('assessed.comparison_date') }}
        else ' to ' || {{ to_text('assessed.comparison_date') }}
    end || ': trial balance ' || {{ to_text('assessed.left_value') }} || ' '
    || assessed.currency_code || ', ' || case assessed.measure
        when 'revenue' then 'mart_net_sales'
        when 'cogs' then 'mart_cogs'
        else 'mart_available_inventory'
    end || ' ' || {{ to_text('assessed.right_value') }} || ' ' || assessed.currency_code
    || {{ difference_text() }} || '.' || case
        when assessed.late_revaluation <> 0
            then
                ' The trial balance includes '
                || {{ to_text('cast(assessed.late_revaluation as decimal(18, 2))') }}
                || ' ' || assessed.currency_code
                || ' of revaluation: movements of the period that posted after it, at their'
                || ' posting date''s average, valued at the average of '
                || {{ to_text('assessed.comparison_date') }} || '.'
        else ''
    end as explanation,
    assessed.period_start_date
from assessed
{{ join_fx_rate('reporting_rates', 'assessed.comparison_date', 'assessed.currency_code') }}
