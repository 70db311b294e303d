-- The exception queue's return-rate outliers per store (issue 18; docs/decisions.md, "Anomalies
-- against history and peers"): a store whose sales of a rolling week (every weekday once: the
-- weekday-aware window) come back far more than its own earlier weeks' sales did. The week's
-- return rate is the units returned so far of the lines sold that week over the units sold;
-- the baseline is the median and median absolute deviation of the store's own earlier weekly
-- rates (history_days back, never overlapping the judged week). Earlier weeks have had more
-- time for their returns to come back, so the bias is against flagging. A week is an outlier
-- when its robust score, rate over baseline and returned units all pass seed
-- anomaly_thresholds. One exception per store and run of flagged weeks, keyed by the first
-- week's end date, explained by its worst week; the impact is that week's refunds above the
-- baseline rate, in the reporting currency. The logic: macro return_rate_outliers.

with

scoped_lines as (
    select
        sales_lines.*,
        sales_lines.location_id as subject,
        'store ' || sales_lines.location_id as subject_label,
        sales_lines.location_id as subject_rows,
        sales_lines.location_id as subject_location_id,
        cast(null as {{ dbt.type_string() }}) as subject_sku
    from {{ ref('fct_sales_lines') }} as sales_lines
    inner join {{ ref('dim_location') }} as locations
        on sales_lines.location_id = locations.location_id
    where locations.location_type = 'store'
),

{{ return_rate_outliers('return_rate_outlier', 'scoped_lines', "'pos'") }}
