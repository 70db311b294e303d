-- The exception queue's return-rate outliers per webshop customer (issue 18; docs/decisions.md,
-- "Anomalies against history and peers"): a customer (the salted hash of the e-mail address,
-- never the person) whose webshop purchases of a rolling week come back far more than the
-- customer's own earlier weeks' purchases did: a serial returner. Only customers with enough
-- weeks of their own purchases are judged (min_history, seed anomaly_thresholds, type
-- customer_return_rate_outlier): a one-off buyer has no history to compare with. One exception
-- per customer, entity and run of flagged weeks; the impact is the worst week's refunds above
-- the baseline rate, in the reporting currency. The logic: macro return_rate_outliers.

with

scoped_lines as (
    select
        sales_lines.*,
        sales_lines.customer_hash || '|' || sales_lines.entity_code as subject,
        'webshop customer ' || sales_lines.customer_hash || ' of ' || sales_lines.entity_code
            as subject_label,
        'customer_hash ' || sales_lines.customer_hash || ' (' || sales_lines.entity_code || ')'
            as subject_rows,
        cast(null as {{ dbt.type_string() }}) as subject_location_id,
        cast(null as {{ dbt.type_string() }}) as subject_sku
    from {{ ref('fct_sales_lines') }} as sales_lines
    where sales_lines.channel = 'webshop' and sales_lines.customer_hash is not null
),

{{ return_rate_outliers(
    'customer_return_rate_outlier', 'scoped_lines', "'webshop'", verb='bought'
) }}
