-- One perpetual ledger of every unit movement per location and SKU, each tracing to its source
-- event and file. on_hand_units is the signed change of stock on hand at location_id;
-- in_transit_units the change of stock in transit to in_transit_location_id.

select
    movements.movement_id,
    movements.movement_type,
    movements.reason_code,
    locations.entity_code,
    movements.location_id,
    movements.sku,
    movements.business_date,
    movements.moved_at,
    movements.on_hand_units,
    movements.quarantined_units,
    movements.in_transit_units,
    movements.in_transit_location_id,
    movements.channel,
    movements.document_number,
    movements.sales_line_id,
    movements.original_sales_line_id,
    movements.source_system,
    movements.source_file,
    movements.source_row_number
from {{ ref('int_inventory_movements_unioned') }} as movements
left join {{ ref('dim_location') }} as locations
    on movements.location_id = locations.location_id
where {{ in_load_window('movements.business_date') }}
