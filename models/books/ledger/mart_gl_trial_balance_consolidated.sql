-- The consolidated trial balance of the group per account and period, in the reporting
-- currency: the entities' balances added up, the intercompany receivable and payable
-- eliminated, and what they do not offset (goods shipped between entities and not yet
-- received, at the sender's reporting value) reclassified to inventory in transit. An
-- intercompany receipt posts the sender's reporting amount, so a received transfer leaves
-- nothing to reclassify.

with

entity_balances as (
    select
        balances.account_code,
        balances.period_start_date,
        balances.period_end_date,
        balances.reporting_currency_code,
        sum(balances.debit_amount_reporting) as debit_amount_reporting,
        sum(balances.credit_amount_reporting) as credit_amount_reporting,
        sum(balances.closing_balance_reporting) as closing_balance_reporting
    from {{ ref('mart_gl_trial_balance') }} as balances
    group by
        balances.account_code,
        balances.period_start_date,
        balances.period_end_date,
        balances.reporting_currency_code
),

periods as (
    select distinct
        entity_balances.period_start_date,
        entity_balances.period_end_date,
        entity_balances.reporting_currency_code
    from entity_balances
),

grid as (
    select
        chart.account_code,
        chart.account_role,
        chart.account_name,
        chart.account_type,
        chart.financial_statement,
        periods.period_start_date,
        periods.period_end_date,
        periods.reporting_currency_code,
        coalesce(entity_balances.debit_amount_reporting, 0) as debit_amount_reporting,
        coalesce(entity_balances.credit_amount_reporting, 0) as credit_amount_reporting,
        coalesce(entity_balances.closing_balance_reporting, 0) as closing_balance_reporting
    from {{ ref('dim_account') }} as chart
    cross join periods
    left join entity_balances
        on
            chart.account_code = entity_balances.account_code
            and periods.period_start_date = entity_balances.period_start_date
),

intercompany as (
    select
        grid.period_start_date,
        sum(grid.closing_balance_reporting) as unmatched_reporting
    from grid
    where grid.account_role in ('intercompany_receivable', 'intercompany_payable')
    group by grid.period_start_date
)

select
    {{ dbt.concat([
        'grid.account_code',
        "'|'",
        'cast(grid.period_start_date as ' ~ dbt.type_string() ~ ')',
    ]) }} as consolidated_balance_id,
    grid.account_code,
    grid.account_role,
    grid.account_name,
    grid.account_type,
    grid.financial_statement,
    grid.period_start_date,
    grid.period_end_date,
    cast(grid.debit_amount_reporting as decimal(18, 2)) as debit_amount_reporting,
    cast(grid.credit_amount_reporting as decimal(18, 2)) as credit_amount_reporting,
    cast(grid.closing_balance_reporting as decimal(18, 2)) as entity_closing_balance_reporting,
    cast(
        case
            when grid.account_role in ('intercompany_receivable', 'intercompany_payable')
                then -grid.closing_balance_reporting
            when grid.account_role = 'inventory_in_transit'
                then coalesce(intercompany.unmatched_reporting, 0)
            else 0
        end as decimal(18, 2)
    ) as elimination_reporting,
    cast(
        case
            when grid.account_role in ('intercompany_receivable', 'intercompany_payable')
                then 0
            when grid.account_role = 'inventory_in_transit'
                then grid.closing_balance_reporting + coalesce(intercompany.unmatched_reporting, 0)
            else grid.closing_balance_reporting
        end as decimal(18, 2)
    ) as consolidated_closing_balance_reporting,
    grid.reporting_currency_code
from grid
left join intercompany on grid.period_start_date = intercompany.period_start_date
