with

-- the contract's natural key; the copy loaded last wins (a change record of a line's status
-- repeats the line: the latest copy is its current state)
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_purchase_orders'),
        contract_natural_key('erp', 'erp_purchase_orders', ['po_number', 'po_line_number']),
    ) }}
),

renamed as (
    select
        deduplicated.po_number as purchase_order_number,
        deduplicated.po_line_number as purchase_order_line_number,
        deduplicated.supplier_id,
        deduplicated.entity_code,
        deduplicated.ship_to_location_id,
        deduplicated.sku,
        deduplicated.ordered_units,
        deduplicated.unit_cost,
        deduplicated.currency_code,
        deduplicated.order_date,
        deduplicated.expected_date,
        -- optional in the contract: a file without the column, or an empty value, is open
        coalesce(deduplicated.line_status, 'open') as line_status,
        deduplicated.closed_date,
        deduplicated._source_file as source_file,
        deduplicated._source_row_number as source_row_number,
        deduplicated._loaded_at as loaded_at,
        cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id
    from deduplicated
)

select
    renamed.purchase_order_number,
    renamed.purchase_order_line_number,
    renamed.supplier_id,
    renamed.entity_code,
    renamed.ship_to_location_id,
    renamed.sku,
    renamed.ordered_units,
    renamed.unit_cost,
    renamed.currency_code,
    renamed.order_date,
    renamed.expected_date,
    renamed.line_status,
    renamed.closed_date,
    renamed.source_file,
    renamed.source_row_number,
    renamed.load_id,
    renamed.loaded_at
from renamed
