-- The exception queue's systematic under-pricing (issue 18; docs/decisions.md, "Anomalies
-- against history and peers"): a store that sells below the list price more often, or deeper,
-- than the other stores. Over a rolling week (every weekday once) each store's share of sale
-- lines sold below the list (a discount on the line, or a unit price under the list price of
-- its entity, SKU and date) and its depth (discounts and price cuts over list value) are
-- compared with the median and median absolute deviation of the other stores the same week. A
-- week is flagged when either measure's robust score and ratio to the peers pass seed
-- anomaly_thresholds. One exception per store and run of flagged weeks, keyed by the first
-- week's end date, explained by its worst week; the impact is that week's list value given away
-- beyond the peers' depth, in the reporting currency.

with

thresholds as (
    {{ anomaly_thresholds('systematic_underpricing', [
        'window_days', 'min_score', 'min_ratio', 'min_volume', 'mad_floor',
    ]) }}
),

sale_lines as (
    select
        sales_lines.location_id,
        sales_lines.entity_code,
        sales_lines.business_date,
        sales_lines.units,
        sales_lines.gross_amount_reporting,
        sales_lines.discount_amount_reporting,
        -- list value and what was given away from it, in the reporting currency
        case
            when prices.list_price > sales_lines.unit_price
                then
                    sales_lines.gross_amount_reporting * prices.list_price
                    / sales_lines.unit_price
            else sales_lines.gross_amount_reporting
        end as list_value_reporting,
        sales_lines.discount_amount_reporting
        + case
            when prices.list_price > sales_lines.unit_price
                then
                    sales_lines.gross_amount_reporting * prices.list_price
                    / sales_lines.unit_price
                    - sales_lines.gross_amount_reporting
            else 0
        end as given_away_reporting,
        sales_lines.discount_amount <> 0
        or coalesce(prices.list_price > sales_lines.unit_price, false) as is_below_list
    from {{ ref('fct_sales_lines') }} as sales_lines
    inner join {{ ref('dim_location') }} as locations
        on sales_lines.location_id = locations.location_id
    left join {{ ref('dim_product_price') }} as prices
        on
            sales_lines.entity_code = prices.entity_code
            and sales_lines.sku = prices.sku
            and sales_lines.business_date >= prices.valid_from_date
            and (prices.valid_to_date is null or sales_lines.business_date <= prices.valid_to_date)
    where
        locations.location_type = 'store'
        and not sales_lines.is_return
        and sales_lines.unit_price > 0
        -- as the till rang them up: not a closed period's booked line nor its reversal
        and sales_lines.restatement_role is null
),

daily as (
    select
        sale_lines.location_id,
        sale_lines.entity_code,
        sale_lines.business_date,
        count(*) as sale_lines,
        sum(case when sale_lines.is_below_list then 1 else 0 end) as below_list_lines,
        sum(sale_lines.list_value_reporting) as list_value_reporting,
        sum(sale_lines.given_away_reporting) as given_away_reporting
    from sale_lines
    group by sale_lines.location_id, sale_lines.entity_code, sale_lines.business_date
),

bounds as (
    select
        min(daily.business_date) as first_date,
        max(daily.business_date) as last_date
    from daily
),

weeks as (
    select
        ends.location_id,
        ends.entity_code,
        ends.business_date as observed_date,
        {{ add_days('cast(1 - thresholds.window_days as integer)', 'ends.business_date') }}
            as window_start_date,
        sum(daily.sale_lines) as sale_lines,
        sum(daily.below_list_lines) as below_list_lines,
        sum(daily.list_value_reporting) as list_value_reporting,
        sum(daily.given_away_reporting) as given_away_reporting
    from daily as ends
    cross join thresholds
    cross join bounds
    inner join daily
        on
            ends.location_id = daily.location_id
            and ends.business_date >= daily.business_date
            and {{ dbt.datediff('daily.business_date', 'ends.business_date', 'day') }}
            < thresholds.window_days
    -- full weeks only
    where
        {{ dbt.datediff('bounds.first_date', 'ends.business_date', 'day') }}
        >= thresholds.window_days - 1
    group by ends.location_id, ends.entity_code, ends.business_date, thresholds.window_days
),

observed as (
    select
        weeks.*,
        1.0 * weeks.below_list_lines / weeks.sale_lines as below_list_share,
        case
            when weeks.list_value_reporting > 0
                then weeks.given_away_reporting / weeks.list_value_reporting
        end as discount_depth
    from weeks
),

