-- Forecast demand as of each date (docs/decisions.md, "The semantic layer"): per selling
-- location and SKU, the four weeks (28 days) of the latest planning publication on or before the
-- date; a pair the latest publication does not list is forecast nothing. Dated on the dates
-- mart_available_inventory holds a position, so that days of supply takes both at one close.
-- Rebuilt by load on the as-of date (docs/decisions.md, "Forecast accuracy and demand rebuilt by
-- load"): a date of the window takes the latest publication on or before it, which is the one
-- the kept rows before the window last used or a later one, so the window reads the
-- publications from that one on.
{%- set first_publication = date_literal('1900-01-01') -%}
{%- if load_window_is_incremental() and execute -%}
    {%- set kept_publication -%}
        select max(kept.forecast_created_date)
        from {{ this }} as kept
        where kept.as_of_date < {{ load_window_start() }}
    {%- endset -%}
    {%- set kept = run_query(kept_publication).columns[0].values()[0] -%}
    {%- if kept is not none -%}
        {%- set first_publication = date_literal(kept) -%}
    {%- endif -%}
{%- endif %}
with

forecast_weeks as (
    select
        forecasts.forecast_created_date,
        forecasts.location_id,
        forecasts.sku,
        forecasts.forecast_units
    from {{ ref('stg_planning__forecasts') }} as forecasts
    where
        forecasts.week_start_date >= forecasts.forecast_created_date
        and forecasts.week_start_date
        < {{ dbt.dateadd('day', 28, 'forecasts.forecast_created_date') }}
        and forecasts.forecast_created_date >= {{ first_publication }}
),

publications as (
    select
        forecast_weeks.forecast_created_date,
        forecast_weeks.location_id,
        forecast_weeks.sku,
        sum(forecast_weeks.forecast_units) as forecast_units_next_28_days
    from forecast_weeks
    group by forecast_weeks.forecast_created_date, forecast_weeks.location_id, forecast_weeks.sku
),

publication_dates as (
    select distinct publications.forecast_created_date
    from publications
),

position_dates as (
    select distinct inventory.as_of_date
    from {{ ref('mart_available_inventory') }} as inventory
    where {{ in_load_window('inventory.as_of_date') }}
),

latest_publications as (
    select
        position_dates.as_of_date,
        max(publication_dates.forecast_created_date) as forecast_created_date
    from position_dates
    inner join publication_dates
        on position_dates.as_of_date >= publication_dates.forecast_created_date
    group by position_dates.as_of_date
)

select
    latest_publications.as_of_date,
    locations.entity_code,
    publications.location_id,
    publications.sku,
    publications.forecast_created_date,
    cast(publications.forecast_units_next_28_days as decimal(18, 2))
        as forecast_units_next_28_days
from latest_publications
inner join publications
    on latest_publications.forecast_created_date = publications.forecast_created_date
left join {{ ref('dim_location') }} as locations
    on publications.location_id = locations.location_id
