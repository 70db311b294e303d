-- Postings step 2: the stock events (docs/glossary.md, Postings), one row per valued movement:
-- goods receipts at landed cost (goods at the purchase-order cost, the rest freight and duty),
-- stock adjustments at moving-average cost, transfers across entities at the valuation's
-- amounts (the sender's average, converted for the receiver at the shipping date's rate), and
-- transfers within an entity, which move no value for the entity but pass through inventory in
-- transit at the entity's moving average at the close of the shipping date. Reporting amounts
-- convert each event at its business date's rate, except an intercompany receipt, which keeps
-- the sender's reporting amount so that the intercompany pair eliminates exactly. A goods receipt
-- that finds its entity's stock of the SKU below zero restarts the moving average
-- (docs/glossary.md): the units issued short were credited to inventory at their fallback cost (or
-- at none), so the receipt also books the difference between what the ledger then holds and the
-- restarted stock value to purchase price variance (docs/decisions.md, "Issues before any
-- receipt"). An opening balance debits inventory at its stated cost against the opening-balance
-- account and, finding stock below zero, revalues as such a receipt does (docs/decisions.md,
-- "Opening balances"); so does a gain at a stated cost. Work orders move their components into
-- work in process and their output out of it, the stated conversion cost absorbed ("Kits").
-- Rebuilt by load on the business date, with the valuation's window (docs/decisions.md,
-- "Incremental postings"): a day's events are posted again when a new event or a re-costed
-- receipt falls on or before it. A valued movement that arrived after its period's close has
-- the valuation's business date, its posting date, so this window is on its posting date. A
-- receipt of a transfer in the window reads its shipment, wherever that falls.
-- depends_on: {{ ref('int_receipt_costs_backdated') }}

with

-- the transfers within an entity read the transfers' movements of the window, and the shipment
-- of a transfer received in it wherever that falls (filtered before their joins); every other
-- movement is read only by its valued event (valued), not kept whole in a shared CTE
transfers as (
    select movements.* from {{ ref('fct_inventory_movements') }} as movements
    where
        movements.movement_type in ('transfer_out', 'transfer_in')
        and (
            {{ in_load_window('movements.business_date') }}
            -- the shipment of a transfer received in the window
            or movements.document_number in (
                select received.document_number
                from {{ ref('fct_inventory_movements') }} as received
                where
                    received.movement_type = 'transfer_in'
                    and {{ in_load_window('received.business_date') }}
            )
        )
),

-- the valued events of the window, and the shipments before it of transfers across entities
-- received in it: two selections, so that the window's is a filter on the date where the table
-- is read
costed as (
    select costed.* from {{ ref('int_valuation_events_costed') }} as costed
    where {{ in_load_window('costed.business_date') }}
    {%- if load_window_is_incremental() %}

    union all

    select costed.* from {{ ref('int_valuation_events_costed') }} as costed
    where
        costed.business_date < {{ load_window_start() }}
        and costed.event_type = 'transfer_out'
        and costed.transfer_key in (
            select received.transfer_key
            from {{ ref('int_valuation_events_costed') }} as received
            where
                received.event_type = 'transfer_in'
                and {{ in_load_window('received.business_date') }}
        )
    {%- endif %}
),

locations as (
    select * from {{ ref('dim_location') }}
),

-- every valued movement with its lineage and currency
valued as (
    select
        costed.event_id,
        costed.event_type as movement_type,
        costed.business_date,
        costed.entity_code,
        costed.location_id,
        costed.sku,
        costed.units,
        costed.cost_amount,
        costed.transfer_key,
        movements.document_number,
        movements.source_system,
        movements.source_file,
        movements.source_row_number,
        locations.functional_currency_code,
        reporting_rates.exchange_rate as reporting_exchange_rate
    from costed
    inner join {{ ref('fct_inventory_movements') }} as movements
        on costed.event_id = movements.movement_id
    left join locations on costed.location_id = locations.location_id
    {{ join_fx_rate(
        'reporting_rates', 'costed.business_date', 'locations.functional_currency_code'
    ) }}
    where
        costed.event_type in (
            'opening_balance', 'receipt', 'adjustment', 'adjustment_at_cost', 'transfer_out',
            'transfer_in', 'production_issue', 'production_receipt'
        )
),

-- an inbound event that restarts the average below zero: the ledger's difference to the
-- restarted stock value (int_valuation_restart_revaluations, the one definition)
revaluations as (
    select * from {{ ref('int_valuation_restart_revaluations') }}
),

receipts as (
    select
        valued.*,
        {{ round_money('landed.goods_value') }} as goods_functional,
        -- a receipt restarting the average below zero: what the ledger would hold after it less
        -- the restarted stock value (a positive amount takes value out of inventory)
        revaluations.revaluation_functional
    from valued
    inner join {{ ref('int_receipt_lines_landed') }} as landed
        on valued.event_id = landed.movement_id
    left join revaluations on valued.event_id = revaluations.event_id
    where valued.movement_type = 'receipt'
),

