-- The exception queue's held re-deliveries (int_redeliveries_held): a re-delivery ingestion did
-- not load because it has no data rows or would lose more than the extract's allowed share of
-- the live file's rows; the live file stays until an owner releases the held file through seed
-- exception_actions (action release, this exception's id: md5 of 'held_redelivery|' and the
-- held file's path, which ingestion computes alike). One row per held path (its latest hold);
-- the impact is the rows at stake and, for sales extracts, their net sales in reporting currency
-- (pro rata of the live file's). Resolved on the date of the path's next load_log row: the
-- released file's load, or the path's next content (withdrawn).

with

held as (
    select * from {{ ref('int_redeliveries_held') }}
),

-- how far the landing zone has got (one definition: int_deliveries_assessed)
landing as (
    select max(deliveries.reached_date) as reached_date
    from {{ ref('int_deliveries_assessed') }} as deliveries
)

select
    held.exception_id,
    'held_redelivery' as exception_type,
    held.source_file as natural_key,
    cast(null as {{ dbt.type_string() }}) as entity_code,
    cast(null as {{ dbt.type_string() }}) as location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    held.source_system,
    cast(null as bigint) as affected_units,
    held.value_at_stake_reporting as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'Re-delivery ' || held.source_file || ' of ' || held.extract_name || ' for '
    || {{ to_text('held.business_date') }} || ' was held: it has '
    || {{ to_text('coalesce(held.rows_loaded, 0)') }} || ' loadable rows ('
    || {{ to_text('coalesce(held.rows_read, 0)') }} || ' read, '
    || {{ to_text('coalesce(held.rows_quarantined, 0)') }} || ' quarantined) against '
    || {{ to_text('coalesce(held.live_rows_loaded, 0)') }} || ' rows of the live file '
    || coalesce(held.live_source_file, '(unknown)') || ', which stays; '
    || {{ to_text('held.rows_at_stake') }} || ' rows at stake'
    || coalesce(
        ', worth ' || {{ to_text('held.value_at_stake_reporting') }}
        || ' {{ var("reporting_currency") }} net sales (pro rata of the live file''s '
        || {{ to_text(round_money('held.live_net_sales_reporting')) }} || ')',
        ''
    )
    || coalesce(' (' || held.error_message || ')', '')
    || case
        when held.is_withdrawn
            then
                '. Withdrawn: the path''s next content was logged on '
                || {{ to_text('held.released_date') }}
                || '; nothing of the held file was loaded.'
        when held.released_load_id is not null
            then '. Released and loaded on ' || {{ to_text('held.released_date') }} || '.'
        else '. Release it with action release in seed exception_actions, or waive it.'
    end as explanation,
    coalesce(held.delivery_date, held.business_date) as first_seen_date,
    case
        when held.released_date is not null
            then greatest(held.released_date, coalesce(held.delivery_date, held.business_date))
        else greatest(landing.reached_date, coalesce(held.delivery_date, held.business_date))
    end as last_seen_date,
    held.released_date as resolved_date,
    -- an action dated before the day of this hold answered an earlier hold of the path
    held.held_date as raised_date
from held
cross join landing
