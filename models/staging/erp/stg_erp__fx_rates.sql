with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_fx_rates'),
        contract_natural_key('erp', 'erp_fx_rates', [
            'rate_date',
            'from_currency_code',
            'to_currency_code',
        ]),
    ) }}
),

renamed as (
    select
        deduplicated.rate_date,
        deduplicated.from_currency_code,
        deduplicated.to_currency_code,
        deduplicated.exchange_rate,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
)

select
    renamed.rate_date,
    renamed.from_currency_code,
    renamed.to_currency_code,
    renamed.exchange_rate,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
