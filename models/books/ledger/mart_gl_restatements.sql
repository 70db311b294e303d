-- The restatement log (docs/glossary.md, Period close): one row per adjustment posting line,
-- that is per account of a journal of events that arrived after their period's close and
-- posted into the first open period instead. Each row names the closed period the events
-- belong to, the period and date they posted in, the amount by account (what the closed
-- period's balance would have shown more, debit positive) and the files that brought them.

with

postings as (
    select * from {{ ref('fct_gl_postings') }}
    where adjusts_period_start_date is not null
),

journal_files as (
    select
        events.journal_id,
        {{ dbt.listagg(
            'distinct events.source_file', "', '", 'order by events.source_file'
        ) }} as source_files
    from {{ ref('fct_gl_posting_events') }} as events
    where events.adjusts_period_start_date is not null
    group by events.journal_id
)

select
    postings.posting_line_id as restatement_id,
    postings.entity_code,
    postings.adjusts_period_start_date,
    cast({{ dbt.date_trunc('month', 'postings.posting_date') }} as date)
        as posting_period_start_date,
    postings.posting_date,
    postings.business_date,
    postings.journal_id,
    postings.location_id,
    postings.channel,
    postings.event_type,
    postings.account_code,
    postings.account_role,
    postings.debit_amount,
    postings.credit_amount,
    cast(postings.debit_amount - postings.credit_amount as decimal(18, 2)) as net_amount,
    postings.currency_code,
    postings.debit_amount_reporting,
    postings.credit_amount_reporting,
    cast(
        postings.debit_amount_reporting - postings.credit_amount_reporting as decimal(18, 2)
    ) as net_amount_reporting,
    postings.reporting_currency_code,
    postings.event_count,
    journal_files.source_files
from postings
inner join journal_files on postings.journal_id = journal_files.journal_id
