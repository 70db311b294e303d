-- Every source item code the staged facts use, resolved to a SKU through the ERP
-- cross-reference valid on the business date: one row per staged model, code, business date,
-- location and transaction currency, with the rows, units and value involved. A code with no
-- valid mapping keeps its numbers against the unresolved member (var unresolved_sku); these
-- rows feed the exception queue. The facts resolve their own rows with the same join.
with

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
),

-- each staged model's rows summed per code, business date, location and currency: one group by
-- per model (its system, model and kind are constants of its rows), never one over the union of
-- every row (1.7 M at SF1) keyed also by those constants
{%- set code_sums %}
        cast(sum(code_rows.transaction_value) as decimal(18, 2)) as affected_value,
        count(*) as line_count,
        sum(code_rows.units) as affected_units,
        sum(code_rows.unconverted_case_quantity) as unconverted_case_quantity
{%- endset %}

codes as (
    select
        'pos' as source_system,
        'stg_pos__sales_lines' as source_model,
        code_rows.source_item_code,
        code_rows.business_date,
        code_rows.location_id,
        code_rows.currency_code,
        false as is_stock_level,
        {{ code_sums }}
    from (
        select
            pos_lines.barcode as source_item_code,
            pos_lines.business_date,
            pos_lines.location_id,
            pos_lines.currency_code,
            pos_lines.quantity as units,
            cast(null as integer) as unconverted_case_quantity,
            {{ round_money('pos_lines.quantity * pos_lines.unit_price') }} as transaction_value
        from {{ ref('stg_pos__sales_lines') }} as pos_lines
    ) as code_rows
    group by
        code_rows.source_item_code,
        code_rows.business_date,
        code_rows.location_id,
        code_rows.currency_code

    union all

    -- the sale's business date and location once shipped, the placement's until then
    select
        'webshop' as source_system,
        'stg_webshop__order_lines' as source_model,
        code_rows.source_item_code,
        code_rows.business_date,
        code_rows.location_id,
        code_rows.currency_code,
        false as is_stock_level,
        {{ code_sums }}
    from (
        select
            order_lines.variant_sku as source_item_code,
            coalesce(order_lines.shipped_business_date, order_lines.placed_business_date)
                as business_date,
            coalesce(order_lines.ship_from_location_id, order_lines.fulfillment_location_id)
                as location_id,
            order_lines.currency_code,
            order_lines.quantity as units,
            cast(null as integer) as unconverted_case_quantity,
            {{ round_money('order_lines.quantity * order_lines.unit_price') }}
                as transaction_value
        from {{ ref('stg_webshop__order_lines') }} as order_lines
    ) as code_rows
    group by
        code_rows.source_item_code,
        code_rows.business_date,
        code_rows.location_id,
        code_rows.currency_code

    union all

    select
        'marketplace' as source_system,
        'stg_marketplace__settlement_lines' as source_model,
        code_rows.source_item_code,
        code_rows.business_date,
        code_rows.location_id,
        code_rows.currency_code,
        false as is_stock_level,
        {{ code_sums }}
    from (
        select
            settlement_lines.marketplace_item_code as source_item_code,
            settlement_lines.business_date,
            settlement_lines.location_id,
            settlement_lines.currency_code,
            settlement_lines.quantity as units,
            cast(null as integer) as unconverted_case_quantity,
            settlement_lines.item_price_amount as transaction_value
        from {{ ref('stg_marketplace__settlement_lines') }} as settlement_lines
        where settlement_lines.row_type = 'item'
    ) as code_rows
    group by
        code_rows.source_item_code,
        code_rows.business_date,
        code_rows.location_id,
        code_rows.currency_code

    union all

    -- units moved in eaches; a case quantity whose case pack is unknown stays in cases
    select
        'wms' as source_system,
        'stg_wms__movements' as source_model,
        code_rows.source_item_code,
        code_rows.business_date,
        code_rows.location_id,
        cast(null as {{ dbt.type_string() }}) as currency_code,
        false as is_stock_level,
        {{ code_sums }}
    from (
        select
            movements.wms_item_code as source_item_code,
            movements.business_date,
            movements.location_id,
            abs(movements.quantity_eaches) as units,
            case
                when movements.quantity_eaches is null then abs(movements.quantity)
            end as unconverted_case_quantity,
            cast(null as decimal(18, 2)) as transaction_value
        from {{ ref('int_wms_movements_resolved') }} as movements
    ) as code_rows
    group by
        code_rows.source_item_code,
        code_rows.business_date,
        code_rows.location_id

    union all

    select
        'wms' as source_system,
        'stg_wms__on_hand_snapshots' as source_model,
        code_rows.source_item_code,
        code_rows.business_date,
        code_rows.location_id,
        cast(null as {{ dbt.type_string() }}) as currency_code,
        true as is_stock_level,
        {{ code_sums }}
    from (
        select
            on_hand.wms_item_code as source_item_code,
            on_hand.snapshot_date as business_date,
            on_hand.location_id,
            on_hand.quantity_eaches as units,
            case
                when on_hand.quantity_eaches is null then on_hand.quantity
            end as unconverted_case_quantity,
            cast(null as decimal(18, 2)) as transaction_value
        from {{ ref('int_wms_on_hand_resolved') }} as on_hand
    ) as code_rows
    group by
        code_rows.source_item_code,
        code_rows.business_date,
        code_rows.location_id
),

-- when each code was first and last seen: aggregated and joined back (a window partitioned by
-- code sorted every row of the history)
seen as (
    select
        codes.source_system,
        codes.source_item_code,
        min(codes.business_date) as first_seen_date,
        max(codes.business_date) as last_seen_date
    from codes
    group by codes.source_system, codes.source_item_code
),

resolved as (
    select
        codes.*,
        cross_references.sku as mapped_sku
    from codes
    {{ join_item_cross_reference(
        'cross_references', 'codes.source_system', 'codes.source_item_code', 'codes.business_date'
    ) }}
)

select
    resolved.source_system,
    resolved.source_model,
    resolved.source_item_code,
    resolved.business_date,
    resolved.location_id,
    locations.entity_code,
    resolved.currency_code,
    coalesce(resolved.mapped_sku, '{{ var("unresolved_sku") }}') as sku,
    resolved.mapped_sku is null as is_unresolved,
    resolved.is_stock_level,
    resolved.line_count,
    resolved.affected_units,
    resolved.unconverted_case_quantity,
    resolved.affected_value,
    seen.first_seen_date,
    seen.last_seen_date
from resolved
left join seen
    on
        resolved.source_system = seen.source_system
        and resolved.source_item_code = seen.source_item_code
left join locations
    on resolved.location_id = locations.location_id
