-- End-of-day positions per location and SKU, one row per date on which any of them changed:
-- on hand and quarantined from the ledger, in transit towards the location, reserved for open
-- webshop orders at the location chosen to fulfil them, and open purchase-order units. Dates
-- are business dates in each location's own time zone (docs/glossary.md).
-- Rebuilt by load: an incremental build recomputes the changes dated in the load window and
-- goes on from the range each location and SKU was in on the day before it (the ranges that
-- reach into the window are replaced: window_column in dbt_project.yml).

with

locations as (
    select * from {{ ref('dim_location') }}
),

ledger as (
    select
        movements.location_id,
        movements.sku,
        movements.business_date,
        movements.on_hand_units,
        movements.quarantined_units,
        0 as in_transit_units,
        0 as reserved_units,
        0 as on_order_units
    from {{ ref('int_inventory_movements_unioned') }} as movements
    where
        (movements.on_hand_units <> 0 or movements.quarantined_units <> 0)
        and {{ in_load_window('movements.business_date') }}
),

in_transit as (
    select
        movements.in_transit_location_id as location_id,
        movements.sku,
        movements.business_date,
        0 as on_hand_units,
        0 as quarantined_units,
        movements.in_transit_units,
        0 as reserved_units,
        0 as on_order_units
    from {{ ref('int_inventory_movements_unioned') }} as movements
    where movements.in_transit_units <> 0 and {{ in_load_window('movements.business_date') }}
),

order_lines as (
    select
        order_lines.fulfillment_location_id as location_id,
        coalesce(cross_references.sku, '{{ var("unresolved_sku") }}') as sku,
        order_lines.quantity,
        order_lines.placed_business_date,
        coalesce(
            order_lines.shipped_business_date,
            cast({{ utc_to_local('order_lines.cancelled_at', 'locations.time_zone') }} as date)
        ) as released_business_date
    from {{ ref('stg_webshop__order_lines') }} as order_lines
    left join locations on order_lines.fulfillment_location_id = locations.location_id
    {{ join_item_cross_reference(
        'cross_references',
        "'webshop'",
        'order_lines.variant_sku',
        'order_lines.placed_business_date',
    ) }}
    where order_lines.placed_business_date is not null
),

reservations as (
    select
        order_lines.location_id,
        order_lines.sku,
        order_lines.placed_business_date as business_date,
        0 as on_hand_units,
        0 as quarantined_units,
        0 as in_transit_units,
        order_lines.quantity as reserved_units,
        0 as on_order_units
    from order_lines
    where {{ in_load_window('order_lines.placed_business_date') }}
    union all
    select
        order_lines.location_id,
        order_lines.sku,
        order_lines.released_business_date as business_date,
        0 as on_hand_units,
        0 as quarantined_units,
        0 as in_transit_units,
        -order_lines.quantity as reserved_units,
        0 as on_order_units
    from order_lines
    where
        order_lines.released_business_date is not null
        and {{ in_load_window('order_lines.released_business_date') }}
),

-- on order (docs/glossary.md): a purchase-order line's units not yet received, from its order
-- date until it is received in full or the buyer closes it; a short delivery keeps the rest
-- on order, an over-delivery takes it to zero, never below. Each line's open units after every
-- date on which it was ordered, received or closed; the change is the difference from the
-- line's previous such date.
purchase_lines as (
    select
        order_lines.purchase_order_number,
        order_lines.purchase_order_line_number,
        order_lines.ship_to_location_id as location_id,
        order_lines.sku,
        order_lines.ordered_units,
        order_lines.order_date,
        case when order_lines.line_status = 'closed' then order_lines.closed_date end
            as closed_date
    from {{ ref('stg_erp__purchase_order_lines') }} as order_lines
),

purchase_line_dates as (
    select
        purchase_lines.purchase_order_number,
        purchase_lines.purchase_order_line_number,
        purchase_lines.order_date as business_date,
        0 as received_units
    from purchase_lines
    union all
    select
        purchase_lines.purchase_order_number,
        purchase_lines.purchase_order_line_number,
        receipts.business_date,
        receipts.received_units
    from purchase_lines
    inner join {{ ref('stg_erp__goods_receipt_lines') }} as receipts
        on
            purchase_lines.purchase_order_number = receipts.purchase_order_number
            and purchase_lines.purchase_order_line_number
            = receipts.purchase_order_line_number
    union all
    select
        purchase_lines.purchase_order_number,
        purchase_lines.purchase_order_line_number,
        purchase_lines.closed_date as business_date,
        0 as received_units
    from purchase_lines
    where purchase_lines.closed_date is not null
),

