-- The exception queue's shrink spikes (issue 18; docs/decisions.md, "Anomalies against history
-- and peers"): a day on which a location loses far more units to shrink and downward count
-- corrections than it usually does. The day's lost units are compared with the median and
-- median absolute deviation of the location's own earlier history_days days (days without a
-- loss count as zero; at least min_history of them); a day is a spike when its robust score
-- and its units pass seed anomaly_thresholds (a loss has no weekday pattern: counts happen any
-- day). One exception per location and day; the impact is the lost units at the entity's
-- moving-average cost of the day, in the reporting currency.

with

thresholds as (
    {{ anomaly_thresholds('shrink_spike', [
        'history_days', 'min_history', 'min_score', 'min_volume', 'mad_floor',
    ]) }}
),

movements as (
    select movements.*
    from {{ ref('fct_inventory_movements') }} as movements
    where
        movements.movement_type in ('adjustment', 'adjustment_at_cost')
        and movements.reason_code in ('shrink', 'count_correction')
        and movements.on_hand_units < 0
        and movements.sku <> '{{ var("unresolved_sku") }}'
),

-- each loss at the moving-average cost of its entity, SKU and day
valued as (
    select
        movements.location_id,
        movements.entity_code,
        movements.business_date,
        movements.reason_code,
        locations.functional_currency_code,
        -movements.on_hand_units as lost_units,
        -movements.on_hand_units * average_costs.average_cost as lost_value,
        -movements.on_hand_units * average_costs.average_cost * rates.exchange_rate
            as lost_value_reporting
    from movements
    inner join {{ ref('dim_location') }} as locations
        on movements.location_id = locations.location_id
    left join {{ ref('int_average_cost_changes') }} as average_costs
        on
            movements.entity_code = average_costs.entity_code
            and movements.sku = average_costs.sku
            and movements.business_date >= average_costs.valid_from_date
            and (
                average_costs.valid_until_date is null
                or movements.business_date < average_costs.valid_until_date
            )
    {{ join_fx_rate('rates', 'movements.business_date', 'locations.functional_currency_code') }}
),

daily as (
    select
        valued.location_id,
        valued.business_date,
        count(*) as loss_lines,
        sum(case when valued.reason_code = 'shrink' then valued.lost_units else 0 end)
            as shrink_units,
        sum(valued.lost_units) as lost_units,
        sum(valued.lost_value) as lost_value,
        sum(valued.lost_value_reporting) as lost_value_reporting
    from valued
    group by valued.location_id, valued.business_date
),

bounds as (
    select
        min(positions.valid_from_date) as first_date,
        max(positions.valid_from_date) as last_date
    from {{ ref('int_inventory_position_changes') }} as positions
),

-- every location that holds stock, every day (a day without a loss is a zero)
observed as (
    select
        locations.location_id,
        locations.entity_code,
        locations.functional_currency_code,
        calendar_days.date_day as observed_date,
        {{ dbt.datediff(
            'bounds.first_date', 'calendar_days.date_day', 'day'
        ) }} as day_number,
        thresholds.history_days,
        coalesce(daily.loss_lines, 0) as loss_lines,
        coalesce(daily.shrink_units, 0) as shrink_units,
        coalesce(daily.lost_units, 0) as lost_units,
        daily.lost_value,
        daily.lost_value_reporting
    from {{ ref('dim_location') }} as locations
    cross join bounds
    cross join thresholds
    inner join {{ ref('int_calendar_days') }} as calendar_days
        on calendar_days.date_day between bounds.first_date and bounds.last_date
    left join daily
        on
            locations.location_id = daily.location_id
            and calendar_days.date_day = daily.business_date
    where locations.location_type in ('store', 'dc')
),

{{ robust_baseline(
    'observed',
    ['location_id', 'observed_date'],
    'lost_units',
    "observation.location_id = history.location_id
    and history.day_number < observation.day_number
    and history.day_number >= observation.day_number - observation.history_days"
) }},

scored as (
    select
        baselined.*,
        (baselined.lost_units - baselined.baseline_median)
        / {{ robust_spread('baselined.baseline_mad', 'thresholds.mad_floor') }} as score,
        thresholds.min_history,
        thresholds.min_score,
        thresholds.min_volume
    from observed_baselined as baselined
    cross join thresholds
),

spikes as (
    select scored.*
    from scored
    where
        scored.history_count >= scored.min_history
        and scored.lost_units >= scored.min_volume
        and scored.score >= scored.min_score
)

select
    {{ dbt.hash(
        "'shrink_spike|' || spikes.location_id || '|' || " ~ to_text('spikes.observed_date')
    ) }} as exception_id,
    'shrink_spike' as exception_type,
    spikes.location_id || '|' || {{ to_text('spikes.observed_date') }} as natural_key,
    spikes.entity_code,
    spikes.location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    'warehouse' as source_system,
    cast(spikes.lost_units as bigint) as affected_units,
    {{ round_money('spikes.lost_value_reporting') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    spikes.location_id || ' lost ' || {{ to_text('spikes.lost_units') }} || ' units ('
    || {{ to_text('spikes.shrink_units') }}
    || ' to shrink, the rest to downward count corrections) in '
    || {{ to_text('spikes.loss_lines') }} || ' adjustment lines on '
    || {{ to_text('spikes.observed_date') }}
    || coalesce(
        ', ' || {{ to_text(round_money('spikes.lost_value')) }} || ' '
        || spikes.functional_currency_code || ' at moving-average cost', ''
    )
    || ', against its own baseline of ' || {{ to_text('spikes.baseline_median') }}
    || ' units a day (median of ' || {{ to_text('spikes.history_count') }}
    || ' earlier days, MAD ' || {{ to_text('spikes.baseline_mad') }} || '), robust score '
    || {{ to_text('round(spikes.score, 1)') }} || '. The rows: fct_inventory_movements '
    || 'adjustments of ' || spikes.location_id || ' that day.' as explanation,
    spikes.observed_date as first_seen_date,
    spikes.observed_date as last_seen_date,
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from spikes
