{{ config(severity='warn') }}
-- Returns one row per ERP journal whose debits and credits differ. The ERP's own postings
-- should balance; an unbalanced journal is a finding about the ERP's batch interfaces, kept
-- at warn here because the reconciliation against the warehouse's postings (downstream)
-- carries the amount and the severity.

select
    journal_lines.journal_number,
    journal_lines.entity_code,
    sum(journal_lines.debit_amount) as debit_total,
    sum(journal_lines.credit_amount) as credit_total
from {{ ref('stg_erp__gl_journal_lines') }} as journal_lines
group by
    journal_lines.journal_number,
    journal_lines.entity_code
having sum(journal_lines.debit_amount) <> sum(journal_lines.credit_amount)
