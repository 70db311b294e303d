-- The trial balance per entity, account and period (calendar month), in the entity's functional
-- and the group reporting currency, from the warehouse's own postings (fct_gl_postings): opening
-- balance, the period's debits and credits, closing balance (debit positive). Reporting amounts
-- are the postings' own (each converted at its business date's rate). An account appears from
-- the first period in which the entity posts to it. A posting counts in the period of its
-- posting_date: a late event of a closed period in the first open one (docs/glossary.md, Period
-- close), so a closed period's balance never changes.

with

postings as (
    select * from {{ ref('fct_gl_postings') }}
),

periods as (
    select distinct
        dates.calendar_month_start_date as period_start_date,
        max(dates.date_day) over (partition by dates.calendar_month_start_date)
            as period_end_date
    from {{ ref('dim_date') }} as dates
),

posting_range as (
    select
        min(postings.posting_date) as first_business_date,
        max(postings.posting_date) as last_business_date
    from postings
),

ledger_periods as (
    select periods.*
    from periods
    cross join posting_range
    where
        periods.period_end_date >= posting_range.first_business_date
        and periods.period_start_date <= posting_range.last_business_date
),

movements as (
    select
        postings.entity_code,
        postings.account_code,
        postings.currency_code,
        postings.reporting_currency_code,
        periods.period_start_date,
        sum(postings.debit_amount) as debit_amount,
        sum(postings.credit_amount) as credit_amount,
        sum(postings.debit_amount_reporting) as debit_amount_reporting,
        sum(postings.credit_amount_reporting) as credit_amount_reporting
    from postings
    inner join ledger_periods as periods
        on postings.posting_date between periods.period_start_date and periods.period_end_date
    group by
        postings.entity_code,
        postings.account_code,
        postings.currency_code,
        postings.reporting_currency_code,
        periods.period_start_date
),

-- every period from the first in which the entity posts to the account
entity_accounts as (
    select
        movements.entity_code,
        movements.account_code,
        movements.currency_code,
        movements.reporting_currency_code,
        min(movements.period_start_date) as first_period_start_date
    from movements
    group by
        movements.entity_code,
        movements.account_code,
        movements.currency_code,
        movements.reporting_currency_code
),

grid as (
    select
        entity_accounts.entity_code,
        entity_accounts.account_code,
        entity_accounts.currency_code,
        entity_accounts.reporting_currency_code,
        ledger_periods.period_start_date,
        ledger_periods.period_end_date,
        coalesce(movements.debit_amount, 0) as debit_amount,
        coalesce(movements.credit_amount, 0) as credit_amount,
        coalesce(movements.debit_amount_reporting, 0) as debit_amount_reporting,
        coalesce(movements.credit_amount_reporting, 0) as credit_amount_reporting
    from entity_accounts
    inner join ledger_periods
        on entity_accounts.first_period_start_date <= ledger_periods.period_start_date
    left join movements
        on
            entity_accounts.entity_code = movements.entity_code
            and entity_accounts.account_code = movements.account_code
            and ledger_periods.period_start_date = movements.period_start_date
),

balanced as (
    select
        grid.*,
        sum(grid.debit_amount - grid.credit_amount) over cumulative as closing_balance,
        sum(grid.debit_amount_reporting - grid.credit_amount_reporting) over cumulative
            as closing_balance_reporting
    from grid
    window cumulative as (
        partition by grid.entity_code, grid.account_code
        order by grid.period_start_date
        rows between unbounded preceding and current row
    )
)

select
    {{ dbt.concat([
        'balanced.entity_code',
        "'|'",
        'balanced.account_code',
        "'|'",
        'cast(balanced.period_start_date as ' ~ dbt.type_string() ~ ')',
    ]) }} as trial_balance_id,
    balanced.entity_code,
    balanced.account_code,
    chart.account_role,
    chart.account_name,
    chart.account_type,
    chart.financial_statement,
    balanced.period_start_date,
    balanced.period_end_date,
    cast(
        balanced.closing_balance - balanced.debit_amount + balanced.credit_amount
        as decimal(18, 2)
    ) as opening_balance,
    cast(balanced.debit_amount as decimal(18, 2)) as debit_amount,
    cast(balanced.credit_amount as decimal(18, 2)) as credit_amount,
    cast(balanced.closing_balance as decimal(18, 2)) as closing_balance,
    balanced.currency_code,
    cast(
        balanced.closing_balance_reporting - balanced.debit_amount_reporting
        + balanced.credit_amount_reporting
        as decimal(18, 2)
    ) as opening_balance_reporting,
    cast(balanced.debit_amount_reporting as decimal(18, 2)) as debit_amount_reporting,
    cast(balanced.credit_amount_reporting as decimal(18, 2)) as credit_amount_reporting,
    cast(balanced.closing_balance_reporting as decimal(18, 2)) as closing_balance_reporting,
    balanced.reporting_currency_code
from balanced
inner join {{ ref('dim_account') }} as chart on balanced.account_code = chart.account_code
