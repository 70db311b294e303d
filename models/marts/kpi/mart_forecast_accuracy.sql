-- Forecast accuracy (docs/decisions.md, "Forecast accuracy"): every week a planning publication
-- forecasts for a selling location and SKU, against the units the retail channels sold there in
-- that week. Only weeks the sales data covers to their last day are judged; a forecast for a
-- pair that sold nothing is judged against zero. Rebuilt by load on the week's first date, six
-- days earlier than the load window (a day's sales change the weeks that hold it, the earliest
-- starting six days before it; docs/decisions.md, "Forecast accuracy and demand rebuilt by
-- load"). It also reads the weeks after the latest week the kept rows judge, which sales dates
-- before the window (days without sales in any channel) may have completed: none is skipped.
{%- set first_week = date_literal('1900-01-01') -%}
{%- if load_window_is_incremental() and execute -%}
    {%- set first_week_query -%}
        select least(
            ({{ load_window_start_query() }}),
            coalesce(
                (
                    select cast({{ dbt.dateadd('day', 1, 'max(kept.week_start_date)') }} as date)
                    from {{ this }} as kept
                ),
                cast('1900-01-01' as date)
            )
        )
    {%- endset -%}
    {%- set first_week = date_literal(run_query(first_week_query).columns[0].values()[0]) -%}
{%- endif %}
with

forecasts as (
    select
        forecasts.forecast_created_date,
        forecasts.week_start_date,
        forecasts.location_id,
        forecasts.sku,
        forecasts.forecast_units
    from {{ ref('stg_planning__forecasts') }} as forecasts
    where
        forecasts.week_start_date >= forecasts.forecast_created_date
        and forecasts.week_start_date >= {{ first_week }}
),

-- the demand plan forecasts what consumers buy: the retail channels, not trade customers
retail_channels as (
    select channels.channel
    from {{ ref('dim_channel') }} as channels
    where channels.channel_kind = 'retail'
),

daily_units_sold as (
    select
        sales.business_date,
        sales.location_id,
        sales.sku,
        sum(sales.units) as units_sold
    from {{ ref('fct_sales_lines') }} as sales
    inner join retail_channels on sales.channel = retail_channels.channel
    where not sales.is_return and sales.business_date >= {{ first_week }}
    group by sales.business_date, sales.location_id, sales.sku
),

sales_through as (
    select max(sales.business_date) as last_business_date
    from {{ ref('fct_sales_lines') }} as sales
),

judged as (
    select forecasts.*
    from forecasts
    cross join sales_through
    where
        {{ dbt.dateadd('day', 6, 'forecasts.week_start_date') }}
        <= sales_through.last_business_date
),

-- 1 .. 7
week_day_numbers as (
    {{ dbt.generate_series(7) }}
),

-- each location, SKU and week forecast (once, however many publications forecast it) and its
-- seven days: an equality join to the daily sales, not a join of every week to every day
week_days as (
    select
        weeks.week_start_date,
        weeks.location_id,
        weeks.sku,
        {{ add_days(
            'cast(week_day_numbers.generated_number - 1 as integer)', 'weeks.week_start_date'
        ) }} as business_date
    from (
        select distinct
            judged.week_start_date,
            judged.location_id,
            judged.sku
        from judged
    ) as weeks
    cross join week_day_numbers
),

actuals as (
    select
        week_days.week_start_date,
        week_days.location_id,
        week_days.sku,
        coalesce(sum(daily_units_sold.units_sold), 0) as units_sold
    from week_days
    left join daily_units_sold
        on
            week_days.location_id = daily_units_sold.location_id
            and week_days.sku = daily_units_sold.sku
            and week_days.business_date = daily_units_sold.business_date
    group by week_days.week_start_date, week_days.location_id, week_days.sku
)

select
    judged.forecast_created_date,
    judged.week_start_date,
    cast(
        floor(
            {{ dbt.datediff('judged.forecast_created_date', 'judged.week_start_date', 'day') }}
            / 7
        ) as integer
    ) as horizon_weeks,
    locations.entity_code,
    judged.location_id,
    judged.sku,
    products.category,
    cast(judged.forecast_units as decimal(18, 2)) as forecast_units,
    cast(actuals.units_sold as decimal(18, 2)) as units_sold,
    cast(judged.forecast_units - actuals.units_sold as decimal(18, 2)) as error_units,
    cast(abs(judged.forecast_units - actuals.units_sold) as decimal(18, 2)) as absolute_error_units
from judged
inner join actuals
    on
        judged.week_start_date = actuals.week_start_date
        and judged.location_id = actuals.location_id
        and judged.sku = actuals.sku
left join {{ ref('dim_location') }} as locations
    on judged.location_id = locations.location_id
left join {{ ref('dim_product') }} as products
    on
        judged.sku = products.sku
        and judged.week_start_date >= products.valid_from_date
        and judged.week_start_date <= coalesce(products.valid_to_date, cast('9999-12-31' as date))
