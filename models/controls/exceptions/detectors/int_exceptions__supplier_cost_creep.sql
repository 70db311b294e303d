-- The exception queue's supplier cost creep (issue 18; docs/decisions.md, "Anomalies against
-- history and peers"): a supplier whose purchase unit costs drift above their history. Each
-- purchase order line's unit cost is compared with the median unit cost of the same entity and
-- SKU on that entity's purchase order lines of the previous history_days days (ordered before
-- it); its drift is the ratio less one. A line is drifted at min_ratio or more; a supplier
-- creeps when it has min_volume drifted lines or more and the median drift of all its lines
-- since its first drifted line is min_score or more (seed anomaly_thresholds). One exception
-- per supplier and first drifted date; the impact is what those lines cost above the baseline,
-- in the reporting currency at each order date's rate.

with

thresholds as (
    {{ anomaly_thresholds('supplier_cost_creep', [
        'history_days', 'min_ratio', 'min_volume', 'min_score',
    ]) }}
),

order_lines as (
    select
        purchase_lines.purchase_order_number,
        purchase_lines.purchase_order_line_number,
        purchase_lines.supplier_id,
        purchase_lines.entity_code,
        purchase_lines.sku,
        purchase_lines.ordered_units,
        purchase_lines.unit_cost,
        purchase_lines.currency_code,
        purchase_lines.order_date
    from {{ ref('stg_erp__purchase_order_lines') }} as purchase_lines
    where purchase_lines.unit_cost > 0
),

-- each line's baseline: the median unit cost of its entity and SKU on earlier orders
history as (
    select
        observation.purchase_order_number,
        observation.purchase_order_line_number,
        {{ median('history.unit_cost') }} as baseline_unit_cost,
        count(*) as history_count
    from order_lines as observation
    cross join thresholds
    inner join order_lines as history
        on
            observation.entity_code = history.entity_code
            and observation.sku = history.sku
            and observation.order_date > history.order_date
            and {{ dbt.datediff('history.order_date', 'observation.order_date', 'day') }}
            <= thresholds.history_days
    group by observation.purchase_order_number, observation.purchase_order_line_number
),

drifts as (
    select
        order_lines.*,
        history.baseline_unit_cost,
        history.history_count,
        order_lines.unit_cost / history.baseline_unit_cost - 1 as drift,
        order_lines.unit_cost >= thresholds.min_ratio * history.baseline_unit_cost as is_drifted,
        (order_lines.unit_cost - history.baseline_unit_cost) * order_lines.ordered_units
        * rates.exchange_rate as excess_cost_reporting
    from order_lines
    cross join thresholds
    inner join history
        on
            order_lines.purchase_order_number = history.purchase_order_number
            and order_lines.purchase_order_line_number = history.purchase_order_line_number
    {{ join_fx_rate('rates', 'order_lines.order_date', 'order_lines.currency_code') }}
),

first_drifts as (
    select
        drifts.supplier_id,
        min(drifts.order_date) as first_seen_date
    from drifts
    where drifts.is_drifted
    group by drifts.supplier_id
),

-- the supplier's lines since its first drifted one
since as (
    select
        drifts.supplier_id,
        first_drifts.first_seen_date,
        max(drifts.order_date) as last_seen_date,
        count(*) as order_lines,
        sum(case when drifts.is_drifted then 1 else 0 end) as drifted_lines,
        sum(drifts.ordered_units) as ordered_units,
        {{ median('drifts.drift') }} as median_drift,
        max(drifts.drift) as max_drift,
        sum(drifts.excess_cost_reporting) as excess_cost_reporting,
        min(drifts.purchase_order_number) as first_purchase_order_number,
        max(drifts.purchase_order_number) as last_purchase_order_number,
        case when count(distinct drifts.entity_code) = 1 then min(drifts.entity_code) end
            as entity_code
    from drifts
    inner join first_drifts
        on
            drifts.supplier_id = first_drifts.supplier_id
            and drifts.order_date >= first_drifts.first_seen_date
    group by drifts.supplier_id, first_drifts.first_seen_date
),

creeping as (
    select since.*
    from since
    cross join thresholds
    where
        since.drifted_lines >= thresholds.min_volume
        and since.median_drift >= thresholds.min_score
)

select
    {{ dbt.hash(
        "'supplier_cost_creep|' || creeping.supplier_id || '|' || "
        ~ to_text('creeping.first_seen_date')
    ) }} as exception_id,
    'supplier_cost_creep' as exception_type,
    creeping.supplier_id || '|' || {{ to_text('creeping.first_seen_date') }} as natural_key,
    creeping.entity_code,
    cast(null as {{ dbt.type_string() }}) as location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    'erp' as source_system,
    cast(creeping.ordered_units as bigint) as affected_units,
    {{ round_money('creeping.excess_cost_reporting') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'Supplier ' || creeping.supplier_id || ' charged more than its history on '
    || {{ to_text('creeping.drifted_lines') }} || ' of ' || {{ to_text('creeping.order_lines') }}
    || ' purchase order lines from ' || {{ to_text('creeping.first_seen_date') }} || ' to '
    || {{ to_text('creeping.last_seen_date') }} || ': unit costs a median '
    || {{ to_text('round(100 * creeping.median_drift, 1)') }} || '% (score) and at most '
    || {{ to_text('round(100 * creeping.max_drift, 1)') }}
    || '% above the baseline, each SKU''s median unit cost on earlier orders. The rows: '
    || 'stg_erp__purchase_order_lines of ' || creeping.supplier_id || ', orders '
    || creeping.first_purchase_order_number || ' to ' || creeping.last_purchase_order_number
    || '.' as explanation,
    creeping.first_seen_date,
    creeping.last_seen_date,
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from creeping
