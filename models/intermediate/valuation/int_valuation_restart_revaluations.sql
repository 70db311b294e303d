-- Valuation step 6b: what an inbound event that restarts the average below zero books to
-- purchase price variance (docs/decisions.md, "Issues before any receipt", "Opening balances",
-- "Stock adjustments at a stated cost"): the units issued short were credited to inventory at
-- their fallback cost (or at none), so the restarting event books the difference between what
-- the ledger then holds and the restarted stock value; a positive amount takes value out of
-- inventory, which then moves by the event's value less it. The postings
-- (int_posting_events_inventory) and the books' reconciliation (mart_reconciliation_books) read
-- it here.

with

-- the entities and SKUs whose average restarted below zero, and the time of the last restart:
-- only their events up to it can be in a run before a restart (most SKUs never restart; the
-- whole ledger ordered per SKU was most of this model's time)
restarting as (
    select
        costed.entity_code,
        costed.sku,
        max(costed.event_at) as last_restart_at
    from {{ ref('int_valuation_events_costed') }} as costed
    where costed.event_type in {{ revaluing_event_types() }} and costed.units_before < 0
    group by costed.entity_code, costed.sku
),

-- what the ledger holds of each entity and SKU before each receipt that restarts the average
-- below zero: the values it booked, in the valuation's order (inbound first at equal times; an
-- event without a cost booked none), from the restarted value the previous such receipt left
valuation_order as (
    select
        costed.event_id,
        costed.entity_code,
        costed.sku,
        costed.units_before,
        costed.units,
        costed.average_cost_after,
        costed.event_type in {{ revaluing_event_types() }} and costed.units_before < 0
            as is_restart,
        {{ inventory_effect('costed') }} as booked_value,
        sum(
            case
                when costed.event_type in {{ revaluing_event_types() }} and costed.units_before < 0
                    then 1
                else 0
            end
        )
            over (
                partition by costed.entity_code, costed.sku
                order by {{ valuation_order(
                    'costed',
                    'case when ' ~ is_inbound_event('costed.event_type', 'costed.units')
                    ~ ' then 0 else 1 end',
                ) }}
                rows between unbounded preceding and current row
            ) as restart_group
    from {{ ref('int_valuation_events_costed') }} as costed
    inner join restarting
        on
            costed.entity_code = restarting.entity_code
            and costed.sku = restarting.sku
            and costed.event_at <= restarting.last_restart_at
),

-- per entity, SKU and run of events from one restarting receipt to the next: the value the
-- restart left (units after it at the restarted average) and what the others booked
restart_runs as (
    select
        valuation_order.entity_code,
        valuation_order.sku,
        valuation_order.restart_group,
        max(
            case
                when valuation_order.is_restart
                    then {{ round_money(
                        '(valuation_order.units_before + valuation_order.units)'
                        ~ ' * valuation_order.average_cost_after'
                    ) }}
            end
        ) as restarted_value,
        sum(case when not valuation_order.is_restart then valuation_order.booked_value end)
            as booked_value
    from valuation_order
    group by valuation_order.entity_code, valuation_order.sku, valuation_order.restart_group
),

revaluations as (
    select
        restarts.event_id,
        restarts.entity_code,
        restarts.sku,
        coalesce(previous_run.restarted_value, 0) + coalesce(previous_run.booked_value, 0)
        + restarts.booked_value
        - {{ round_money(
            '(restarts.units_before + restarts.units) * restarts.average_cost_after'
        ) }} as revaluation_functional
    from valuation_order as restarts
    left join restart_runs as previous_run
        on
            restarts.entity_code = previous_run.entity_code
            and restarts.sku = previous_run.sku
            and restarts.restart_group - 1 = previous_run.restart_group
    where restarts.is_restart
)

select * from revaluations
