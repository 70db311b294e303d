-- The exception queue's unresolved item codes: one row per source system and item code that a
-- staged fact uses on a business date when no ERP cross-reference maps it, with the rows,
-- units and value kept against the unresolved member. Units are the units moved (sold,
-- returned, ordered, picked...) plus, for WMS stock snapshots, the stock on the latest snapshot
-- date; the value is converted into the reporting currency at the business date's rate.
with

unresolved as (
    select codes.*
    from {{ ref('int_item_codes_resolved') }} as codes
    where codes.is_unresolved
),

valued as (
    select
        unresolved.*,
        unresolved.affected_value * reporting_rates.exchange_rate as affected_value_reporting,
        case
            when unresolved.affected_value is not null and reporting_rates.exchange_rate is null
                then 1
            else 0
        end as unconverted_value_count,
        -- stock snapshots: only the latest date of each location counts
        row_number() over (
            partition by
                unresolved.source_system,
                unresolved.source_item_code,
                unresolved.source_model,
                unresolved.location_id
            order by unresolved.business_date desc
        ) as recency_rank
    from unresolved
    {{ join_fx_rate('reporting_rates', 'unresolved.business_date', 'unresolved.currency_code') }}
),

counted as (
    select
        valued.*,
        case
            when not valued.is_stock_level or valued.recency_rank = 1
                then coalesce(valued.affected_units, 0)
            else 0
        end as counted_units,
        case
            when not valued.is_stock_level or valued.recency_rank = 1
                then coalesce(valued.unconverted_case_quantity, 0)
            else 0
        end as counted_case_quantity
    from valued
),

by_currency as (
    select
        counted.source_system,
        counted.source_item_code,
        {{ dbt.concat([
            'cast(cast(sum(counted.affected_value) as decimal(18, 2)) as '
            ~ dbt.type_string() ~ ')',
            "' '",
            'counted.currency_code',
        ]) }} as value_breakdown
    from counted
    where counted.currency_code is not null
    group by
        counted.source_system,
        counted.source_item_code,
        counted.currency_code
),

currency_breakdowns as (
    select
        by_currency.source_system,
        by_currency.source_item_code,
        {{ dbt.listagg(
            'by_currency.value_breakdown', "', '", 'order by by_currency.value_breakdown'
        ) }} as value_breakdown
    from by_currency
    group by
        by_currency.source_system,
        by_currency.source_item_code
),

by_location as (
    select distinct
        counted.source_system,
        counted.source_item_code,
        coalesce(counted.location_id, 'unknown location') as location_label
    from counted
),

location_lists as (
    select
        by_location.source_system,
        by_location.source_item_code,
        {{ dbt.listagg(
            'by_location.location_label', "', '", 'order by by_location.location_label'
        ) }} as location_list
    from by_location
    group by
        by_location.source_system,
        by_location.source_item_code
),

codes as (
    select
        counted.source_system,
        counted.source_item_code,
        cast(sum(counted.affected_value_reporting) as decimal(18, 2)) as affected_value_reporting,
        min(counted.sku) as sku,
        count(distinct counted.location_id) as location_count,
        min(counted.location_id) as any_location_id,
        count(distinct counted.entity_code) as entity_count,
        min(counted.entity_code) as any_entity_code,
        sum(counted.line_count) as line_count,
        sum(counted.counted_units) as affected_units,
        sum(counted.counted_case_quantity) as unconverted_case_quantity,
        sum(counted.unconverted_value_count) as unconverted_value_count,
        count(counted.affected_value) as valued_row_count,
        min(counted.business_date) as first_seen_date,
        max(counted.business_date) as last_seen_date
    from counted
    group by
        counted.source_system,
        counted.source_item_code
),

explained as (
    select
        codes.*,
        location_lists.location_list,
        currency_breakdowns.value_breakdown,
        {{ dbt.concat([
            'codes.source_system',
            "' item code '",
            'codes.source_item_code',
            "' has no ERP cross-reference valid on its business dates: '",
            'cast(codes.line_count as ' ~ dbt.type_string() ~ ')',
            "case when codes.line_count = 1 then ' row, ' else ' rows, ' end",
            'cast(codes.affected_units as ' ~ dbt.type_string() ~ ')',
            "case when codes.affected_units = 1 then ' unit' else ' units' end",
            "case when codes.unconverted_case_quantity > 0 then ' and '
                || cast(codes.unconverted_case_quantity as " ~ dbt.type_string() ~ ")
                || ' cases of unknown case pack' else '' end",
            "case when codes.valued_row_count = 0 then ', no value (the source carries no amounts)'
                else ', worth ' || coalesce(cast(codes.affected_value_reporting as "
                ~ dbt.type_string() ~ "), '0.00') || ' ' || '"
                ~ var('reporting_currency') ~ "' || ' (' || currency_breakdowns.value_breakdown
                || ')' end",
            "case when codes.unconverted_value_count > 0 then ' of which '
                || cast(codes.unconverted_value_count as " ~ dbt.type_string() ~ ")
                || ' amounts have no exchange rate within the gap limit and are not included'
                else '' end",
            "', at '",
            'location_lists.location_list',
            "case when codes.first_seen_date = codes.last_seen_date then ', on '
                else ', from ' end",
            'cast(codes.first_seen_date as ' ~ dbt.type_string() ~ ')',
            "case when codes.first_seen_date = codes.last_seen_date then ''
                else ' to ' || cast(codes.last_seen_date as " ~ dbt.type_string() ~ ") end",
            "'; the rows are kept against the unresolved member '",
            'codes.sku',
            "'.'",
        ]) }} as explanation
    from codes
    inner join location_lists
        on
            codes.source_system = location_lists.source_system
            and codes.source_item_code = location_lists.source_item_code
    left join currency_breakdowns
        on
            codes.source_system = currency_breakdowns.source_system
            and codes.source_item_code = currency_breakdowns.source_item_code
)

select
    {{ dbt.hash(dbt.concat([
        "'unresolved_item_code|'",
        'explained.source_system',
        "'|'",
        'explained.source_item_code',
    ])) }} as exception_id,
    'unresolved_item_code' as exception_type,
    {{ dbt.concat(['explained.source_system', "'|'", 'explained.source_item_code']) }}
        as natural_key,
    case when explained.entity_count = 1 then explained.any_entity_code end as entity_code,
    case when explained.location_count = 1 then explained.any_location_id end as location_id,
    explained.sku,
    explained.source_system,
    cast(explained.affected_units as bigint) as affected_units,
    explained.affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    explained.explanation,
    explained.first_seen_date,
    explained.last_seen_date,
    -- a code stays unresolved until the ERP maps it: the queue's memory records it resolved
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from explained
