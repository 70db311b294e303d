-- The exception queue's negative available stock (docs/glossary.md: available can go below zero;
-- that raises an exception and is never clipped). One row per location, SKU and episode of
-- consecutive business dates on which available units were below zero, keyed by its first
-- date; an episode that ends is resolved on the first date available is back at zero or more.
-- The unresolved member is left out (its units belong to the unresolved item code's
-- exception). The impact is the shortfall at the entity's moving-average cost.

with

positions as (
    select
        positions.location_id,
        positions.entity_code,
        positions.sku,
        positions.valid_from_date,
        positions.valid_until_date,
        positions.on_hand_units - positions.reserved_units - positions.quarantined_units
            as available_units
    from {{ ref('int_inventory_position_changes') }} as positions
    where positions.sku <> '{{ var("unresolved_sku") }}'
),

-- the locations and SKUs ever below zero: only their ranges are read in date order
negative_pairs as (
    select distinct
        positions.location_id,
        positions.sku
    from positions
    where positions.available_units < 0
),

-- ranges of unchanged positions: consecutive negative ranges form one episode
flagged as (
    select
        positions.*,
        positions.available_units < 0 as is_negative,
        sum(case when positions.available_units < 0 then 0 else 1 end) over (
            partition by positions.location_id, positions.sku
            order by positions.valid_from_date
            rows between unbounded preceding and current row
        ) as recoveries_so_far
    from positions
    inner join negative_pairs
        on
            positions.location_id = negative_pairs.location_id
            and positions.sku = negative_pairs.sku
),

episodes as (
    select
        flagged.location_id,
        flagged.entity_code,
        flagged.sku,
        flagged.recoveries_so_far,
        min(flagged.valid_from_date) as first_seen_date,
        max(flagged.valid_until_date) as episode_end_date,
        max(case when flagged.valid_until_date is null then 1 else 0 end) as is_ongoing,
        min(flagged.available_units) as lowest_available_units
    from flagged
    where flagged.is_negative
    group by
        flagged.location_id,
        flagged.entity_code,
        flagged.sku,
        flagged.recoveries_so_far
),

last_date as (
    select max(positions.valid_from_date) as last_business_date from positions
),

valued as (
    select
        episodes.*,
        case when episodes.is_ongoing = 1 then null else episodes.episode_end_date end
            as resolved_date,
        case
            when episodes.is_ongoing = 1 then last_date.last_business_date
            else {{ add_days(-1, 'episodes.episode_end_date') }}
        end as last_seen_date,
        locations.functional_currency_code,
        -episodes.lowest_available_units * average_costs.average_cost as shortfall_value,
        -episodes.lowest_available_units * average_costs.average_cost * rates.exchange_rate
            as shortfall_value_reporting
    from episodes
    cross join last_date
    left join {{ ref('dim_location') }} as locations
        on episodes.location_id = locations.location_id
    {{ join_average_cost(
        'average_costs', 'episodes.entity_code', 'episodes.sku', 'episodes.first_seen_date'
    ) }}
    {{ join_fx_rate('rates', 'episodes.first_seen_date', 'locations.functional_currency_code') }}
)

select
    {{ dbt.hash(
        "'negative_available_stock|' || valued.location_id || '|' || valued.sku || '|' || "
        ~ to_text('valued.first_seen_date')
    ) }} as exception_id,
    'negative_available_stock' as exception_type,
    valued.location_id || '|' || valued.sku || '|' || {{ to_text('valued.first_seen_date') }}
        as natural_key,
    valued.entity_code,
    valued.location_id,
    valued.sku,
    'warehouse' as source_system,
    cast(-valued.lowest_available_units as bigint) as affected_units,
    {{ round_money('valued.shortfall_value_reporting') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'Available stock of ' || valued.sku || ' at ' || valued.location_id || ' was below zero from '
    || {{ to_text('valued.first_seen_date') }} || ' to '
    || {{ to_text('valued.last_seen_date') }} || ', at its lowest '
    || {{ to_text('valued.lowest_available_units') }} || ' units'
    || coalesce(
        ' (' || {{ to_text(round_money('valued.shortfall_value')) }} || ' '
        || valued.functional_currency_code || ' at moving-average cost)',
        ''
    )
    || case
        when valued.resolved_date is null then '; still negative'
        else '; back at zero or more on ' || {{ to_text('valued.resolved_date') }}
    end || '. Look for a receipt or transfer booked late or missing.' as explanation,
    valued.first_seen_date,
    valued.last_seen_date,
    valued.resolved_date,
    cast(null as date) as raised_date
from valued
