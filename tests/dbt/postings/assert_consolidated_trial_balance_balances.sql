-- Returns one row per period whose consolidated trial balance does not balance: the period's
-- debits and credits, the consolidated closing balances or the elimination entry (which must
-- net to zero: it reverses the intercompany pair into inventory in transit).

select
    consolidated.period_start_date,
    sum(consolidated.debit_amount_reporting - consolidated.credit_amount_reporting)
        as period_difference,
    sum(consolidated.consolidated_closing_balance_reporting) as closing_difference,
    sum(consolidated.elimination_reporting) as elimination_difference
from {{ ref('mart_gl_trial_balance_consolidated') }} as consolidated
group by consolidated.period_start_date
having
    sum(consolidated.debit_amount_reporting - consolidated.credit_amount_reporting) <> 0
    or sum(consolidated.consolidated_closing_balance_reporting) <> 0
    or sum(consolidated.elimination_reporting) <> 0