-- the peers: the other stores the same week
{{ robust_baseline(
    'observed',
    ['location_id', 'observed_date'],
    'below_list_share',
    "observation.observed_date = history.observed_date
    and observation.location_id <> history.location_id"
) }},

depth_observed as (
    select
        observed.location_id,
        observed.observed_date,
        observed.discount_depth
    from observed
),

{{ robust_baseline(
    'depth_observed',
    ['location_id', 'observed_date'],
    'discount_depth',
    "observation.observed_date = history.observed_date
    and observation.location_id <> history.location_id"
) }},

scored as (
    select
        share_scores.*,
        depth_scores.baseline_median as depth_baseline_median,
        depth_scores.baseline_mad as depth_baseline_mad,
        (share_scores.below_list_share - share_scores.baseline_median)
        / {{ robust_spread(
            'share_scores.baseline_mad', 'thresholds.mad_floor', 'share_scores.baseline_median',
            'share_scores.sale_lines'
        ) }} as share_score,
        (share_scores.discount_depth - depth_scores.baseline_median)
        / {{ robust_spread('depth_scores.baseline_mad', 'thresholds.mad_floor') }} as depth_score,
        thresholds.min_score,
        thresholds.min_ratio,
        thresholds.min_volume
    from observed_baselined as share_scores
    inner join depth_observed_baselined as depth_scores
        on
            share_scores.location_id = depth_scores.location_id
            and share_scores.observed_date = depth_scores.observed_date
    cross join thresholds
),

judged as (
    select
        scored.*,
        case
            when scored.share_score > scored.depth_score then scored.share_score
            else scored.depth_score
        end as score,
        scored.sale_lines >= scored.min_volume
        and scored.history_count >= 2
        and (
            (
                scored.share_score >= scored.min_score
                and scored.below_list_share >= scored.min_ratio * scored.baseline_median
            )
            or (
                scored.depth_score >= scored.min_score
                and scored.discount_depth >= scored.min_ratio * scored.depth_baseline_median
            )
        ) as is_outlier
    from scored
),

{{ outlier_runs('judged', ['location_id']) }},

worst as (
    select
        runs.*,
        runs.given_away_reporting
        - runs.depth_baseline_median * runs.list_value_reporting as excess_given_away_reporting
    from judged_runs as runs
    where runs.rank_in_run = 1
)

select
    {{ dbt.hash(
        "'systematic_underpricing|' || worst.location_id || '|' || "
        ~ to_text('worst.first_seen_date')
    ) }} as exception_id,
    'systematic_underpricing' as exception_type,
    worst.location_id || '|' || {{ to_text('worst.first_seen_date') }} as natural_key,
    worst.entity_code,
    worst.location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    'pos' as source_system,
    cast(worst.below_list_lines as bigint) as affected_units,
    {{ round_money('worst.excess_given_away_reporting') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'Store ' || worst.location_id || ' sold ' || {{ to_text('worst.below_list_lines') }} || ' of '
    || {{ to_text('worst.sale_lines') }} || ' sale lines below the list from '
    || {{ to_text('worst.window_start_date') }} || ' to '
    || {{ to_text('worst.observed_date') }} || ' ('
    || {{ to_text('round(100 * worst.below_list_share, 1)') }}
    || '% against a baseline of ' || {{ to_text('round(100 * worst.baseline_median, 1)') }}
    || '%, the other stores'' median that week, MAD '
    || {{ to_text('round(100 * worst.baseline_mad, 1)') }} || ' points, score '
    || {{ to_text('round(worst.share_score, 1)') }} || '), giving away '
    || {{ to_text('round(100 * worst.discount_depth, 1)') }} || '% of list value (peers'' baseline '
    || {{ to_text('round(100 * worst.depth_baseline_median, 1)') }} || '%, score '
    || {{ to_text('round(worst.depth_score, 1)') }} || '); flagged weeks ended '
    || {{ to_text('worst.first_seen_date') }} || ' to ' || {{ to_text('worst.last_seen_date') }}
    || '. The rows: fct_sales_lines sales of ' || worst.location_id
    || ' with a discount or a unit price under the list in that week.' as explanation,
    worst.first_seen_date,
    worst.last_seen_date,
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from worst
