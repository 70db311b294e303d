-- The exception queue's missing deliveries (docs/decisions.md, "Completeness: expected
-- deliveries from the contract"), from int_deliveries_assessed, per extract and business date:
-- * nothing delivered for an expected date by the landing zone's latest delivery (open);
-- * a live file of no data rows (header only, or JSON lines of no bytes) where the contract
--   expects rows (open until a re-delivery with rows replaces it);
-- * the first file of an expected date arrived after its due date (resolved on its arrival);
-- and per store or site: a delivered file without a single row of a store or site that must
-- deliver every expected date (open). Files that arrived but could not be loaded are
-- rejected_file exceptions, held re-deliveries held_redelivery: not reported twice here.
-- The impact is the trailing estimate: the average net sales in reporting currency (and rows)
-- of the same weekday over the previous four complete weeks.

with

assessed as (
    select * from {{ ref('int_deliveries_assessed') }}
    where is_expected
),

open_gaps as (
    select
        assessed.*,
        cast(null as date) as resolved_date,
        assessed.reached_date as last_seen_date
    from assessed
    where
        not assessed.is_complete
        and (
            (assessed.scope_code is null and assessed.status in ('missing', 'empty'))
            or (
                assessed.scope_code is not null and assessed.status = 'missing'
                and assessed.live_load_id is not null
            )
        )
),

late_arrivals as (
    select
        assessed.*,
        assessed.first_delivery_date as resolved_date,
        {{ add_days(-1, 'assessed.first_delivery_date') }} as last_seen_date
    from assessed
    where
        assessed.scope_code is null
        and assessed.first_delivery_date > assessed.due_date
        and assessed.status not in ('missing', 'empty')
),

gaps as (
    select * from open_gaps
    union all
    select * from late_arrivals
)

select
    {{ dbt.hash(
        "'missing_delivery|' || gaps.extract_name || '|' || "
        ~ to_text('gaps.business_date')
        ~ " || coalesce('|' || gaps.scope_code, '')"
    ) }} as exception_id,
    'missing_delivery' as exception_type,
    gaps.extract_name || '|' || {{ to_text('gaps.business_date') }}
    || coalesce('|' || gaps.scope_code, '') as natural_key,
    gaps.entity_code,
    gaps.location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    gaps.source_system,
    cast(null as bigint) as affected_units,
    coalesce(
        gaps.estimated_missing_value_reporting, gaps.trailing_net_sales_reporting
    ) as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    case
        when gaps.resolved_date is not null
            then
                'The ' || gaps.extract_name || ' file for '
                || {{ to_text('gaps.business_date') }} || ' was due on '
                || {{ to_text('gaps.due_date') }} || ' and arrived on '
                || {{ to_text('gaps.first_delivery_date') }} || ' ('
                || {{ to_text(dbt.datediff('gaps.due_date', 'gaps.first_delivery_date', 'day')) }}
                || ' days late); until then the date lacked it'
        when gaps.scope_code is not null
            then
                'The ' || gaps.extract_name || ' file for '
                || {{ to_text('gaps.business_date') }} || ' (' || gaps.live_source_file
                || ') has no rows of ' || gaps.scope_column || ' ' || gaps.scope_code
                || coalesce(' (' || gaps.location_id || ')', '')
                || ', which delivers every day'
        when gaps.status = 'empty'
            then
                'The ' || gaps.extract_name || ' file for '
                || {{ to_text('gaps.business_date') }} || ' (' || gaps.live_source_file
                || ') was delivered without data rows, and the contract expects rows'
        else
            'No ' || gaps.extract_name || ' file for ' || {{ to_text('gaps.business_date') }}
            || ' has arrived, though due on ' || {{ to_text('gaps.due_date') }}
            || ' and the landing zone has reached ' || {{ to_text('gaps.reached_date') }}
    end
    || case
        when gaps.trailing_dates_count = 0
            then '. No complete same weekday in the previous four weeks to estimate from.'
        else
            '. The same weekday of the previous ' || {{ to_text('gaps.trailing_dates_count') }}
            || ' complete weeks averaged ' || {{ to_text('gaps.trailing_rows') }} || ' rows'
            || coalesce(
                ' and ' || {{ to_text('gaps.trailing_net_sales_reporting') }}
                || ' {{ var("reporting_currency") }} net sales ('
                || gaps.sales_channel || ' channel'
                || coalesce(', ' || gaps.location_id, '') || ')',
                ''
            ) || '.'
    end as explanation,
    gaps.due_date as first_seen_date,
    greatest(gaps.last_seen_date, gaps.due_date) as last_seen_date,
    gaps.resolved_date,
    cast(null as date) as raised_date
from gaps