-- opening balances at their stated cost, revaluing like a receipt when stock was below zero
openings as (
    select
        valued.*,
        revaluations.revaluation_functional
    from valued
    left join revaluations on valued.event_id = revaluations.event_id
    where valued.movement_type = 'opening_balance'
),

-- the output of work orders: the components' cost and the conversion cost absorbed
production_outputs as (
    select
        valued.*,
        work_orders.conversion_value
    from valued
    inner join {{ ref('int_work_order_costs') }} as work_orders
        on valued.event_id = work_orders.event_id
    where valued.movement_type = 'production_receipt'
),

-- the sender's reporting amount of every transfer across entities, for both legs
intercompany_reporting as (
    select
        valued.transfer_key,
        {{ round_money('valued.cost_amount * valued.reporting_exchange_rate') }}
            as cost_reporting
    from valued
    where valued.movement_type = 'transfer_out'
),

-- transfers within an entity: the shipment at the entity's average at the close of its date
own_shipments as (
    select
        movements.movement_id,
        movements.document_number,
        movements.business_date,
        movements.entity_code,
        movements.location_id,
        movements.sku,
        movements.on_hand_units,
        movements.source_system,
        movements.source_file,
        movements.source_row_number,
        senders.functional_currency_code,
        {{ round_money(
            'abs(movements.on_hand_units) * coalesce(average_costs.average_cost, 0)'
        ) }} as cost_functional,
        {{ round_money(
            'abs(movements.on_hand_units) * coalesce(average_costs.average_cost, 0)'
            ~ ' * reporting_rates.exchange_rate'
        ) }} as cost_reporting
    from transfers as movements
    inner join locations as senders on movements.location_id = senders.location_id
    inner join locations as receivers
        on movements.in_transit_location_id = receivers.location_id
    {{ join_average_cost(
        'average_costs', 'movements.entity_code', 'movements.sku', 'movements.business_date'
    ) }}
    {{ join_fx_rate(
        'reporting_rates', 'movements.business_date', 'senders.functional_currency_code'
    ) }}
    where
        movements.movement_type = 'transfer_out'
        and senders.entity_code = receivers.entity_code
),

own_receipts as (
    select
        movements.movement_id,
        movements.document_number,
        movements.business_date,
        movements.entity_code,
        movements.location_id,
        movements.sku,
        movements.on_hand_units,
        movements.source_system,
        movements.source_file,
        movements.source_row_number,
        own_shipments.functional_currency_code,
        own_shipments.cost_functional,
        own_shipments.cost_reporting
    from transfers as movements
    inner join own_shipments on movements.document_number = own_shipments.document_number
    where
        movements.movement_type = 'transfer_in'
        and {{ in_load_window('movements.business_date') }}
),

