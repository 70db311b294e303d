-- Reconciliation on_hand_wms (docs/glossary.md, Reconciliations): the perpetual on hand against the
-- WMS's own count, per distribution centre, SKU and snapshot date, in units. Left: on hand at
-- the close of the date (mart_available_inventory, quarantined units included). Right: the WMS
-- on-hand snapshot of that date, every stock status, in eaches. A SKU on one side only compares
-- with zero; only dates with a snapshot of the site compare; items the crosswalk cannot resolve
-- are left to their own exception. The money impact is the difference at the entity's
-- moving-average cost.

with

counts as (
    select * from {{ ref('int_wms_on_hand_resolved') }}
    where location_id is not null
),

snapshot_days as (
    select distinct
        counts.snapshot_date,
        counts.location_id
    from counts
),

counted as (
    select
        counts.snapshot_date,
        counts.location_id,
        counts.sku,
        sum(counts.quantity_eaches) as counted_units
    from counts
    where counts.sku is not null
    group by
        counts.snapshot_date,
        counts.location_id,
        counts.sku
),

perpetual as (
    select
        positions.as_of_date,
        positions.location_id,
        positions.sku,
        positions.on_hand_units
    from {{ ref('mart_available_inventory') }} as positions
    inner join snapshot_days
        on
            positions.as_of_date = snapshot_days.snapshot_date
            and positions.location_id = snapshot_days.location_id
    where
        positions.on_hand_units <> 0
        and positions.sku <> '{{ var("unresolved_sku") }}'
),

comparisons as (
    select
        'on_hand_wms' as reconciliation_name,
        locations.entity_code,
        locations.functional_currency_code,
        cast(coalesce(perpetual.on_hand_units, 0) as decimal(18, 2)) as left_value,
        cast(coalesce(counted.counted_units, 0) as decimal(18, 2)) as right_value,
        true as is_due,
        coalesce(perpetual.location_id, counted.location_id) as location_id,
        coalesce(perpetual.sku, counted.sku) as sku,
        coalesce(perpetual.as_of_date, counted.snapshot_date) as comparison_date
    from perpetual
    full outer join counted
        on
            perpetual.as_of_date = counted.snapshot_date
            and perpetual.location_id = counted.location_id
            and perpetual.sku = counted.sku
    left join {{ ref('dim_location') }} as locations
        on coalesce(perpetual.location_id, counted.location_id) = locations.location_id
),

assessed as (
    {{ reconciliation_assessed('comparisons') }}
)

select
    {{ reconciliation_common_columns(
        comparison_id="'on_hand_wms|' || assessed.location_id || '|' || assessed.sku || '|' || "
        ~ to_text('assessed.comparison_date'),
        value_unit="'units'",
        location_id='assessed.location_id',
        sku='assessed.sku',
        reporting_difference='assessed.difference_value * average_costs.average_cost',
    ) }},
    'On hand of ' || assessed.sku || ' at ' || assessed.location_id || ' at the close of '
    || {{ to_text('assessed.comparison_date') }} || ': perpetual ledger '
    || {{ to_text('cast(assessed.left_value as bigint)') }} || ' units, WMS count '
    || {{ to_text('cast(assessed.right_value as bigint)') }} || ' units; difference '
    || {{ to_text('cast(assessed.difference_value as bigint)') }} || ' units, tolerance '
    || {{ to_text('assessed.tolerance_value') }}
    || coalesce(
        ', worth ' || {{ to_text(round_money(
            'assessed.difference_value * average_costs.average_cost'
        )) }} || ' ' || assessed.functional_currency_code || ' at moving-average cost',
        ''
    ) || '.' as explanation,
    {{ round_decimal('average_costs.average_cost', 4) }} as unit_cost
from assessed
{{ join_average_cost(
    'average_costs', 'assessed.entity_code', 'assessed.sku', 'assessed.comparison_date'
) }}
{{ join_fx_rate(
    'reporting_rates', 'assessed.comparison_date', 'assessed.functional_currency_code'
) }}
