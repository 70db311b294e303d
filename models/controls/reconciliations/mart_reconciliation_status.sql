-- The status of every reconciliation per entity: how many comparisons passed, broke or wait
-- (and how many are information only), the largest difference, and the reconciliation's status
-- (break when any comparison broke).

select
    reconciliations.reconciliation_name,
    reconciliations.entity_code,
    cast(count(*) as bigint) as comparison_count,
    cast(sum(case when reconciliations.status = 'pass' then 1 else 0 end) as bigint)
        as pass_count,
    cast(sum(case when reconciliations.status = 'break' then 1 else 0 end) as bigint)
        as break_count,
    cast(sum(case when reconciliations.status = 'pending' then 1 else 0 end) as bigint)
        as pending_count,
    cast(sum(case when reconciliations.status = 'info' then 1 else 0 end) as bigint)
        as info_count,
    cast(max(
        case
            when reconciliations.status not in ('pending', 'info')
                then abs(reconciliations.difference_value)
        end
    ) as decimal(18, 2)) as largest_difference_value,
    cast(sum(
        case
            when reconciliations.status = 'break'
                then abs(reconciliations.difference_value_reporting)
            else 0
        end
    ) as decimal(18, 2)) as break_value_reporting,
    min(reconciliations.severity) as severity,
    min(reconciliations.value_unit) as value_unit,
    case
        when sum(case when reconciliations.status = 'break' then 1 else 0 end) > 0 then 'break'
        when sum(case when reconciliations.status = 'pass' then 1 else 0 end) > 0 then 'pass'
        when sum(case when reconciliations.status = 'info' then 1 else 0 end) > 0 then 'info'
        else 'pending'
    end as status,
    min(reconciliations.reporting_currency_code) as reporting_currency_code,
    min(case when reconciliations.status = 'break' then reconciliations.comparison_date end)
        as first_break_date,
    max(case when reconciliations.status = 'break' then reconciliations.comparison_date end)
        as last_break_date
from {{ ref('mart_reconciliations') }} as reconciliations
group by
    reconciliations.reconciliation_name,
    reconciliations.entity_code
