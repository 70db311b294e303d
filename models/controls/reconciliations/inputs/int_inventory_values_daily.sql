-- The inventory subledger per entity at the close of every business date: the units of each
-- SKU the entity holds (on hand, and in transit between its own locations, which moves no
-- value; from the valuation ledger) x its moving-average cost after the last inbound event
-- dated on or before the date, rounded per SKU: the stock value, which the inventory postings
-- add up to exactly (docs/glossary.md, "Cost and margin"). This is what the ERP's inventory
-- account carries. Codes that did not resolve cannot be valued and are left out.
-- A SKU's stock value changes only on a date its units or its average change: it is valued on
-- those dates, and each entity's daily total is the running sum of the changes (rows in
-- proportion to the changes, not to every SKU on every day).

with

daily_units as (
    select
        events.entity_code,
        events.sku,
        events.business_date,
        sum(events.units) as units
    from {{ ref('int_valuation_events_sequenced') }} as events
    group by
        events.entity_code,
        events.sku,
        events.business_date
),

-- each entity and SKU's averages, numbered in date order
average_costs as (
    select
        average_costs.entity_code,
        average_costs.sku,
        average_costs.valid_from_date,
        average_costs.average_cost,
        row_number() over (
            partition by average_costs.entity_code, average_costs.sku
            order by average_costs.valid_from_date
        ) as average_number
    from {{ ref('int_average_cost_changes') }} as average_costs
),

change_dates as (
    select
        daily_units.entity_code,
        daily_units.sku,
        daily_units.business_date as change_date
    from daily_units
    union
    select
        average_costs.entity_code,
        average_costs.sku,
        average_costs.valid_from_date as change_date
    from average_costs
),

-- the units at the close of each change date and before it, and the number of the average in
-- force at its close (zero before the first)
changes as (
    select
        change_dates.entity_code,
        change_dates.sku,
        change_dates.change_date,
        coalesce(daily_units.units, 0) as units_moved,
        average_costs.average_number is not null as is_average_change,
        sum(coalesce(daily_units.units, 0)) over (
            partition by change_dates.entity_code, change_dates.sku
            order by change_dates.change_date
            rows between unbounded preceding and current row
        ) as units,
        count(average_costs.average_number) over (
            partition by change_dates.entity_code, change_dates.sku
            order by change_dates.change_date
            rows between unbounded preceding and current row
        ) as average_number
    from change_dates
    left join daily_units
        on
            change_dates.entity_code = daily_units.entity_code
            and change_dates.sku = daily_units.sku
            and change_dates.change_date = daily_units.business_date
    left join average_costs
        on
            change_dates.entity_code = average_costs.entity_code
            and change_dates.sku = average_costs.sku
            and change_dates.change_date = average_costs.valid_from_date
),

-- what each change date moves of the SKU's units and stock value: the value at its close less
-- the value before it (the units before it at the average then in force)
sku_changes as (
    select
        changes.entity_code,
        changes.change_date,
        changes.units_moved as units_change,
        coalesce({{ stock_value('changes.units', 'average_after.average_cost') }}, 0)
        - coalesce(
            {{ stock_value(
                'changes.units - changes.units_moved', 'average_before.average_cost'
            ) }},
            0
        ) as value_change
    from changes
    left join average_costs as average_after
        on
            changes.entity_code = average_after.entity_code
            and changes.sku = average_after.sku
            and changes.average_number = average_after.average_number
    left join average_costs as average_before
        on
            changes.entity_code = average_before.entity_code
            and changes.sku = average_before.sku
            and changes.average_number
            - case when changes.is_average_change then 1 else 0 end
            = average_before.average_number
),

entity_changes as (
    select
        sku_changes.entity_code,
        sku_changes.change_date,
        sum(sku_changes.units_change) as units_change,
        sum(sku_changes.value_change) as value_change
    from sku_changes
    group by sku_changes.entity_code, sku_changes.change_date
),

date_range as (
    select
        daily_units.entity_code,
        min(daily_units.business_date) as first_business_date,
        max(max(daily_units.business_date)) over () as last_business_date
    from daily_units
    group by daily_units.entity_code
),

-- every date from the entity's first stock event to the last of any entity
entity_days as (
    select
        date_range.entity_code,
        dates.date_day as as_of_date
    from {{ ref('dim_date') }} as dates
    inner join date_range
        on
            dates.date_day >= date_range.first_business_date
            and dates.date_day <= date_range.last_business_date
),

daily as (
    select
        entity_days.entity_code,
        entity_days.as_of_date,
        sum(coalesce(entity_changes.units_change, 0)) over (
            partition by entity_days.entity_code
            order by entity_days.as_of_date
            rows between unbounded preceding and current row
        ) as units,
        sum(coalesce(entity_changes.value_change, 0)) over (
            partition by entity_days.entity_code
            order by entity_days.as_of_date
            rows between unbounded preceding and current row
        ) as inventory_value
    from entity_days
    left join entity_changes
        on
            entity_days.entity_code = entity_changes.entity_code
            and entity_days.as_of_date = entity_changes.change_date
)

select
    daily.entity_code,
    daily.as_of_date,
    entities.functional_currency_code,
    cast(daily.units as bigint) as units,
    cast(daily.inventory_value as decimal(18, 2)) as inventory_value
from daily
left join {{ ref('dim_entity') }} as entities on daily.entity_code = entities.entity_code
