-- The WMS's end-of-day on-hand counts with their item resolved and their quantity in eaches
-- (macro wms_items_resolved): the WMS item code maps through the ERP cross-reference valid on
-- the snapshot date, cases convert by the SKU's case pack.
{{ wms_items_resolved(ref('stg_wms__on_hand_snapshots'), 'snapshot_date') }}
