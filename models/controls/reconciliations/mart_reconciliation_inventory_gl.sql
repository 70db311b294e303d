-- Reconciliation inventory_gl (docs/glossary.md, Reconciliations): the inventory subledger against
-- the ERP's general-ledger inventory balance, per entity at the close of every business date,
-- in the entity's currency. Left: the units the entity holds (on hand, and in transit between
-- its own locations, which the ERP keeps in inventory too) x moving-average cost
-- (int_inventory_values_daily). Right: the ERP's inventory account (role inventory), every line
-- of a source date on or before the date that was posted by the date plus dbt var
-- erp_gl_posting_lag_days. A balance: a missing batch breaks every later date until it is
-- posted; a date the ERP extract does not cover yet is pending.

with

inventory_accounts as (
    select chart.account_code
    from {{ ref('dim_account') }} as chart
    where chart.account_role = 'inventory'
),

erp_lines as (
    select * from {{ ref('int_erp_gl_postings_dated') }}
),

erp_daily as (
    select
        erp_lines.entity_code,
        erp_lines.effective_date,
        sum(erp_lines.net_amount) as net_amount
    from erp_lines
    inner join inventory_accounts on erp_lines.account_code = inventory_accounts.account_code
    group by
        erp_lines.entity_code,
        erp_lines.effective_date
),

erp_coverage as (
    {{ erp_gl_coverage('erp_lines') }}
),

subledger as (
    select * from {{ ref('int_inventory_values_daily') }}
),

-- the ERP balance at every date of the subledger: what took effect on or before it
erp_balances as (
    select
        subledger.entity_code,
        subledger.as_of_date,
        sum(erp_daily.net_amount) as balance
    from subledger
    inner join erp_daily
        on
            subledger.entity_code = erp_daily.entity_code
            and subledger.as_of_date >= erp_daily.effective_date
    group by
        subledger.entity_code,
        subledger.as_of_date
),

comparisons as (
    select
        'inventory_gl' as reconciliation_name,
        subledger.entity_code,
        subledger.as_of_date as comparison_date,
        subledger.functional_currency_code,
        subledger.units as subledger_units,
        subledger.inventory_value as left_value,
        cast(coalesce(erp_balances.balance, 0) as decimal(18, 2)) as right_value,
        {{ erp_gl_due_columns('subledger.as_of_date') }}
    from subledger
    cross join erp_coverage
    left join erp_balances
        on
            subledger.entity_code = erp_balances.entity_code
            and subledger.as_of_date = erp_balances.as_of_date
),

assessed as (
    {{ reconciliation_assessed('comparisons') }}
)

select
    {{ reconciliation_common_columns(
        comparison_id="'inventory_gl|' || assessed.entity_code || '|' || "
        ~ to_text('assessed.comparison_date'),
        value_unit='assessed.functional_currency_code',
    ) }},
    'Inventory of ' || assessed.entity_code || ' at the close of '
    || {{ to_text('assessed.comparison_date') }} || ': subledger '
    || {{ to_text('assessed.left_value') }} || ' ' || assessed.functional_currency_code
    || ' (' || {{ to_text('assessed.subledger_units') }}
    || ' units x moving-average cost), ERP GL inventory posted by '
    || {{ to_text(add_days(var('erp_gl_posting_lag_days'), 'assessed.comparison_date')) }}
    || ' ' || {{ to_text('assessed.right_value') }} || ' ' || assessed.functional_currency_code
    || {{ difference_text() }}
    || case
        when assessed.status = 'pending' then {{ erp_pending_text() }}
        else ''
    end || '.' as explanation,
    assessed.subledger_units
from assessed
{{ join_fx_rate(
    'reporting_rates', 'assessed.comparison_date', 'assessed.functional_currency_code'
) }}
