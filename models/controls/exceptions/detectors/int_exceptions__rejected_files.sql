-- The exception queue's rejected files: every landing file ingestion loaded nothing of for a
-- reason someone must look at (raw.load_log): rejected (a path it refuses to open, or a known
-- extract's file whose business date is implausibly far from its delivery date), unknown (the
-- path matches no extract of the contract), failed (the file as a whole cannot be loaded) and
-- duplicate of a live file of another business date (the same content delivered again under
-- another date). Duplicates of the same date and superseded deliveries are harmless and left
-- out; held re-deliveries are held_redelivery exceptions. One row per path (its latest load).
-- Where no live file existed for the extract and business date when it arrived, the date lacks
-- its data: the impact is the date's trailing estimate (int_deliveries_assessed), and it is
-- resolved when a later file of that extract and date loads; otherwise it stays open. Raised on
-- the day of the path's latest load (raw.load_log loaded_at): a path logged again (new content,
-- rejected again) is a new occurrence that an earlier action did not answer.
-- Reads the ingestion source directly: ingestion's own tables have no staging model.

with

load_log as (
    select * from {{ source('ingestion', 'load_log') }}
),

-- how far the landing zone has got (one definition: int_deliveries_assessed)
landing as (
    select max(deliveries.reached_date) as reached_date
    from {{ ref('int_deliveries_assessed') }} as deliveries
),

candidates as (
    select
        load_log.*,
        related.source_file as related_source_file,
        related.business_date as related_business_date
    from load_log
    left join load_log as related on load_log.related_load_id = related.load_id
    where
        load_log.status in ('rejected', 'unknown', 'failed')
        or (
            load_log.status = 'duplicate'
            and (
                related.business_date is distinct from load_log.business_date
                or related.extract_name is distinct from load_log.extract_name
            )
        )
),

latest as (
    select ranked.*
    from (
        select
            candidates.*,
            row_number() over (
                partition by candidates.source_file order by candidates.load_id desc
            ) as path_rank
        from candidates
    ) as ranked
    where ranked.path_rank = 1
),

-- the loads of the same extract and business date that left a live file, before and after
followed as (
    select
        latest.load_id,
        max(case when live.load_id < latest.load_id then live.source_file end)
            as earlier_live_file,
        min(case when live.load_id > latest.load_id then live.delivery_date end)
            as later_live_delivery_date,
        min(case when live.load_id > latest.load_id then live.source_file end)
            as later_live_file
    from latest
    inner join load_log as live
        on
            latest.extract_name = live.extract_name
            and latest.business_date = live.business_date
            and live.status in ('loaded', 'replaced')
    group by latest.load_id
),

assessed as (
    select
        latest.*,
        followed.earlier_live_file,
        followed.later_live_file,
        deliveries.trailing_net_sales_reporting,
        deliveries.trailing_rows,
        deliveries.trailing_dates_count,
        case
            when followed.earlier_live_file is null then followed.later_live_delivery_date
        end as resolved_date,
        coalesce(latest.delivery_date, cast(latest.loaded_at as date)) as seen_date
    from latest
    left join followed on latest.load_id = followed.load_id
    left join {{ ref('int_deliveries_assessed') }} as deliveries
        on
            latest.extract_name = deliveries.extract_name
            and latest.business_date = deliveries.business_date
            and deliveries.scope_code is null
)

select
    {{ dbt.hash("'rejected_file|' || assessed.source_file") }} as exception_id,
    'rejected_file' as exception_type,
    assessed.source_file as natural_key,
    cast(null as {{ dbt.type_string() }}) as entity_code,
    cast(null as {{ dbt.type_string() }}) as location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    assessed.source_system,
    cast(null as bigint) as affected_units,
    case
        when assessed.earlier_live_file is null then assessed.trailing_net_sales_reporting
    end as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'File ' || assessed.source_file
    || coalesce(
        ' (' || assessed.extract_name || ' for ' || {{ to_text('assessed.business_date') }} || ')',
        ''
    )
    || ' loaded nothing (status ' || assessed.status || ')'
    || case
        when assessed.status = 'duplicate'
            then
                ': the same content as ' || coalesce(assessed.related_source_file, '(unknown)')
                || coalesce(' of ' || {{ to_text('assessed.related_business_date') }}, '')
        else ''
    end
    || coalesce(': ' || assessed.error_message, '')
    || '; ' || {{ to_text('coalesce(assessed.rows_read, 0)') }} || ' data rows read, none loaded'
    || case
        when assessed.extract_name is null or assessed.business_date is null then '.'
        when assessed.earlier_live_file is not null
            then '. The live file ' || assessed.earlier_live_file || ' stays.'
        when assessed.later_live_file is not null
            then
                '. The date lacked the extract until ' || assessed.later_live_file
                || ' loaded (delivered ' || {{ to_text('assessed.resolved_date') }} || ').'
        else '. The date has no live file of the extract.'
    end
    || case
        when assessed.earlier_live_file is null and assessed.trailing_dates_count > 0
            then
                ' The same weekday of the previous '
                || {{ to_text('assessed.trailing_dates_count') }} || ' complete weeks averaged '
                || {{ to_text('assessed.trailing_rows') }} || ' rows'
                || coalesce(
                    ' and ' || {{ to_text('assessed.trailing_net_sales_reporting') }}
                    || ' {{ var("reporting_currency") }} net sales',
                    ''
                ) || '.'
        else ''
    end as explanation,
    assessed.seen_date as first_seen_date,
    greatest(
        assessed.seen_date,
        coalesce(
            {{ add_days(-1, 'assessed.resolved_date') }},
            (select landing.reached_date from landing)
        )
    ) as last_seen_date,
    assessed.resolved_date,
    -- the day of the path's latest load: ingestion logs a path again only when its content
    -- changes, so an action dated before it answered an earlier content of the path
    cast(assessed.loaded_at as date) as raised_date
from assessed
