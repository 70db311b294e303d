-- The exception queue's issues without cost (docs/glossary.md): units an entity issued before it
-- had ever received the SKU, costed at the latest purchase-order cost (or at nothing, when there is
-- no purchase order either). One row per entity and SKU, with the units, the cost they were
-- given in the reporting currency, and the dates.

with

-- the value each event takes out of stock, with its units (an adjustment's cost_amount is the
-- value it adds: a loss's is negative)
issues as (
    select
        costed.entity_code,
        costed.sku,
        costed.business_date,
        locations.functional_currency_code,
        costed.cost_amount * costed.value_sign as cost_amount,
        -costed.units as units,
        costed.unit_cost is null as is_without_any_cost,
        costed.cost_amount * costed.value_sign * rates.exchange_rate as cost_amount_reporting
    from (
        select
            events.*,
            case when events.event_type = 'adjustment' then -1 else 1 end as value_sign
        from {{ ref('int_valuation_events_costed') }} as events
    ) as costed
    left join {{ ref('dim_location') }} as locations
        on costed.location_id = locations.location_id
    {{ join_fx_rate('rates', 'costed.business_date', 'locations.functional_currency_code') }}
    where costed.is_costed_before_any_receipt
),

per_sku as (
    select
        issues.entity_code,
        issues.sku,
        min(issues.functional_currency_code) as functional_currency_code,
        count(*) as issue_count,
        sum(issues.units) as units,
        sum(case when issues.is_without_any_cost then issues.units else 0 end)
            as units_without_any_cost,
        sum(issues.cost_amount) as cost_amount,
        sum(issues.cost_amount_reporting) as cost_amount_reporting,
        min(issues.business_date) as first_seen_date,
        max(issues.business_date) as last_seen_date
    from issues
    group by
        issues.entity_code,
        issues.sku
)

select
    {{ dbt.hash("'issue_without_cost|' || per_sku.entity_code || '|' || per_sku.sku") }}
        as exception_id,
    'issue_without_cost' as exception_type,
    per_sku.entity_code || '|' || per_sku.sku as natural_key,
    per_sku.entity_code,
    cast(null as {{ dbt.type_string() }}) as location_id,
    per_sku.sku,
    'warehouse' as source_system,
    cast(per_sku.units as bigint) as affected_units,
    {{ round_money('per_sku.cost_amount_reporting') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    per_sku.entity_code || ' issued ' || {{ to_text('per_sku.units') }} || ' units of '
    || per_sku.sku || ' (' || {{ to_text('per_sku.issue_count') }} || ' issues) from '
    || {{ to_text('per_sku.first_seen_date') }} || ' to '
    || {{ to_text('per_sku.last_seen_date') }}
    || ' before it had ever received the SKU: costed at the latest purchase-order cost, '
    || coalesce({{ to_text(round_money('per_sku.cost_amount')) }}, 'unknown') || ' '
    || coalesce(per_sku.functional_currency_code, '')
    || case
        when per_sku.units_without_any_cost > 0
            then
                ', of which ' || {{ to_text('per_sku.units_without_any_cost') }}
                || ' units had no purchase order either and carry no cost'
        else ''
    end || '.' as explanation,
    per_sku.first_seen_date,
    per_sku.last_seen_date,
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from per_sku