events as (
    select
        receipts.event_id,
        'goods_receipt' as event_type,
        receipts.business_date,
        receipts.entity_code,
        receipts.location_id,
        receipts.document_number,
        receipts.sku,
        receipts.units,
        receipts.source_system,
        receipts.source_file,
        receipts.source_row_number,
        receipts.functional_currency_code,
        {{ posting_amount_columns({
            'goods': [
                'receipts.goods_functional',
                round_money('receipts.goods_functional * receipts.reporting_exchange_rate'),
            ],
            'charges': [
                'receipts.cost_amount - receipts.goods_functional',
                round_money(
                    '(receipts.cost_amount - receipts.goods_functional)'
                    ~ ' * receipts.reporting_exchange_rate'
                ),
            ],
            'price_variance': [
                'receipts.revaluation_functional',
                round_money(
                    'receipts.revaluation_functional * receipts.reporting_exchange_rate'
                ),
            ],
        }) }}
    from receipts

    union all

    select
        openings.event_id,
        'opening_balance' as event_type,
        openings.business_date,
        openings.entity_code,
        openings.location_id,
        openings.document_number,
        openings.sku,
        openings.units,
        openings.source_system,
        openings.source_file,
        openings.source_row_number,
        openings.functional_currency_code,
        {{ posting_amount_columns({
            'cost': [
                'openings.cost_amount',
                round_money('openings.cost_amount * openings.reporting_exchange_rate'),
            ],
            'price_variance': [
                'openings.revaluation_functional',
                round_money(
                    'openings.revaluation_functional * openings.reporting_exchange_rate'
                ),
            ],
        }) }}
    from openings

    union all

    -- components consumed by a work order, at the moving average, into work in process
    select
        valued.event_id,
        'production_issue' as event_type,
        valued.business_date,
        valued.entity_code,
        valued.location_id,
        valued.document_number,
        valued.sku,
        valued.units,
        valued.source_system,
        valued.source_file,
        valued.source_row_number,
        valued.functional_currency_code,
        {{ posting_amount_columns({
            'cost': [
                'valued.cost_amount',
                round_money('valued.cost_amount * valued.reporting_exchange_rate'),
            ],
        }) }}
    from valued
    where valued.movement_type = 'production_issue'

    union all

    -- the output of a work order: its components out of work in process, the conversion cost
    -- absorbed
    select
        production_outputs.event_id,
        'production_receipt' as event_type,
        production_outputs.business_date,
        production_outputs.entity_code,
        production_outputs.location_id,
        production_outputs.document_number,
        production_outputs.sku,
        production_outputs.units,
        production_outputs.source_system,
        production_outputs.source_file,
        production_outputs.source_row_number,
        production_outputs.functional_currency_code,
        {{ posting_amount_columns({
            'goods': [
                'production_outputs.cost_amount - production_outputs.conversion_value',
                round_money(
                    '(production_outputs.cost_amount - production_outputs.conversion_value)'
                    ~ ' * production_outputs.reporting_exchange_rate'
                ),
            ],
            'charges': [
                'production_outputs.conversion_value',
                round_money(
                    'production_outputs.conversion_value'
                    ~ ' * production_outputs.reporting_exchange_rate'
                ),
            ],
        }) }}
    from production_outputs

    union all

    -- cost_amount of an adjustment is the value it adds (negative for a loss); the rule books a
    -- loss, so the amount is its opposite. A gain at a stated cost that restarts the average
    -- below zero revalues as a restarting receipt does.
    select
        valued.event_id,
        'stock_adjustment' as event_type,
        valued.business_date,
        valued.entity_code,
        valued.location_id,
        valued.document_number,
        valued.sku,
        valued.units,
        valued.source_system,
        valued.source_file,
        valued.source_row_number,
        valued.functional_currency_code,
        {{ posting_amount_columns({
            'cost': [
                '-valued.cost_amount',
                round_money('-valued.cost_amount * valued.reporting_exchange_rate'),
            ],
            'price_variance': [
                'adjustment_revaluations.revaluation_functional',
                round_money(
                    'adjustment_revaluations.revaluation_functional'
                    ~ ' * valued.reporting_exchange_rate'
                ),
            ],
        }) }}
    from valued
    left join revaluations as adjustment_revaluations
        on valued.event_id = adjustment_revaluations.event_id
    where valued.movement_type in ('adjustment', 'adjustment_at_cost')

    union all

    select
        valued.event_id,
        'intercompany_' || valued.movement_type as event_type,
        valued.business_date,
        valued.entity_code,
        valued.location_id,
        valued.document_number,
        valued.sku,
        valued.units,
        valued.source_system,
        valued.source_file,
        valued.source_row_number,
        valued.functional_currency_code,
        {{ posting_amount_columns({
            'cost': ['valued.cost_amount', 'intercompany_reporting.cost_reporting'],
        }) }}
    from valued
    left join intercompany_reporting on valued.transfer_key = intercompany_reporting.transfer_key
    where valued.movement_type in ('transfer_out', 'transfer_in')

    union all

    select
        own_shipments.movement_id as event_id,
        'transfer_out' as event_type,
        own_shipments.business_date,
        own_shipments.entity_code,
        own_shipments.location_id,
        own_shipments.document_number,
        own_shipments.sku,
        own_shipments.on_hand_units as units,
        own_shipments.source_system,
        own_shipments.source_file,
        own_shipments.source_row_number,
        own_shipments.functional_currency_code,
        {{ posting_amount_columns({
            'cost': ['own_shipments.cost_functional', 'own_shipments.cost_reporting'],
        }) }}
    from own_shipments

    union all

    select
        own_receipts.movement_id as event_id,
        'transfer_in' as event_type,
        own_receipts.business_date,
        own_receipts.entity_code,
        own_receipts.location_id,
        own_receipts.document_number,
        own_receipts.sku,
        own_receipts.on_hand_units as units,
        own_receipts.source_system,
        own_receipts.source_file,
        own_receipts.source_row_number,
        own_receipts.functional_currency_code,
        {{ posting_amount_columns({
            'cost': ['own_receipts.cost_functional', 'own_receipts.cost_reporting'],
        }) }}
    from own_receipts
)

select
    events.event_id,
    events.event_type,
    events.business_date,
    events.entity_code,
    events.location_id,
    cast(null as {{ dbt.type_string() }}) as channel,
    events.document_number,
    events.sku,
    events.units,
    events.source_system,
    events.source_file,
    events.source_row_number,
    events.functional_currency_code,
    {{ reporting_currency_code() }} as reporting_currency_code,
    {{ posting_amount_column_list('events') }}
from events
-- without the shipments read only for the window's receipts
where {{ in_load_window('events.business_date') }}
