-- Sales channels: where the customer bought (docs/glossary.md). One row per channel of the seed
-- channels (docs/decisions.md, "Channels as data"), with the system and extract that record its
-- sales, how it recognises revenue, how its item codes resolve, and the account a sale's charged
-- amount is debited to.
with

channels as (
    select * from {{ ref('channels') }}
)

select
    cast(channels.channel as {{ dbt.type_string() }}) as channel,
    cast(channels.channel_name as {{ dbt.type_string() }}) as channel_name,
    cast(channels.channel_kind as {{ dbt.type_string() }}) as channel_kind,
    cast(channels.source_system as {{ dbt.type_string() }}) as source_system,
    cast(channels.source_extract as {{ dbt.type_string() }}) as source_extract,
    cast(channels.recognition_event as {{ dbt.type_string() }}) as recognition_event,
    channels.is_online,
    channels.item_code_scheme = 'erp_item_code' as uses_erp_item_code,
    channels.checks_list_price,
    channels.reconciles_orders_to_gl,
    cast(channels.owning_team as {{ dbt.type_string() }}) as owning_team,
    cast(channels.clearing_account_role as {{ dbt.type_string() }}) as clearing_account_role,
    cast(gl_accounts.account_code as {{ dbt.type_string() }}) as clearing_account_code,
    cast(channels.fee_account_role as {{ dbt.type_string() }}) as fee_account_role,
    cast(fee_accounts.account_code as {{ dbt.type_string() }}) as fee_account_code
from channels
left join {{ ref('chart_of_accounts') }} as gl_accounts
    on channels.clearing_account_role = gl_accounts.account_role
left join {{ ref('chart_of_accounts') }} as fee_accounts
    on channels.fee_account_role = fee_accounts.account_role
