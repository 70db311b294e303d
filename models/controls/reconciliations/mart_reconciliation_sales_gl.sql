-- Reconciliation sales_gl (docs/glossary.md, Reconciliations): the warehouse's sales postings
-- against the revenue the ERP posted, per entity and business date, in the entity's currency. Both
-- sides are net revenue: gross sales revenue less discounts less returns (accounts with roles
-- revenue, discounts and returns). The ERP side counts what it posted by the cutoff (the date
-- plus dbt var erp_gl_posting_lag_days): a batch posted later or never is a break, and the
-- explanation says which. A date the ERP extract does not cover yet is pending.

with

revenue_accounts as (
    select chart.account_code
    from {{ ref('dim_account') }} as chart
    where chart.account_role in ('revenue', 'discounts', 'returns')
),

warehouse as (
    select
        postings.entity_code,
        postings.business_date,
        sum(postings.credit_amount - postings.debit_amount) as net_revenue,
        sum(postings.event_count) as event_count
    from {{ ref('fct_gl_postings') }} as postings
    inner join revenue_accounts on postings.account_code = revenue_accounts.account_code
    group by
        postings.entity_code,
        postings.business_date
),

erp_lines as (
    select * from {{ ref('int_erp_gl_postings_dated') }}
),

erp as (
    select
        erp_lines.entity_code,
        erp_lines.source_business_date as business_date,
        sum(case when erp_lines.is_posted_by_cutoff then -erp_lines.net_amount else 0 end)
            as posted_by_cutoff,
        sum(case when erp_lines.is_posted_by_cutoff then 0 else -erp_lines.net_amount end)
            as posted_later,
        max(case when not erp_lines.is_posted_by_cutoff then erp_lines.last_posting_date end)
            as late_posting_date
    from erp_lines
    inner join revenue_accounts on erp_lines.account_code = revenue_accounts.account_code
    group by
        erp_lines.entity_code,
        erp_lines.source_business_date
),

erp_coverage as (
    {{ erp_gl_coverage('erp_lines') }}
),

comparisons as (
    select
        'sales_gl' as reconciliation_name,
        coalesce(warehouse.entity_code, erp.entity_code) as entity_code,
        coalesce(warehouse.business_date, erp.business_date) as comparison_date,
        cast(coalesce(warehouse.net_revenue, 0) as decimal(18, 2)) as left_value,
        cast(coalesce(erp.posted_by_cutoff, 0) as decimal(18, 2)) as right_value,
        cast(coalesce(erp.posted_later, 0) as decimal(18, 2)) as erp_posted_later,
        erp.late_posting_date as erp_late_posting_date,
        coalesce(warehouse.event_count, 0) as warehouse_event_count,
        {{ erp_gl_due_columns('coalesce(warehouse.business_date, erp.business_date)') }}
    from warehouse
    full outer join erp
        on
            warehouse.entity_code = erp.entity_code
            and warehouse.business_date = erp.business_date
    cross join erp_coverage
),

assessed as (
    {{ reconciliation_assessed('comparisons') }}
)

select
    {{ reconciliation_common_columns(
        comparison_id="'sales_gl|' || assessed.entity_code || '|' || "
        ~ to_text('assessed.comparison_date'),
        value_unit='entities.functional_currency_code',
    ) }},
    'Net revenue of ' || assessed.entity_code || ' on '
    || {{ to_text('assessed.comparison_date') }} || ': warehouse postings '
    || {{ to_text('assessed.left_value') }} || ' ' || entities.functional_currency_code
    || ' (' || {{ to_text('assessed.warehouse_event_count') }} || ' events), ERP GL posted by '
    || {{ to_text(add_days(var('erp_gl_posting_lag_days'), 'assessed.comparison_date')) }}
    || ' ' || {{ to_text('assessed.right_value') }} || ' '
    || entities.functional_currency_code || {{ difference_text() }}
    || case
        when assessed.status = 'pending' then {{ erp_pending_text() }}
        when assessed.status = 'break' and assessed.erp_posted_later <> 0
            then
                '; the ERP posted ' || {{ to_text('assessed.erp_posted_later') }}
                || ' later, on ' || {{ to_text('assessed.erp_late_posting_date') }}
        when assessed.status = 'break' and assessed.right_value = 0
            then '; the ERP has posted no revenue for that date'
        else ''
    end || '.' as explanation,
    assessed.erp_posted_later,
    assessed.erp_late_posting_date
from assessed
left join {{ ref('dim_entity') }} as entities on assessed.entity_code = entities.entity_code
{{ join_fx_rate(
    'reporting_rates', 'assessed.comparison_date', 'entities.functional_currency_code'
) }}
