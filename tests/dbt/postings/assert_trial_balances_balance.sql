-- Returns one row per entity and period whose trial balance does not balance: the period's
-- debits and credits, or the closing balances, in functional or reporting currency. Every
-- journal balances, so this may never happen.

select
    balances.entity_code,
    balances.period_start_date,
    sum(balances.debit_amount - balances.credit_amount) as period_difference,
    sum(balances.closing_balance) as closing_difference,
    sum(balances.closing_balance_reporting) as closing_difference_reporting
from {{ ref('mart_gl_trial_balance') }} as balances
group by
    balances.entity_code,
    balances.period_start_date
having
    sum(balances.debit_amount - balances.credit_amount) <> 0
    or sum(balances.debit_amount_reporting - balances.credit_amount_reporting) <> 0
    or sum(balances.closing_balance) <> 0
    or sum(balances.closing_balance_reporting) <> 0
