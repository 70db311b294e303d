-- The POS sales lines of files that a later delivery of the same business date replaced
-- (raw.replaced_rows; docs/decisions.md, "Period close: a closed month's file delivered
-- again"), staged as stg_pos__sales_lines stages the live ones (macro pos_sales_lines_staged),
-- one row per replaced load, store, receipt and line, with the load that replaced it. Only a
-- closed period reads them: int_sales_lines_unioned keeps the lines of a file replaced after
-- its period's close, as they were posted, and reverses them.

with

delivered as (
    {{ replaced_rows('pos', 'pos_sales') }}
),

{{ pos_sales_lines_staged(
    'delivered', extra_key=['_load_id'], passthrough=['replaced_by_load_id']
) }}
