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
