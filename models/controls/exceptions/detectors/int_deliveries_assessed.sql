-- What the landing zone delivered against what the extract contract expects (docs/decisions.md,
-- "Completeness: expected deliveries from the contract"): one row per extract and business date
-- (scope_code null), and for an extract whose contract names a completeness_scope_column, one
-- more row per store or site of that code in dim_location (open on the date) and business date.
-- Expected dates run from the extract's first business date in raw.load_log to the latest date
-- the landing zone has reached (the latest delivery date of any file of a known extract) less
-- the extract's delivery_lag_days: daily extracts every date, weekdays extracts Monday to
-- Friday, weekly snapshots every seventh day from their first (only the first once change
-- records of the extract have arrived: they carry the master from then on), change records
-- never (a file comes only on a day with changes). A status per row (complete, empty, missing,
-- failed, held, quarantined; a store or site absent from a delivered file is missing), whether
-- it is complete, and the trailing expectation: the average rows (and, for an extract that
-- feeds a sales channel, net sales in reporting currency from mart_net_sales) of the same
-- weekday over the previous four weeks, counting only dates that were complete.
-- Reads the ingestion source directly: ingestion's own tables have no staging model.

{#- the staged model of each scoped extract: it carries load_id and the scope column -#}
{%- set staged_models = {
    'pos_sales': 'stg_pos__sales_lines',
    'wms_movements': 'stg_wms__movements',
    'wms_on_hand': 'stg_wms__on_hand_snapshots',
} -%}
{%- set scoped = completeness_scoped_extracts() -%}
{%- for extract_name in scoped if extract_name not in staged_models -%}
    {{ exceptions.raise_compiler_error(
        'int_deliveries_assessed: the contract scopes ' ~ extract_name
        ~ ' but no staged model is mapped to it'
    ) }}
{%- endfor -%}
{%- set scope_columns = scoped.values() | unique | list | sort %}

with

contract as (
    {{ completeness_contract() }}
),

load_log as (
    select * from {{ source('ingestion', 'load_log') }}
),

-- how far the landing zone has got: the latest delivery folder of a file of a known extract
-- (a rejected file's folder is not trusted)
landing as (
    select max(load_log.delivery_date) as reached_date
    from load_log
    where load_log.extract_name is not null and load_log.status <> 'rejected'
),

-- the extracts of which a file was delivered (for change records: the ERP sends them)
delivered_extracts as (
    select distinct load_log.extract_name
    from load_log
    where load_log.status <> 'rejected' and load_log.business_date is not null
),

extract_spans as (
    select
        contract.source_system,
        contract.extract_name,
        contract.cadence,
        contract.expects_rows,
        contract.scope_column,
        contract.sales_channel,
        contract.delivery_lag_days,
        min(load_log.business_date) as first_business_date,
        min(landing.reached_date) as reached_date,
        -- the ERP sends the extract's change records: its snapshots after the first are optional
        max(case when change_records.extract_name is not null then 1 else 0 end)
        = 1 as has_change_records
    from contract
    inner join load_log
        on
            contract.extract_name = load_log.extract_name
            and load_log.status <> 'rejected'
            and load_log.business_date is not null
    cross join landing
    left join delivered_extracts as change_records
        on contract.changes_extract_name = change_records.extract_name
    group by
        contract.source_system,
        contract.extract_name,
        contract.cadence,
        contract.expects_rows,
        contract.scope_column,
        contract.sales_channel,
        contract.delivery_lag_days
),

-- every file of a known extract and business date, whatever ingestion did with it
dated_files as (
    select
        load_log.extract_name,
        load_log.business_date,
        count(*) as files_received,
        min(load_log.delivery_date) as first_delivery_date,
        max(case when load_log.status in ('loaded', 'replaced') then load_log.load_id end)
            as live_load_id
    from load_log
    where load_log.extract_name is not null and load_log.business_date is not null
    group by load_log.extract_name, load_log.business_date
),

held_files as (
    select
        held.extract_name,
        held.business_date,
        count(*) as open_held_files,
        sum(held.rows_at_stake) as rows_at_stake,
        sum(held.value_at_stake_reporting) as value_at_stake_reporting
    from {{ ref('int_redeliveries_held') }} as held
    where held.is_open
    group by held.extract_name, held.business_date
),

dates as (
    select
        extract_spans.*,
        calendar_days.date_day as business_date,
        {{ add_days('extract_spans.delivery_lag_days', 'calendar_days.date_day') }} as due_date,
        (
            case extract_spans.cadence
                when 'daily' then true
                when 'weekdays' then {{ iso_day_of_week('calendar_days.date_day') }} <= 5
                when 'weekly_snapshot'
                    then
                        calendar_days.date_day = extract_spans.first_business_date
                        or (
                            not extract_spans.has_change_records
                            and {{ dbt.datediff(
                                'extract_spans.first_business_date',
                                'calendar_days.date_day',
                                'day'
                            ) }} % 7 = 0
                        )
                -- on_event (an optional extract sent once, e.g. opening balances): never due
                when 'on_event' then false
                else false
            end
            and {{ add_days('extract_spans.delivery_lag_days', 'calendar_days.date_day') }}
            <= extract_spans.reached_date
        ) as is_expected
    from extract_spans
    inner join {{ ref('int_calendar_days') }} as calendar_days
        on
            calendar_days.date_day
            between extract_spans.first_business_date and extract_spans.reached_date
),

file_level as (
    select
        dates.source_system,
        dates.extract_name,
        dates.cadence,
        dates.expects_rows,
        dates.scope_column,
        dates.sales_channel,
        dates.business_date,
        dates.due_date,
        dates.reached_date,
        dates.is_expected,
        coalesce(dated_files.files_received, 0) as files_received,
        dated_files.first_delivery_date,
        live.load_id as live_load_id,
        live.source_file as live_source_file,
        live.delivery_date as live_delivery_date,
        live.rows_read,
        live.rows_loaded,
        live.rows_quarantined,
        coalesce(held_files.open_held_files, 0) as open_held_files,
        held_files.rows_at_stake as held_rows_at_stake,
        held_files.value_at_stake_reporting as held_value_at_stake_reporting,
        case
            when held_files.open_held_files > 0 then 'held'
            when dated_files.files_received is null then 'missing'
            when live.load_id is null then 'failed'
            when live.rows_read = 0 then 'empty'
            when live.rows_loaded = 0 then 'quarantined'
            else 'complete'
        end as status
    from dates
    left join dated_files
        on
            dates.extract_name = dated_files.extract_name
            and dates.business_date = dated_files.business_date
    left join load_log as live on dated_files.live_load_id = live.load_id
    left join held_files
        on
            dates.extract_name = held_files.extract_name
            and dates.business_date = held_files.business_date
    where dates.is_expected or dated_files.files_received is not null
),

-- the stores or sites each scoped extract must carry: their code in dim_location
scope_members as (
    select
        contract.extract_name,
        locations.location_id,
        locations.entity_code,
        locations.opened_date,
        case contract.scope_column
            {%- for scope_column in scope_columns %}
                when '{{ scope_column }}' then locations.{{ scope_column }}
            {%- endfor %}
        end as scope_code
    from contract
    cross join {{ ref('dim_location') }} as locations
    where contract.scope_column is not null
),

-- rows of each store or site in each live file, as staged
scope_rows as (
    {%- for extract_name, model in staged_models.items() %}
        select
            '{{ extract_name }}' as extract_name,
            staged.load_id,
            staged.{{ scoped.get(extract_name, 'load_id') }} as scope_code,
            count(*) as rows_loaded
        from {{ ref(model) }} as staged
        group by staged.load_id, staged.{{ scoped.get(extract_name, 'load_id') }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

scope_level as (
    select
        file_level.source_system,
        file_level.extract_name,
        file_level.cadence,
        file_level.expects_rows,
        file_level.scope_column,
        file_level.sales_channel,
        file_level.business_date,
        file_level.due_date,
        file_level.reached_date,
        file_level.is_expected,
        file_level.files_received,
        file_level.first_delivery_date,
        file_level.live_load_id,
        file_level.live_source_file,
        file_level.live_delivery_date,
        cast(null as bigint) as rows_read,
        coalesce(scope_rows.rows_loaded, 0) as rows_loaded,
        cast(null as bigint) as rows_quarantined,
        file_level.open_held_files,
        cast(null as bigint) as held_rows_at_stake,
        cast(null as decimal(18, 2)) as held_value_at_stake_reporting,
        case
            when file_level.status <> 'complete' then file_level.status
            when scope_rows.rows_loaded is null then 'missing'
            else 'complete'
        end as status,
        scope_members.scope_code,
        scope_members.location_id,
        scope_members.entity_code
    from file_level
    inner join scope_members
        on
            file_level.extract_name = scope_members.extract_name
            and (
                scope_members.opened_date is null
                or file_level.business_date >= scope_members.opened_date
            )
    left join scope_rows
        on
            file_level.extract_name = scope_rows.extract_name
            and file_level.live_load_id = scope_rows.load_id
            and scope_members.scope_code = scope_rows.scope_code
    where scope_members.scope_code is not null
),

unioned as (
    select
        file_level.*,
        cast(null as {{ dbt.type_string() }}) as scope_code,
        cast(null as {{ dbt.type_string() }}) as location_id,
        cast(null as {{ dbt.type_string() }}) as entity_code
    from file_level
    union all
    select * from scope_level
),

-- a delivery's sales on the date they happened: a late line reported in an open period
-- (Period close) counts on its own business date
sales_by_own_date as (
    select
        net_sales.channel,
        net_sales.location_id,
        net_sales.net_sales_reporting,
        coalesce(net_sales.adjusted_business_date, net_sales.business_date) as business_date
    from {{ ref('mart_net_sales') }} as net_sales
),

channel_sales as (
    select
        sales_by_own_date.channel,
        sales_by_own_date.business_date,
        sum(sales_by_own_date.net_sales_reporting) as net_sales_reporting
    from sales_by_own_date
    group by sales_by_own_date.channel, sales_by_own_date.business_date
),

location_sales as (
    select
        sales_by_own_date.channel,
        sales_by_own_date.business_date,
        sales_by_own_date.location_id,
        sum(sales_by_own_date.net_sales_reporting) as net_sales_reporting
    from sales_by_own_date
    group by
        sales_by_own_date.channel,
        sales_by_own_date.business_date,
        sales_by_own_date.location_id
),

judged as (
    select
        unioned.*,
        case
            when unioned.sales_channel is not null
                then coalesce(
                    case
                        when unioned.scope_code is null then channel_sales.net_sales_reporting
                        else location_sales.net_sales_reporting
                    end,
                    0
                )
        end as net_sales_reporting,
        case
            when unioned.status = 'held' then false
            when not unioned.is_expected then true
            when unioned.status = 'complete' then true
            when unioned.status = 'empty' then not unioned.expects_rows
            else false
        end as is_complete
    from unioned
    left join channel_sales
        on
            unioned.sales_channel = channel_sales.channel
            and unioned.business_date = channel_sales.business_date
    left join location_sales
        on
            unioned.sales_channel = location_sales.channel
            and unioned.business_date = location_sales.business_date
            and unioned.location_id = location_sales.location_id
),

-- the same weekday of the previous four weeks, where that date was expected and complete: an
-- equality join on each of the four dates
trailing_offsets as (
    select 7 as days_back
    union all
    select 14 as days_back
    union all
    select 21 as days_back
    union all
    select 28 as days_back
),

trailing_weeks as (
    select
        judged.extract_name,
        judged.business_date,
        judged.scope_code,
        count(previous.business_date) as trailing_dates_count,
        avg(previous.rows_loaded) as trailing_rows,
        avg(previous.net_sales_reporting) as trailing_net_sales_reporting
    from judged
    cross join trailing_offsets
    left join judged as previous
        on
            judged.extract_name = previous.extract_name
            and coalesce(judged.scope_code, '') = coalesce(previous.scope_code, '')
            and {{ add_days('-trailing_offsets.days_back', 'judged.business_date') }}
            = previous.business_date
            and previous.is_expected
            and previous.is_complete
    group by judged.extract_name, judged.business_date, judged.scope_code
)

select
    judged.*,
    trailing_weeks.trailing_dates_count,
    cast(round(trailing_weeks.trailing_rows, 2) as decimal(18, 2)) as trailing_rows,
    {{ round_money('trailing_weeks.trailing_net_sales_reporting') }}
        as trailing_net_sales_reporting,
    case
        when judged.is_complete then null
        when judged.status = 'held' then judged.held_rows_at_stake
        else cast(round(trailing_weeks.trailing_rows) as bigint)
    end as estimated_missing_rows,
    case
        when judged.is_complete then null
        when judged.status = 'held' then judged.held_value_at_stake_reporting
        else {{ round_money('trailing_weeks.trailing_net_sales_reporting') }}
    end as estimated_missing_value_reporting
from judged
inner join trailing_weeks
    on
        judged.extract_name = trailing_weeks.extract_name
        and judged.business_date = trailing_weeks.business_date
        and coalesce(judged.scope_code, '') = coalesce(trailing_weeks.scope_code, '')
