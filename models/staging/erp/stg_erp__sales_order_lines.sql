-- Wholesale sales-order lines of the ERP (docs/decisions.md, "Wholesale: a channel of the
-- ERP"): shipments to trade customers and their credit notes, one row per document line. The
-- business date is the local date, at the distribution centre, of the shipment or the receipt
-- of the returned goods. The customer account is a business identifier and stays as it is.
with

-- the contract's natural key; the copy loaded last wins
deduplicated as (
    {{ deduplicate(
        source('erp', 'erp_sales_orders'),
        contract_natural_key('erp', 'erp_sales_orders', [
            'document_number',
            'document_line_number',
        ]),
    ) }}
),

locations as (
    {{ latest_snapshot(ref('stg_erp__locations'), ['location_id']) }}
)

select
    deduplicated.document_number,
    deduplicated.document_line_number,
    deduplicated.line_type,
    deduplicated.order_number,
    deduplicated.order_line_number,
    deduplicated.customer_account,
    deduplicated.location_id,
    deduplicated.sku,
    deduplicated.quantity,
    deduplicated.unit_price,
    deduplicated.discount_amount,
    deduplicated.tax_amount,
    deduplicated.currency_code,
    deduplicated.transaction_at,
    deduplicated.return_condition,
    cast(
        {{ utc_to_local('deduplicated.transaction_at', 'locations.time_zone') }} as date
    ) as business_date,
    deduplicated._source_file as source_file,
    deduplicated._source_row_number as source_row_number,
    cast(deduplicated._load_id as {{ dbt.type_string() }}) as load_id,
    deduplicated._loaded_at as loaded_at
from deduplicated
left join locations
    on deduplicated.location_id = locations.location_id
