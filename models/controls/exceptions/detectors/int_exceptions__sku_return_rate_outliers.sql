-- The exception queue's return-rate outliers per SKU (issue 18; docs/decisions.md, "Anomalies
-- against history and peers"): a SKU whose units the retail channels (stores, webshop,
-- marketplace) of an entity sold in a rolling week come back far more than the SKU's own
-- earlier weeks' sales did: a faulty batch or a product that disappoints. Returns count on the
-- date of the sale they return; the baseline is the SKU's own earlier weeks in that entity
-- (robust median and MAD, seed anomaly_thresholds, type sku_return_rate_outlier). One
-- exception per SKU, entity and run of flagged weeks; the impact is the worst week's refunds
-- above the baseline rate, in the reporting currency. The logic: macro return_rate_outliers.

with

scoped_lines as (
    select
        sales_lines.*,
        sales_lines.sku || '|' || sales_lines.entity_code as subject,
        'SKU ' || sales_lines.sku || ' in ' || sales_lines.entity_code as subject_label,
        'SKU ' || sales_lines.sku || ' in ' || sales_lines.entity_code as subject_rows,
        cast(null as {{ dbt.type_string() }}) as subject_location_id,
        sales_lines.sku as subject_sku
    from {{ ref('fct_sales_lines') }} as sales_lines
    inner join {{ ref('dim_channel') }} as channels
        on sales_lines.channel = channels.channel
    where
        channels.channel_kind = 'retail'
        and sales_lines.sku <> '{{ var("unresolved_sku") }}'
),

{{ return_rate_outliers('sku_return_rate_outlier', 'scoped_lines', "'warehouse'") }}
