-- Forecast demand as of each date (docs/decisions.md, "The semantic layer"): per selling
-- location and SKU, the four weeks (28 days) of the latest planning publication on or before the
-- date; a pair the latest publication does not list is forecast nothing. Dated on the dates
-- mart_available_inventory holds a position, so that days of supply takes both at one close.
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
