-- Valuation step 2: the events that move an entity's stock of a SKU, in the order the policy
-- applies them (UTC time; at equal times inbound events first), with the units on hand before
-- each and the segment of inbound events each belongs to. Transfers within an entity do not
-- move the entity's stock and are left out; codes that did not resolve cannot be valued.
-- Rebuilt by load on the events' UTC date: an incremental build sequences the window's events
-- on top of the stock and inbound count each entity and SKU had before it (docs/decisions.md).
-- A movement that arrived after its period's close is valued when it posts: at the start of its
-- posting date in the first open period, business_date then being that date (docs/glossary.md,
-- Period close), so the costs and averages of a closed period never change.
-- depends_on: {{ ref('int_receipt_costs_backdated') }}
{%- set valued_at = "coalesce(cast(late.posting_date as " ~ dbt.type_timestamp()
    ~ "), movements.moved_at)" %}

with

movements as (
    select * from {{ ref('int_inventory_movements_unioned') }}
    where
        sku <> '{{ var("unresolved_sku") }}'
        -- a stored date the scan filters by: a business date is at most a day before the UTC
        -- date the window is on (the exact condition is below)
        and {{ in_load_window('business_date', margin_days=1) }}
    {%- if load_window_is_incremental() %}
    -- or it arrived after its period's close and is valued on its posting date: a selection of
    -- its own (one condition with an OR kept the date from filtering the scan of every movement)
    union all
    select * from {{ ref('int_inventory_movements_unioned') }}
    where
        sku <> '{{ var("unresolved_sku") }}'
        and not coalesce({{ in_load_window('business_date', margin_days=1) }}, false)
        and source_file in (
            select late_files.source_file
            from {{ ref('int_late_posting_periods') }} as late_files
        )
    {%- endif %}
),

locations as (
    select * from {{ ref('dim_location') }}
),

transfers as (
    select
        from_locations.entity_code as sender_entity_code,
        to_locations.entity_code as receiver_entity_code,
        shipped.business_date as shipped_business_date,
        shipped.transfer_number || ':' || cast(shipped.transfer_line_number as string)
            as document_number
    from {{ ref('stg_erp__transfer_events') }} as shipped
    left join locations as from_locations on shipped.from_location_id = from_locations.location_id
    left join locations as to_locations on shipped.to_location_id = to_locations.location_id
    where shipped.event_type = 'shipped'
),

-- the latest purchase-order cost of an entity and SKU, as ranges of order dates: the cost of
-- an issue before the entity ever received the SKU (docs/glossary.md)
purchase_costs as (
    select
        daily.entity_code,
        daily.sku,
        daily.order_date as valid_from_date,
        daily.unit_cost,
        lead(daily.order_date) over (
            partition by daily.entity_code, daily.sku order by daily.order_date
        ) as valid_until_date
    from (
        select
            order_lines.entity_code,
            order_lines.sku,
            order_lines.order_date,
            order_lines.unit_cost,
            row_number() over (
                partition by order_lines.entity_code, order_lines.sku, order_lines.order_date
                order by
                    order_lines.purchase_order_number desc,
                    order_lines.purchase_order_line_number desc
            ) as order_rank
        from {{ ref('stg_erp__purchase_order_lines') }} as order_lines
    ) as daily
    where daily.order_rank = 1
),

-- opening balances at their stated cost (docs/decisions.md, "Opening balances")
openings as (
    select
        {{ opening_balance_movement_id('balances') }} as movement_id,
        balances.units * cast(balances.unit_cost as double) as opening_value
    from {{ ref('stg_erp__opening_balances') }} as balances
),

-- gains at a stated cost ("Stock adjustments at a stated cost")
costed_adjustments as (
    select
        movements.movement_id,
        adjustments.units * cast(adjustments.unit_cost as double) as adjustment_value
    from movements
    inner join {{ ref('stg_erp__stock_adjustments') }} as adjustments
        on
            movements.movement_type = 'adjustment_at_cost'
            and movements.document_number = adjustments.stock_adjustment_number
),

