-- The group chart of accounts (seed chart_of_accounts, owned by finance), one row per GL
-- account, with the sign that turns debit-minus-credit into the account's natural balance.
select
    cast(gl_accounts.account_code as {{ dbt.type_string() }}) as account_code,
    cast(gl_accounts.account_role as {{ dbt.type_string() }}) as account_role,
    cast(gl_accounts.account_name as {{ dbt.type_string() }}) as account_name,
    cast(gl_accounts.account_type as {{ dbt.type_string() }}) as account_type,
    cast(gl_accounts.normal_balance as {{ dbt.type_string() }}) as normal_balance,
    cast(gl_accounts.statement as {{ dbt.type_string() }}) as financial_statement,
    cast(case when gl_accounts.normal_balance = 'debit' then 1 else -1 end as integer)
        as balance_sign
from {{ ref('chart_of_accounts') }} as gl_accounts
