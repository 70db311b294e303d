-- What the ERP's general ledger says, per entity, source business date and account, split by
-- when it was posted: by the posting cutoff (the source date plus dbt var
-- erp_gl_posting_lag_days, when the ERP posts a day's batches) or later. effective_date is the
-- first business date whose close-of-day view includes the line (a balance at date D counts
-- what was posted by D plus the lag). Amounts in the entity's currency, debit positive.

with

journal_lines as (
    select * from {{ ref('stg_erp__gl_journal_lines') }}
),

dated as (
    select
        journal_lines.entity_code,
        journal_lines.source_business_date,
        journal_lines.account_code,
        journal_lines.currency_code,
        journal_lines.batch_type,
        journal_lines.journal_number,
        journal_lines.posting_date,
        journal_lines.debit_amount - journal_lines.credit_amount as net_amount,
        journal_lines.posting_date
        <= {{ dbt.dateadd(
            'day', var('erp_gl_posting_lag_days'), 'journal_lines.source_business_date'
        ) }} as is_posted_by_cutoff,
        cast(
            case
                when
                    {{ dbt.dateadd(
                        'day', -var('erp_gl_posting_lag_days'), 'journal_lines.posting_date'
                    ) }}
                    > journal_lines.source_business_date
                    then {{ dbt.dateadd(
                        'day', -var('erp_gl_posting_lag_days'), 'journal_lines.posting_date'
                    ) }}
                else journal_lines.source_business_date
            end as date
        ) as effective_date
    from journal_lines
)

select
    dated.entity_code,
    dated.source_business_date,
    dated.effective_date,
    dated.account_code,
    dated.currency_code,
    dated.batch_type,
    dated.journal_number,
    dated.is_posted_by_cutoff,
    cast(sum(dated.net_amount) as decimal(18, 2)) as net_amount,
    min(dated.posting_date) as first_posting_date,
    max(dated.posting_date) as last_posting_date,
    count(*) as line_count
from dated
group by
    dated.entity_code,
    dated.source_business_date,
    dated.effective_date,
    dated.account_code,
    dated.currency_code,
    dated.batch_type,
    dated.journal_number,
    dated.is_posted_by_cutoff
