-- Re-deliveries ingestion held back (raw.load_log status held): a file that would have replaced
-- the live file of its extract and business date but has no data rows, or would lose more than
-- the extract's allowed share of the live file's rows. Nothing of it is loaded; the live file
-- (related_load_id) stays. One row per held path, its latest hold (the exception is the
-- path's), with the rows at stake (the live file's rows less the held file's) and, for sales
-- extracts, their value: the net sales in reporting currency of the live file's lines
-- (fct_sales_lines.source_file), pro rata to the rows at stake. Open while the hold is its
-- path's latest load_log row (the rule ingestion's OPEN_HOLDS_SQL states alike): any later row
-- of the path closes it, the released file's load (an owner's release action made the next
-- ingestion load it) or the path's next content (the sender withdrew or corrected the held
-- file: is_withdrawn). Waived when its exception's latest action in seed exception_actions is a
-- waiver dated on or after held_date, the day of this hold (the owner keeps the live file): the
-- exception id is the path's, so an earlier waiver answered an earlier hold of the path (macro
-- action_answers, the rule ingestion's release_frees states for releases; docs/decisions.md,
-- "An owner's action answers one occurrence"). Reads the ingestion source directly: ingestion's
-- own tables have no staging model.

with

load_log as (
    select * from {{ source('ingestion', 'load_log') }}
),

latest_holds as (
    select
        load_log.source_file,
        max(load_log.load_id) as load_id
    from load_log
    where load_log.status = 'held'
    group by load_log.source_file
),

held as (
    select load_log.*
    from load_log
    inner join latest_holds on load_log.load_id = latest_holds.load_id
),

-- the first later row of the held path closes the hold
closings as (
    select
        held.load_id,
        min(later.load_id) as closed_load_id
    from held
    inner join load_log as later
        on
            held.source_file = later.source_file
            and held.load_id < later.load_id
    group by held.load_id
),

releases as (
    select
        closings.load_id,
        closing.load_id as released_load_id,
        closing.loaded_at as released_at,
        coalesce(closing.content_hash <> held.content_hash, false) as is_withdrawn
    from closings
    inner join held on closings.load_id = held.load_id
    inner join load_log as closing on closings.closed_load_id = closing.load_id
),

-- the latest decision on each exception
actions as (
    select * from {{ ref('int_exception_actions_latest') }}
),

file_sales as (
    select
        sales_lines.source_file,
        sum(
            case
                when sales_lines.is_return then -sales_lines.net_amount_reporting
                else sales_lines.net_amount_reporting
            end
        ) as net_sales_reporting
    from {{ ref('fct_sales_lines') }} as sales_lines
    -- the file's own lines: a reversal of a replaced file's line carries the replacing file
    where sales_lines.restatement_role is null
    group by sales_lines.source_file
),

assessed as (
    select
        held.load_id,
        {{ dbt.hash("'held_redelivery|' || held.source_file") }} as exception_id,
        held.source_system,
        held.extract_name,
        held.source_file,
        held.business_date,
        held.delivery_date,
        held.rows_read,
        held.rows_loaded,
        held.rows_quarantined,
        held.error_message,
        cast(held.loaded_at as date) as held_date,
        live.load_id as live_load_id,
        live.source_file as live_source_file,
        live.rows_loaded as live_rows_loaded,
        greatest(coalesce(live.rows_loaded, 0) - coalesce(held.rows_loaded, 0), 0)
            as rows_at_stake,
        file_sales.net_sales_reporting as live_net_sales_reporting,
        releases.released_load_id,
        cast(releases.released_at as date) as released_date,
        coalesce(releases.is_withdrawn, false) as is_withdrawn,
        coalesce(
            actions.action = 'waive'
            and {{ action_answers('actions.action_date', 'held.loaded_at') }},
            false
        ) as is_waived
    from held
    left join load_log as live on held.related_load_id = live.load_id
    left join file_sales on live.source_file = file_sales.source_file
    left join releases on held.load_id = releases.load_id
    left join actions
        on {{ dbt.hash("'held_redelivery|' || held.source_file") }} = actions.exception_id
)

select
    assessed.*,
    {{ round_money(
        'assessed.live_net_sales_reporting * assessed.rows_at_stake'
        ~ ' / nullif(assessed.live_rows_loaded, 0)'
    ) }} as value_at_stake_reporting,
    assessed.released_load_id is null and not assessed.is_waived as is_open
from assessed
