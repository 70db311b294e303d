-- Sales channels: where the customer bought (docs/glossary.md). One row per channel, with the
-- system that records its sales and the account a sale's charged amount is debited to.
with

channels as (
    select
        'store' as channel,
        'Stores' as channel_name,
        'pos' as source_system,
        'store_clearing' as clearing_account_role,
        false as is_online

    union all

    select
        'webshop' as channel,
        'Webshop' as channel_name,
        'webshop' as source_system,
        'webshop_clearing' as clearing_account_role,
        true as is_online

    union all

    select
        'marketplace' as channel,
        'Marketplace' as channel_name,
        'marketplace' as source_system,
        'marketplace_receivable' as clearing_account_role,
        true as is_online
)

select
    cast(channels.channel as {{ dbt.type_string() }}) as channel,
    cast(channels.channel_name as {{ dbt.type_string() }}) as channel_name,
    cast(channels.source_system as {{ dbt.type_string() }}) as source_system,
    channels.is_online,
    cast(channels.clearing_account_role as {{ dbt.type_string() }}) as clearing_account_role,
    cast(gl_accounts.account_code as {{ dbt.type_string() }}) as clearing_account_code
from channels
left join {{ ref('chart_of_accounts') }} as gl_accounts
    on channels.clearing_account_role = gl_accounts.account_role
