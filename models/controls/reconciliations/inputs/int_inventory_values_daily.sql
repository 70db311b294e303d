-- The inventory subledger per entity at the close of every business date: the units of each
-- SKU the entity holds (on hand, and in transit between its own locations, which moves no
-- value; from the valuation ledger) x its moving-average cost after the last inbound event
-- dated on or before the date, rounded per SKU: the stock value, which the inventory postings
-- add up to exactly (docs/glossary.md, "Cost and margin"). This is what the ERP's inventory
-- account carries. Codes that did not resolve cannot be valued and are left out.

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

ranges as (
    select
        daily_units.entity_code,
        daily_units.sku,
        daily_units.business_date as valid_from_date,
        lead(daily_units.business_date) over (
            partition by daily_units.entity_code, daily_units.sku
            order by daily_units.business_date
        ) as valid_until_date,
        sum(daily_units.units) over (
            partition by daily_units.entity_code, daily_units.sku
            order by daily_units.business_date
            rows between unbounded preceding and current row
        ) as units
    from daily_units
),

date_range as (
    select
        min(daily_units.business_date) as first_business_date,
        max(daily_units.business_date) as last_business_date
    from daily_units
),

days as (
    select dates.date_day
    from {{ ref('dim_date') }} as dates
    cross join date_range
    where dates.date_day between date_range.first_business_date and date_range.last_business_date
),

valued as (
    select
        ranges.entity_code,
        days.date_day as as_of_date,
        ranges.units,
        {{ stock_value('ranges.units', 'average_costs.average_cost') }} as inventory_value
    from ranges
    inner join days
        on
            ranges.valid_from_date <= days.date_day
            and (ranges.valid_until_date is null or ranges.valid_until_date > days.date_day)
    {{ join_average_cost('average_costs', 'ranges.entity_code', 'ranges.sku', 'days.date_day') }}
)

select
    valued.entity_code,
    valued.as_of_date,
    entities.functional_currency_code,
    cast(sum(valued.units) as bigint) as units,
    cast(sum(coalesce(valued.inventory_value, 0)) as decimal(18, 2)) as inventory_value
from valued
left join {{ ref('dim_entity') }} as entities on valued.entity_code = entities.entity_code
group by
    valued.entity_code,
    valued.as_of_date,
    entities.functional_currency_code
