{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false) }}
-- Valuation: the memory of owners' decisions on suspected duplicate invoices, for the models
-- rebuilt by load. A decision in seed exception_actions (confirm_genuine, or a later action
-- taking it back) changes what its receipt's landed cost counts without any file being loaded,
-- so no load says when it changed: one row per suspected duplicate invoice and change of its
-- confirmation, stamped with the build that first saw it (dbt's run_started_at, UTC), which
-- int_receipt_costs_backdated offers as the change's time. Never rebuilt by a full refresh: a
-- full refresh recomputes everything anyway, and the memory keeps a repeat from counting as new.

with

current_decisions as (
    select
        suspected.exception_id,
        suspected.goods_receipt_number,
        suspected.is_confirmed_genuine
    from {{ ref('int_supplier_invoices_suspected_duplicate') }} as suspected
),

{% if is_incremental() %}
    latest_recorded as (
        select ranked.exception_id, ranked.is_confirmed_genuine
        from (
            select
                recorded.exception_id,
                recorded.is_confirmed_genuine,
                row_number() over (
                    partition by recorded.exception_id order by recorded.recorded_at desc
                ) as recorded_rank
            from {{ this }} as recorded
        ) as ranked
        where ranked.recorded_rank = 1
    ),
{% else %}
    latest_recorded as (
        select
            cast(null as {{ dbt.type_string() }}) as exception_id,
            false as is_confirmed_genuine
        where false
    ),
{% endif %}

-- a suspected duplicate starts unconfirmed: only a change from that is recorded
changed as (
    select current_decisions.*
    from current_decisions
    left join latest_recorded on current_decisions.exception_id = latest_recorded.exception_id
    where
        current_decisions.is_confirmed_genuine
        <> coalesce(latest_recorded.is_confirmed_genuine, false)
)

select
    changed.exception_id,
    changed.goods_receipt_number,
    changed.is_confirmed_genuine,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as recorded_at
from changed
