{#-
    The anomaly detectors' shared statistics (docs/decisions.md, "Anomalies against history and
    peers"): thresholds from the business's seed anomaly_thresholds, and a robust baseline
    (median and median absolute deviation) of each observation's history or peers.
-#}

{#- median(expression): the median (continuous percentile 0.5) of an aggregate group. -#}
{% macro median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}


{#-
    anomaly_thresholds(exception_type, parameters): a one-row query of a detector's thresholds
    from seed anomaly_thresholds, one column per parameter; a detector cross joins it.
-#}
{% macro anomaly_thresholds(exception_type, parameters) -%}
    select
        {%- for parameter in parameters %}
            max(case when thresholds.parameter = '{{ parameter }}' then thresholds.value end)
                as {{ parameter }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('anomaly_thresholds') }} as thresholds
    where thresholds.exception_type = '{{ exception_type }}'
{%- endmacro %}


{#-
    robust_baseline(observed, identity, value, history_condition): CTEs (for a with list) ending
    in <observed>_baselined: every row of the CTE observed with baseline_median and baseline_mad
    (median absolute deviation) of value over the rows `history` that history_condition relates
    to the row `observation` (its own earlier rows, or its peers), and history_count, the number
    of those rows. identity names the columns that identify an observation.
-#}
{% macro robust_baseline(observed, identity, value, history_condition) -%}
    {%- set keys = [] -%}
    {%- for column in identity -%}{%- do keys.append('observation.' ~ column) -%}{%- endfor %}
    {{ observed }}_history as (
        select
            {{ keys | join(', ') }},
            history.{{ value }} as history_value
        from {{ observed }} as observation
        inner join {{ observed }} as history
            on {{ history_condition }}
    ),

    {{ observed }}_medians as (
        select
            {{ keys | join(', ') }},
            {{ median('observation.history_value') }} as baseline_median,
            count(*) as history_count
        from {{ observed }}_history as observation
        group by {{ keys | join(', ') }}
    ),

    {{ observed }}_spreads as (
        select
            {{ keys | join(', ') }},
            {{ median('abs(observation.history_value - medians.baseline_median)') }}
                as baseline_mad
        from {{ observed }}_history as observation
        inner join {{ observed }}_medians as medians
            on
                {%- for column in identity %}
                    observation.{{ column }} = medians.{{ column }}
                    {%- if not loop.last %} and{% endif %}
                {%- endfor %}
        group by {{ keys | join(', ') }}
    ),

    {{ observed }}_baselined as (
        select
            observation.*,
            medians.baseline_median,
            spreads.baseline_mad,
            coalesce(medians.history_count, 0) as history_count
        from {{ observed }} as observation
        left join {{ observed }}_medians as medians
            on
                {%- for column in identity %}
                    observation.{{ column }} = medians.{{ column }}
                    {%- if not loop.last %} and{% endif %}
                {%- endfor %}
        left join {{ observed }}_spreads as spreads
            on
                {%- for column in identity %}
                    observation.{{ column }} = spreads.{{ column }}
                    {%- if not loop.last %} and{% endif %}
                {%- endfor %}
    )
{%- endmacro %}


{#-
    robust_spread(mad, floor, share, count): the spread a robust score divides by: 1.4826 x the
    median absolute deviation (the standard deviation it estimates for normal data), or, when
    larger, floor, and for a share (a rate of count trials whose baseline is share) its sampling
    error sqrt(share x (1 - share) / count), so that a small week is not an outlier by chance.
-#}
{% macro robust_spread(mad, floor, share=none, count=none) -%}
    greatest(
        1.4826 * coalesce({{ mad }}, 0),
        {{ floor }}
        {%- if share is not none %},
        sqrt({{ share }} * (1 - {{ share }}) / {{ count }})
        {%- endif %}
    )
{%- endmacro %}


{#-
    outlier_runs(judged, subject): CTEs (for a with list) ending in <judged>_runs: the rows of
    the CTE judged whose is_outlier holds, each with first_seen_date and last_seen_date of its
    run of consecutive flagged observed_dates of the same subject (the columns listed), and
    rank_in_run (1 = the run's worst: highest score, then earliest date). One exception per run.
    Only the subjects with an outlier are read in date order (the others have no run).
-#}
{% macro outlier_runs(judged, subject) -%}
    {%- set keys = [] -%}
    {%- for column in subject -%}{%- do keys.append(judged ~ '_flagged.' ~ column) -%}{%- endfor %}
    {{ judged }}_outlier_subjects as (
        select distinct
            {%- for column in subject %}
            {{ judged }}.{{ column }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ judged }}
        where {{ judged }}.is_outlier
    ),

    {{ judged }}_flagged as (
        select
            {{ judged }}.*,
            sum(case when {{ judged }}.is_outlier then 0 else 1 end) over (
                partition by
                {%- for column in subject %} {{ judged }}.{{ column }}{% if not loop.last %},{% endif %}
                {%- endfor %}
                order by {{ judged }}.observed_date
                rows between unbounded preceding and current row
            ) as passes_so_far
        from {{ judged }}
        inner join {{ judged }}_outlier_subjects as outlier_subjects
            on
                {%- for column in subject %}
                {{ judged }}.{{ column }} is not distinct from outlier_subjects.{{ column }}
                {%- if not loop.last %} and{% endif %}
                {%- endfor %}
    ),

    {{ judged }}_runs as (
        select
            {{ judged }}_flagged.*,
            min({{ judged }}_flagged.observed_date) over (
                partition by {{ keys | join(', ') }}, {{ judged }}_flagged.passes_so_far
            ) as first_seen_date,
            max({{ judged }}_flagged.observed_date) over (
                partition by {{ keys | join(', ') }}, {{ judged }}_flagged.passes_so_far
            ) as last_seen_date,
            row_number() over (
                partition by {{ keys | join(', ') }}, {{ judged }}_flagged.passes_so_far
                order by {{ judged }}_flagged.score desc, {{ judged }}_flagged.observed_date asc
            ) as rank_in_run
        from {{ judged }}_flagged
        where {{ judged }}_flagged.is_outlier
    )
{%- endmacro %}


{#-
    return_rate_outliers(exception_type, scoped_lines, source_system, verb): the exception
    queue's return-rate outliers of one scope (docs/decisions.md, "Anomalies against history and
    peers"): the rest of a with list that defines scoped_lines, and the query, with the type's
    thresholds from seed anomaly_thresholds (window_days, history_days, min_history, min_score,
    min_ratio, min_volume, mad_floor). scoped_lines are the sales lines (fct_sales_lines
    columns; the restatement lines are left out here) of the scope, each with
    * subject: the text that identifies what is judged (a store, a SKU, a customer hash);
    * subject_label: how the explanation names it ('store S101');
    * subject_rows: how the explanation's last sentence names the rows' subject ('S101');
    * subject_location_id, subject_sku: the exception's location_id and sku (null if none).
    A subject's sales of a rolling week (window_days: every weekday once) and what has come
    back of them so far (a return counts on the day of the sale it returns, through
    original_sales_line_id) make its return rate; the baseline is the median and MAD of its own
    earlier weeks with sales (history_days back, never overlapping the judged week). A week is
    an outlier when its robust score, rate over baseline and returned units pass the seed; one
    exception per subject (and entity) and run of flagged weeks, keyed by the first week's end
    date, explained by its worst week and valued at that week's refunds above the baseline.
-#}
{#-
    rolling_week_sums(daily, columns): a query, for return_rate_outliers' with list (window_offsets
    in it), of each subject's rolling weeks by the date they end, with the sums of columns of
    the CTE daily (one row per subject, entity_code and business_date): every date adds its day
    to the window_days weeks that hold it (an equality join to a few offsets, never a join of
    every day to every day of its window).
-#}
{% macro rolling_week_sums(daily, columns) -%}
    select
        {{ daily }}.subject,
        {{ daily }}.entity_code,
        {{ add_days('window_offsets.day_offset', daily ~ '.business_date') }} as observed_date,
        {%- for column in columns %}
        sum({{ daily }}.{{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ daily }}
    cross join window_offsets
    group by
        {{ daily }}.subject,
        {{ daily }}.entity_code,
        {{ add_days('window_offsets.day_offset', daily ~ '.business_date') }}
{%- endmacro %}


{% macro return_rate_outliers(exception_type, scoped_lines, source_system, verb='sold') -%}
-- the scope's lines as their channels recorded them: not a closed period's booked line of a
-- file delivered again nor its reversal (fct_sales_lines.restatement_role), which net to zero
-- in units and money but not in line counts
operational_lines as (
    select * from {{ scoped_lines }}
    where restatement_role is null
),

thresholds as (
    {{ anomaly_thresholds(exception_type, [
        'window_days', 'history_days', 'min_history', 'min_score', 'min_ratio',
        'min_volume', 'mad_floor',
    ]) }}
),

-- each subject's sales of a day and, of those lines, what has come back so far
returned as (
    select
        sales.subject,
        sales.entity_code,
        sales.business_date,
        sum(returns.units) as units_returned,
        count(*) as return_lines,
        sum(returns.net_amount_reporting) as refunds_reporting
    from operational_lines as returns
    inner join operational_lines as sales
        on returns.original_sales_line_id = sales.sales_line_id
    where returns.is_return
    group by sales.subject, sales.entity_code, sales.business_date
),

-- 0 .. window_days - 1: how many days after a sale date the rolling weeks that hold it end
window_offsets as (
    select
        {{ dbt.datediff('calendar_start.date_day', 'calendar_days.date_day', 'day') }}
            as day_offset
    from {{ ref('int_calendar_days') }} as calendar_days
    cross join (
        select min(all_days.date_day) as date_day
        from {{ ref('int_calendar_days') }} as all_days
    ) as calendar_start
    cross join thresholds
    where
        {{ dbt.datediff('calendar_start.date_day', 'calendar_days.date_day', 'day') }}
        < thresholds.window_days
),

-- the subjects that can be flagged: a week is an outlier only with min_volume units returned,
-- so a subject none of whose rolling windows of sale dates had that many come back is never
-- flagged, and its weeks (its own baseline and runs) change nothing; judged from the few
-- dates with returns, before any subject's every sale date is read. With min_volume <= 0 a
-- week with nothing returned passes it, so every subject with a sale is one
returned_weeks as (
    {{ rolling_week_sums('returned', ['units_returned']) }}
),

candidates as (
    select distinct
        returned_weeks.subject,
        returned_weeks.entity_code
    from returned_weeks
    cross join thresholds
    where returned_weeks.units_returned >= thresholds.min_volume
    union
    select
        scoped.subject,
        scoped.entity_code
    from operational_lines as scoped
    cross join thresholds
    where thresholds.min_volume <= 0 and not scoped.is_return
),

sold_daily as (
    select
        scoped.subject,
        scoped.entity_code,
        scoped.business_date,
        sum(scoped.units) as units_sold
    from operational_lines as scoped
    where not scoped.is_return
    group by scoped.subject, scoped.entity_code, scoped.business_date
),

-- each candidate's units sold per sale date, and what has come back of them
daily as (
    select
        sold_daily.subject,
        sold_daily.entity_code,
        sold_daily.business_date,
        sold_daily.units_sold,
        coalesce(returned.units_returned, 0) as units_returned,
        coalesce(returned.return_lines, 0) as return_lines,
        coalesce(returned.refunds_reporting, 0) as refunds_reporting
    from sold_daily
    inner join candidates
        on
            sold_daily.subject = candidates.subject
            and sold_daily.entity_code = candidates.entity_code
    left join returned
        on
            sold_daily.subject = returned.subject
            and sold_daily.entity_code = returned.entity_code
            and sold_daily.business_date = returned.business_date
),

subjects as (
    select
        scoped.subject,
        scoped.entity_code,
        max(scoped.subject_label) as subject_label,
        max(scoped.subject_location_id) as subject_location_id,
        max(scoped.subject_sku) as subject_sku,
        max(scoped.subject_rows) as subject_rows,
        min(scoped.business_date) as first_date,
        max(scoped.business_date) as last_date
    from operational_lines as scoped
    inner join candidates
        on scoped.subject = candidates.subject and scoped.entity_code = candidates.entity_code
    where not scoped.is_return
    group by scoped.subject, scoped.entity_code
),

-- each subject's rolling weeks with sales, by the date they end
week_sums as (
    {{ rolling_week_sums(
        'daily', ['units_sold', 'units_returned', 'return_lines', 'refunds_reporting']
    ) }}
),

-- full weeks only, ending by the subject's last sale date
weeks as (
    select
        week_sums.subject,
        week_sums.entity_code,
        week_sums.observed_date,
        {{ dbt.datediff('subjects.first_date', 'week_sums.observed_date', 'day') }}
            as day_number,
        thresholds.window_days,
        thresholds.history_days,
        thresholds.min_volume,
        thresholds.min_score,
        thresholds.mad_floor,
        {{ add_days('cast(1 - thresholds.window_days as integer)', 'week_sums.observed_date') }}
            as window_start_date,
        week_sums.units_sold,
        week_sums.units_returned,
        week_sums.return_lines,
        week_sums.refunds_reporting
    from week_sums
    inner join subjects
        on week_sums.subject = subjects.subject and week_sums.entity_code = subjects.entity_code
    cross join thresholds
    where
        {{ dbt.datediff('subjects.first_date', 'week_sums.observed_date', 'day') }}
        >= thresholds.window_days - 1
        and week_sums.observed_date <= subjects.last_date
),

-- weeks with sales (a week without is no rate, not a zero)
observed as (
    select
        weeks.*,
        1.0 * weeks.units_returned / weeks.units_sold as return_rate
    from weeks
    where weeks.units_sold > 0
),

-- the baseline of the weeks that can be flagged (enough units returned, a rate that can score
-- min_score): the others are no outlier whatever their baseline, and still end a run of
-- flagged weeks. The rate bound is in the score's own arithmetic: with a median (a rate) never
-- below zero and a spread never below mad_floor, a score of min_score > 0 has
-- rate - median <= rate and spread >= mad_floor, so rate / mad_floor is at least the score as
-- computed (rounding is monotone); a bound min_score x mad_floor rounds differently and could
-- drop a week whose score is exactly min_score
{{ robust_baseline(
    'observed',
    ['subject', 'entity_code', 'observed_date'],
    'return_rate',
    "observation.subject = history.subject
    and observation.entity_code = history.entity_code
    and history.day_number <= observation.day_number - observation.window_days
    and history.day_number >= observation.day_number - observation.history_days
    and observation.units_returned >= observation.min_volume
    and (
        coalesce(observation.mad_floor, 0) <= 0
        or observation.min_score <= 0
        or observation.return_rate / observation.mad_floor >= observation.min_score
    )"
) }},

scored as (
    select
        baselined.*,
        (baselined.return_rate - baselined.baseline_median)
        / {{ robust_spread(
            'baselined.baseline_mad', 'baselined.mad_floor', 'baselined.baseline_median',
            'baselined.units_sold'
        ) }} as score,
        thresholds.min_ratio,
        thresholds.min_history
    from observed_baselined as baselined
    cross join thresholds
),

judged as (
    select
        scored.*,
        scored.history_count >= scored.min_history
        and scored.score >= scored.min_score
        and scored.return_rate >= scored.min_ratio * scored.baseline_median
        and scored.units_returned >= scored.min_volume as is_outlier
    from scored
),

{{ outlier_runs('judged', ['subject', 'entity_code']) }},

worst as (
    select
        runs.*,
        subjects.subject_label,
        subjects.subject_location_id,
        subjects.subject_sku,
        subjects.subject_rows,
        runs.refunds_reporting
        * (1 - runs.baseline_median / runs.return_rate) as excess_refunds_reporting
    from judged_runs as runs
    inner join subjects
        on runs.subject = subjects.subject and runs.entity_code = subjects.entity_code
    where runs.rank_in_run = 1
)

select
    {{ dbt.hash(
        "'" ~ exception_type ~ "|' || worst.subject || '|' || " ~ to_text('worst.first_seen_date')
    ) }} as exception_id,
    '{{ exception_type }}' as exception_type,
    worst.subject || '|' || {{ to_text('worst.first_seen_date') }} as natural_key,
    worst.entity_code,
    worst.subject_location_id as location_id,
    worst.subject_sku as sku,
    {{ source_system }} as source_system,
    cast(worst.units_returned as bigint) as affected_units,
    {{ round_money('worst.excess_refunds_reporting') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'Of the ' || {{ to_text('worst.units_sold') }} || ' units ' || worst.subject_label
    || ' {{ verb }} from ' || {{ to_text('worst.window_start_date') }} || ' to '
    || {{ to_text('worst.observed_date') }} || ', ' || {{ to_text('worst.units_returned') }}
    || ' came back in ' || {{ to_text('worst.return_lines') }}
    || ' return lines: a return rate of '
    || {{ to_text('round(100 * worst.return_rate, 1)') }} || '% against its own baseline of '
    || {{ to_text('round(100 * worst.baseline_median, 1)') }} || '% (median of '
    || {{ to_text('worst.history_count') }} || ' earlier weeks, MAD '
    || {{ to_text('round(100 * worst.baseline_mad, 1)') }} || ' points), robust score '
    || {{ to_text('round(worst.score, 1)') }} || '; outlier weeks ended '
    || {{ to_text('worst.first_seen_date') }} || ' to ' || {{ to_text('worst.last_seen_date') }}
    || '. The rows: fct_sales_lines returns of ' || worst.subject_rows
    || ' whose original_sales_line_id is a sale of that week.'
        as explanation,
    worst.first_seen_date,
    worst.last_seen_date,
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from worst
{%- endmacro %}


{#-
    feed_baseline(value, name=none, same_weekday=false): the volume-break detector's baseline
    CTEs (robust_baseline) of value over a feed's earlier dates in the CTE observed (columns
    extract_name, observed_date, day_number, warmup_days, history_days and value): dates before
    the one judged, within history_days and past the feed's warm-up, and with same_weekday only
    those a whole number of weeks back. With a name, the CTE <name> first keeps observed's
    identity and value (ending in <name>_baselined); without, observed_baselined keeps all of
    observed's columns.
-#}
{% macro feed_baseline(value, name=none, same_weekday=false) -%}
    {%- if name is not none %}
    {{ name }} as (
        select
            observed.extract_name,
            observed.observed_date,
            observed.day_number,
            observed.warmup_days,
            observed.history_days,
            observed.{{ value }}
        from observed
    ),
    {% endif -%}
    {{ robust_baseline(
        'observed' if name is none else name,
        ['extract_name', 'observed_date'],
        value,
        "observation.extract_name = history.extract_name
        and history.day_number < observation.day_number
        and history.day_number >= observation.day_number - observation.history_days
        and history.day_number >= history.warmup_days"
        ~ (" and mod(observation.day_number - history.day_number, 7) = 0" if same_weekday else "")
    ) }}
{%- endmacro %}