purchase_line_days as (
    select
        purchase_line_dates.purchase_order_number,
        purchase_line_dates.purchase_order_line_number,
        purchase_line_dates.business_date,
        sum(purchase_line_dates.received_units) as received_units
    from purchase_line_dates
    group by
        purchase_line_dates.purchase_order_number,
        purchase_line_dates.purchase_order_line_number,
        purchase_line_dates.business_date
),

purchase_line_received as (
    select
        purchase_line_days.purchase_order_number,
        purchase_line_days.purchase_order_line_number,
        purchase_line_days.business_date,
        sum(purchase_line_days.received_units) over (
            partition by
                purchase_line_days.purchase_order_number,
                purchase_line_days.purchase_order_line_number
            order by purchase_line_days.business_date
            rows between unbounded preceding and current row
        ) as received_to_date
    from purchase_line_days
),

purchase_line_open as (
    select
        purchase_lines.location_id,
        purchase_lines.sku,
        purchase_line_received.purchase_order_number,
        purchase_line_received.purchase_order_line_number,
        purchase_line_received.business_date,
        case
            when purchase_line_received.business_date < purchase_lines.order_date then 0
            when purchase_line_received.business_date >= purchase_lines.closed_date then 0
            when purchase_line_received.received_to_date >= purchase_lines.ordered_units then 0
            else purchase_lines.ordered_units - purchase_line_received.received_to_date
        end as open_units
    from purchase_line_received
    inner join purchase_lines
        on
            purchase_line_received.purchase_order_number = purchase_lines.purchase_order_number
            and purchase_line_received.purchase_order_line_number
            = purchase_lines.purchase_order_line_number
),

on_order as (
    select
        purchase_line_open.location_id,
        purchase_line_open.sku,
        purchase_line_open.business_date,
        0 as on_hand_units,
        0 as quarantined_units,
        0 as in_transit_units,
        0 as reserved_units,
        purchase_line_open.open_units - coalesce(lag(purchase_line_open.open_units) over (
            partition by
                purchase_line_open.purchase_order_number,
                purchase_line_open.purchase_order_line_number
            order by purchase_line_open.business_date
        ), 0) as on_order_units
    from purchase_line_open
),

-- each location and SKU's range on the day before the window (none on a full build): its
-- positions are where the window's changes start from
carried as (
    {%- if load_window_is_incremental() %}
        select
            kept.location_id,
            kept.sku,
            kept.valid_from_date as business_date,
            kept.on_hand_units,
            kept.quarantined_units,
            kept.in_transit_units,
            kept.reserved_units,
            kept.on_order_units
        from {{ this }} as kept
        where
            kept.valid_from_date < {{ load_window_start() }}
            and {{ in_load_window(config.get('window_column')) }}
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as location_id,
            cast(null as {{ dbt.type_string() }}) as sku,
            cast(null as date) as business_date,
            0 as on_hand_units,
            0 as quarantined_units,
            0 as in_transit_units,
            0 as reserved_units,
            0 as on_order_units
        where false
    {%- endif %}
),

daily_changes as (
    select
        changes.location_id,
        changes.sku,
        changes.business_date,
        sum(changes.on_hand_units) as on_hand_units,
        sum(changes.quarantined_units) as quarantined_units,
        sum(changes.in_transit_units) as in_transit_units,
        sum(changes.reserved_units) as reserved_units,
        sum(changes.on_order_units) as on_order_units
    from (
        select * from carried
        union all
        select * from ledger
        union all
        select * from in_transit
        union all
        select * from reservations
        union all
        select * from on_order
        where on_order.on_order_units <> 0 and {{ in_load_window('on_order.business_date') }}
    ) as changes
    group by changes.location_id, changes.sku, changes.business_date
)

select
    daily_changes.location_id,
    locations.entity_code,
    daily_changes.sku,
    daily_changes.business_date as valid_from_date,
    lead(daily_changes.business_date) over (
        partition by daily_changes.location_id, daily_changes.sku
        order by daily_changes.business_date
    ) as valid_until_date,
    sum(daily_changes.on_hand_units) over cumulative as on_hand_units,
    sum(daily_changes.reserved_units) over cumulative as reserved_units,
    sum(daily_changes.quarantined_units) over cumulative as quarantined_units,
    sum(daily_changes.in_transit_units) over cumulative as in_transit_units,
    sum(daily_changes.on_order_units) over cumulative as on_order_units
from daily_changes
left join locations on daily_changes.location_id = locations.location_id
window cumulative as (
    partition by daily_changes.location_id, daily_changes.sku
    order by daily_changes.business_date
    rows between unbounded preceding and current row
)