events as (
    select
        movements.movement_id as event_id,
        locations.entity_code,
        movements.sku,
        movements.location_id,
        -- the date the valuation applies it: its business date, or its posting date
        {{ posting_date('late', 'movements.business_date') }} as business_date,
        {{ valued_at }} as event_at,
        cast({{ valued_at }} as date) as event_date,
        movements.movement_type as event_type,
        movements.on_hand_units as units,
        coalesce(
            landed.landed_value, openings.opening_value, costed_adjustments.adjustment_value
        ) as known_value,
        movements.sales_line_id,
        movements.original_sales_line_id,
        movements.document_number as transfer_key,
        movements.source_system,
        movements.document_line_number,
        transfers.sender_entity_code,
        transfers.shipped_business_date,
        case
            when {{ is_inbound_event('movements.movement_type', 'movements.on_hand_units') }}
                then 0
            else 1
        end as priority
    from movements
    inner join locations on movements.location_id = locations.location_id
    left join {{ ref('int_receipt_lines_landed') }} as landed
        on movements.movement_id = landed.movement_id
    left join openings on movements.movement_id = openings.movement_id
    left join costed_adjustments on movements.movement_id = costed_adjustments.movement_id
    left join transfers
        on
            movements.movement_type in ('transfer_out', 'transfer_in')
            and movements.document_number = transfers.document_number
    {{ join_posting_period(
        'late', 'movements.business_date', 'movements.source_file', 'locations.entity_code'
    ) }}
    where
        movements.on_hand_units <> 0
        and movements.movement_type in (
            'opening_balance', 'receipt', 'transfer_out', 'transfer_in', 'issue',
            'return_restock', 'adjustment', 'adjustment_at_cost', 'production_receipt',
            'production_issue'
        )
        and (
            movements.movement_type not in ('transfer_out', 'transfer_in')
            or transfers.sender_entity_code <> transfers.receiver_entity_code
        )
        and {{ in_load_window('cast(' ~ valued_at ~ ' as date)') }}
),

-- each entity's stock and count of inbound events of a SKU before the window (none on a full
-- build): the sequence goes on from there
before_window as (
    {%- if load_window_is_incremental() %}
        select
            kept.entity_code,
            kept.sku,
            sum(kept.units) as units_before_window,
            max(kept.segment) as segments_before_window
        from {{ this }} as kept
        where kept.event_date < {{ load_window_start() }}
        group by kept.entity_code, kept.sku
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as entity_code,
            cast(null as {{ dbt.type_string() }}) as sku,
            cast(0 as bigint) as units_before_window,
            cast(0 as bigint) as segments_before_window
        where false
    {%- endif %}
),

sequenced as (
    select
        events.*,
        cast(
            coalesce(before_window.units_before_window, 0)
            + coalesce(
                sum(events.units) over (
                    partition by events.entity_code, events.sku
                    order by {{ valuation_order('events', 'events.priority') }}
                    rows between unbounded preceding and 1 preceding
                ),
                0
            )
            as bigint
        ) as units_before,
        cast(
            coalesce(before_window.segments_before_window, 0)
            + sum(
                case
                    when {{ is_inbound_event('events.event_type', 'events.units') }} then 1
                    else 0
                end
            )
                over (
                    partition by events.entity_code, events.sku
                    order by {{ valuation_order('events', 'events.priority') }}
                    rows between unbounded preceding and current row
                )
            as bigint
        ) as segment,
        {{ is_inbound_event('events.event_type', 'events.units') }} as is_inbound
    from events
    left join before_window
        on events.entity_code = before_window.entity_code and events.sku = before_window.sku
),

with_fallback as (
    select
        sequenced.*,
        purchase_costs.unit_cost as fallback_unit_cost
    from sequenced
    left join purchase_costs
        on
            sequenced.entity_code = purchase_costs.entity_code
            and sequenced.sku = purchase_costs.sku
            and sequenced.business_date >= purchase_costs.valid_from_date
            and (
                purchase_costs.valid_until_date is null
                or sequenced.business_date < purchase_costs.valid_until_date
            )
),

-- the issues a restocked return may cite: the window's, and on an incremental build the kept
-- ones that the window's returns cite
issues as (
    select
        with_fallback.sales_line_id,
        with_fallback.entity_code,
        with_fallback.sku,
        with_fallback.segment
    from with_fallback
    where with_fallback.event_type = 'issue'
    {%- if load_window_is_incremental() %}
        union all
        select
            kept.sales_line_id,
            kept.entity_code,
            kept.sku,
            kept.segment
        from {{ this }} as kept
        where
            kept.event_type = 'issue'
            and kept.event_date < {{ load_window_start() }}
            and kept.sales_line_id in (
                select returns.original_sales_line_id
                from with_fallback as returns
                where returns.event_type = 'return_restock'
            )
    {%- endif %}
)

select
    with_fallback.*,
    issues.segment as return_segment
from with_fallback
left join issues
    on
        with_fallback.event_type = 'return_restock'
        and with_fallback.original_sales_line_id = issues.sales_line_id
        and with_fallback.entity_code = issues.entity_code
        and with_fallback.sku = issues.sku
