-- Returns one row per warehouse journal whose debits and credits differ, in the functional or
-- the reporting currency. Debits equal credits for every journal, exactly (docs/glossary.md): zero
-- tolerance, and an error, because an unbalanced journal means a posting rule or an amount is
-- wrong in the warehouse itself.

select
    postings.journal_id,
    sum(postings.debit_amount) as debit_total,
    sum(postings.credit_amount) as credit_total,
    sum(postings.debit_amount_reporting) as debit_total_reporting,
    sum(postings.credit_amount_reporting) as credit_total_reporting
from {{ ref('fct_gl_postings') }} as postings
group by postings.journal_id
having
    sum(postings.debit_amount) <> sum(postings.credit_amount)
    or sum(postings.debit_amount_reporting) <> sum(postings.credit_amount_reporting)
