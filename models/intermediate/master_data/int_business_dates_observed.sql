-- Which business dates and currencies the staged facts need converting: one row per kind of
-- fact, business date, transaction currency and functional currency (of the entity that owns
-- the fact's location, or orders), with the number of rows and their value. A fact without
-- amounts (stock movements, receipts, transfers, adjustments) counts in its functional
-- currency, the currency its units will be valued in. Feeds the FX date range and the FX gap
-- control: each needs a rate into the reporting currency and into its functional currency.
with

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
),

entities as (
    {{ latest_snapshot(ref('stg_erp__legal_entities'), ['entity_code']) }}
),

-- one entity per purchase order (its lines agree)
purchase_orders as (
    select
        order_lines.purchase_order_number,
        min(order_lines.entity_code) as entity_code
    from {{ ref('stg_erp__purchase_order_lines') }} as order_lines
    group by order_lines.purchase_order_number
),

location_currencies as (
    select
        locations.location_id,
        entities.functional_currency_code
    from locations
    left join entities
        on locations.entity_code = entities.entity_code
),

fact_rows as (
    select
        'pos_sales_line' as fact_source,
        pos_lines.business_date,
        pos_lines.currency_code,
        location_currencies.functional_currency_code,
        {{ round_money('pos_lines.quantity * pos_lines.unit_price') }} as transaction_value
    from {{ ref('stg_pos__sales_lines') }} as pos_lines
    left join location_currencies
        on pos_lines.location_id = location_currencies.location_id

    union all

    select
        'webshop_order_placed' as fact_source,
        order_lines.placed_business_date as business_date,
        order_lines.currency_code,
        location_currencies.functional_currency_code,
        {{ round_money('order_lines.quantity * order_lines.unit_price') }} as transaction_value
    from {{ ref('stg_webshop__order_lines') }} as order_lines
    left join location_currencies
        on order_lines.fulfillment_location_id = location_currencies.location_id

    union all

    select
        'webshop_order_shipped' as fact_source,
        order_lines.shipped_business_date as business_date,
        order_lines.currency_code,
        location_currencies.functional_currency_code,
        {{ round_money('order_lines.quantity * order_lines.unit_price') }} as transaction_value
    from {{ ref('stg_webshop__order_lines') }} as order_lines
    left join location_currencies
        on order_lines.ship_from_location_id = location_currencies.location_id
    where order_lines.shipped_business_date is not null

    union all

    select
        'webshop_refund' as fact_source,
        refund_lines.business_date,
        refund_lines.currency_code,
        location_currencies.functional_currency_code,
        refund_lines.refund_amount as transaction_value
    from {{ ref('stg_webshop__refund_lines') }} as refund_lines
    left join location_currencies
        on refund_lines.location_id = location_currencies.location_id

    union all

    select
        'marketplace_settlement' as fact_source,
        settlement_lines.business_date,
        settlement_lines.currency_code,
        location_currencies.functional_currency_code,
        coalesce(settlement_lines.item_price_amount, 0) as transaction_value
    from {{ ref('stg_marketplace__settlement_lines') }} as settlement_lines
    left join location_currencies
        on settlement_lines.location_id = location_currencies.location_id

    union all

    -- the invoice names no entity: its purchase order's, where the line has one
    select
        'erp_supplier_invoice' as fact_source,
        invoice_lines.invoice_date as business_date,
        invoice_lines.currency_code,
        entities.functional_currency_code,
        invoice_lines.line_amount as transaction_value
    from {{ ref('stg_erp__supplier_invoice_lines') }} as invoice_lines
    left join purchase_orders
        on invoice_lines.purchase_order_number = purchase_orders.purchase_order_number
    left join entities
        on purchase_orders.entity_code = entities.entity_code

    union all

    select
        'erp_purchase_order' as fact_source,
        order_lines.order_date as business_date,
        order_lines.currency_code,
        entities.functional_currency_code,
        {{ round_money('order_lines.ordered_units * order_lines.unit_cost') }} as transaction_value
    from {{ ref('stg_erp__purchase_order_lines') }} as order_lines
    left join entities
        on order_lines.entity_code = entities.entity_code

    union all

    select
        'wms_movement' as fact_source,
        movements.business_date,
        location_currencies.functional_currency_code as currency_code,
        location_currencies.functional_currency_code,
        cast(null as decimal(18, 2)) as transaction_value
    from {{ ref('stg_wms__movements') }} as movements
    left join location_currencies
        on movements.location_id = location_currencies.location_id

    union all

    select
        'wms_on_hand' as fact_source,
        on_hand.snapshot_date as business_date,
        location_currencies.functional_currency_code as currency_code,
        location_currencies.functional_currency_code,
        cast(null as decimal(18, 2)) as transaction_value
    from {{ ref('stg_wms__on_hand_snapshots') }} as on_hand
    left join location_currencies
        on on_hand.location_id = location_currencies.location_id

    union all

    select
        'erp_goods_receipt' as fact_source,
        receipt_lines.business_date,
        location_currencies.functional_currency_code as currency_code,
        location_currencies.functional_currency_code,
        cast(null as decimal(18, 2)) as transaction_value
    from {{ ref('stg_erp__goods_receipt_lines') }} as receipt_lines
    left join location_currencies
        on receipt_lines.location_id = location_currencies.location_id

    union all

    -- a transfer across entities is priced in the sender's currency and converted into the
    -- receiver's: the event's currency is the sender's, its functional one the event location's
    select
        'erp_transfer' as fact_source,
        transfer_events.business_date,
        senders.functional_currency_code as currency_code,
        event_locations.functional_currency_code,
        cast(null as decimal(18, 2)) as transaction_value
    from {{ ref('stg_erp__transfer_events') }} as transfer_events
    left join location_currencies as senders
        on transfer_events.from_location_id = senders.location_id
    left join location_currencies as event_locations
        on
            event_locations.location_id = case
                when transfer_events.event_type = 'shipped' then transfer_events.from_location_id
                else transfer_events.to_location_id
            end

    union all

    select
        'erp_stock_adjustment' as fact_source,
        adjustments.business_date,
        location_currencies.functional_currency_code as currency_code,
        location_currencies.functional_currency_code,
        cast(null as decimal(18, 2)) as transaction_value
    from {{ ref('stg_erp__stock_adjustments') }} as adjustments
    left join location_currencies
        on adjustments.location_id = location_currencies.location_id

    union all

    select
        'erp_opening_balance' as fact_source,
        openings.business_date,
        openings.currency_code,
        location_currencies.functional_currency_code,
        cast(openings.units * openings.unit_cost as decimal(18, 2)) as transaction_value
    from {{ ref('stg_erp__opening_balances') }} as openings
    left join location_currencies
        on openings.location_id = location_currencies.location_id
)

select
    fact_rows.fact_source,
    fact_rows.business_date,
    fact_rows.currency_code,
    fact_rows.functional_currency_code,
    cast(sum(fact_rows.transaction_value) as decimal(18, 2)) as transaction_value,
    count(*) as fact_row_count
from fact_rows
where fact_rows.business_date is not null
group by
    fact_rows.fact_source,
    fact_rows.business_date,
    fact_rows.currency_code,
    fact_rows.functional_currency_code
