-- The WMS's stock movements with their item resolved and their quantity in eaches (macro
-- wms_items_resolved): the WMS item code maps through the ERP cross-reference valid on the
-- DC-local business date, cases convert by the SKU's case pack. Staging keeps the code as
-- delivered; every reader of WMS quantities reads them here.
{{ wms_items_resolved(ref('stg_wms__movements'), 'business_date') }}
