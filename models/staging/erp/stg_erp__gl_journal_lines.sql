with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_gl_journal_lines'),
        contract_natural_key('erp', 'erp_gl_journal_lines', [
            'journal_number',
            'journal_line_number',
        ]),
    ) }}
),

renamed as (
    select
        deduplicated.journal_number,
        deduplicated.journal_line_number,
        deduplicated.entity_code,
        deduplicated.posting_date,
        deduplicated.source_business_date,
        deduplicated.batch_type,
        deduplicated.account_code,
        deduplicated.debit_amount,
        deduplicated.credit_amount,
        deduplicated.currency_code,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
)

select
    renamed.journal_number,
    renamed.journal_line_number,
    renamed.entity_code,
    renamed.posting_date,
    renamed.source_business_date,
    renamed.batch_type,
    renamed.account_code,
    renamed.debit_amount,
    renamed.credit_amount,
    renamed.currency_code,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
