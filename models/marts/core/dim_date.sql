-- The calendar: one row per day of int_calendar_days (spanning the data), with the
-- calendar attributes and the retail 4-5-4 calendar (NRF): retail year N starts on the Sunday
-- nearest 1 February of calendar year N and has 52 weeks, or 53 when the next year's start
-- falls a week later; each quarter has periods of 4, 5 and 4 weeks, and a 53rd week belongs to
-- period 12. Also the MetricFlow time spine (date_day).
with

days as (
    select calendar_days.date_day
    from {{ ref('int_calendar_days') }} as calendar_days
),

-- weekday from the days since Sunday 1970-01-04: 0 Sunday .. 6 Saturday
weekdays as (
    select
        days.date_day,
        mod(
            mod({{ dbt.datediff("cast('1970-01-04' as date)", 'days.date_day', 'day') }}, 7) + 7,
            7
        ) as days_since_sunday
    from days
),

-- 1 February of the calendar year of every day, of the year before and of the year after
february_firsts as (
    select distinct
        cast(
            {{ dbt.dateadd('month', 1, dbt.date_trunc('year', 'days.date_day')) }} as date
        ) as february_first
    from days

    union distinct

    select distinct
        cast(
            {{ dbt.dateadd('month', -11, dbt.date_trunc('year', 'days.date_day')) }} as date
        ) as february_first
    from days

    union distinct

    select distinct
        cast(
            {{ dbt.dateadd('month', 13, dbt.date_trunc('year', 'days.date_day')) }} as date
        ) as february_first
    from days
),

february_weekdays as (
    select
        february_firsts.february_first,
        mod(
            mod(
                {{ dbt.datediff(
                    "cast('1970-01-04' as date)", 'february_firsts.february_first', 'day'
                ) }},
                7
            ) + 7,
            7
        ) as days_since_sunday
    from february_firsts
),

-- the Sunday nearest 1 February starts the retail year named after its calendar year
retail_year_starts as (
    select
        cast(extract(year from february_weekdays.february_first) as integer) as retail_year,
        cast(
            case
                when february_weekdays.days_since_sunday <= 3
                    then {{ dbt.dateadd(
                        'day',
                        '-february_weekdays.days_since_sunday',
                        'february_weekdays.february_first',
                    ) }}
                else {{ dbt.dateadd(
                    'day',
                    '7 - february_weekdays.days_since_sunday',
                    'february_weekdays.february_first',
                ) }}
            end as date
        ) as retail_year_start_date
    from february_weekdays
),

retail_years as (
    select
        retail_year_starts.retail_year,
        retail_year_starts.retail_year_start_date,
        cast(
            {{ dbt.dateadd(
                'day',
                -1,
                'lead(retail_year_starts.retail_year_start_date) over (
                    order by retail_year_starts.retail_year_start_date
                )',
            ) }} as date
        ) as retail_year_end_date
    from retail_year_starts
),

retail_weeks as (
    select
        weekdays.date_day,
        weekdays.days_since_sunday,
        retail_years.retail_year,
        retail_years.retail_year_start_date,
        retail_years.retail_year_end_date,
        cast(
            ({{ dbt.datediff(
                'retail_years.retail_year_start_date', 'retail_years.retail_year_end_date', 'day'
            ) }} + 1) / 7 as integer
        ) as retail_weeks_in_year,
        cast(
            floor(
                {{ dbt.datediff(
                    'retail_years.retail_year_start_date', 'weekdays.date_day', 'day'
                ) }} / 7
            ) as integer
        ) + 1 as retail_week
    from weekdays
    inner join retail_years
        on
            weekdays.date_day between retail_years.retail_year_start_date
            and retail_years.retail_year_end_date
),

retail_quarters as (
    select
        retail_weeks.*,
        case
            when retail_weeks.retail_week > 52 then 4
            else cast(floor((retail_weeks.retail_week - 1) / 13) as integer) + 1
        end as retail_quarter
    from retail_weeks
),

retail_periods as (
    select
        retail_quarters.*,
        3 * (retail_quarters.retail_quarter - 1)
        + case
            when retail_quarters.retail_week - 13 * (retail_quarters.retail_quarter - 1) <= 4
                then 1
            when retail_quarters.retail_week - 13 * (retail_quarters.retail_quarter - 1) <= 9
                then 2
            else 3
        end as retail_period
    from retail_quarters
),

-- the first retail week of each period: 4-5-4 weeks in every quarter of 13
retail_calendar as (
    select
        retail_periods.*,
        13 * (retail_periods.retail_quarter - 1)
        + case mod(retail_periods.retail_period - 1, 3)
            when 0 then 1
            when 1 then 5
            else 10
        end as retail_period_first_week,
        cast(
            {{ dbt.dateadd('day', '-retail_periods.days_since_sunday', 'retail_periods.date_day') }}
            as date
        ) as retail_week_start_date
    from retail_periods
)

select
    retail_calendar.date_day,
    cast(extract(year from retail_calendar.date_day) as integer) as calendar_year,
    cast(extract(quarter from retail_calendar.date_day) as integer) as calendar_quarter,
    cast(extract(month from retail_calendar.date_day) as integer) as calendar_month,
    case cast(extract(month from retail_calendar.date_day) as integer)
        when 1 then 'January'
        when 2 then 'February'
        when 3 then 'March'
        when 4 then 'April'
        when 5 then 'May'
        when 6 then 'June'
        when 7 then 'July'
        when 8 then 'August'
        when 9 then 'September'
        when 10 then 'October'
        when 11 then 'November'
        when 12 then 'December'
    end as month_name,
    cast(extract(day from retail_calendar.date_day) as integer) as day_of_month,
    -- ISO day of week: 1 Monday .. 7 Sunday
    cast(mod(retail_calendar.days_since_sunday + 6, 7) + 1 as integer) as day_of_week,
    case retail_calendar.days_since_sunday
        when 0 then 'Sunday'
        when 1 then 'Monday'
        when 2 then 'Tuesday'
        when 3 then 'Wednesday'
        when 4 then 'Thursday'
        when 5 then 'Friday'
        when 6 then 'Saturday'
    end as day_name,
    retail_calendar.days_since_sunday in (0, 6) as is_weekend,
    cast(
        {{ dbt.date_trunc('month', 'retail_calendar.date_day') }} as date
    ) as calendar_month_start_date,
    retail_calendar.retail_year,
    cast(retail_calendar.retail_quarter as integer) as retail_quarter,
    cast(retail_calendar.retail_period as integer) as retail_period,
    cast(retail_calendar.retail_week as integer) as retail_week,
    cast(retail_calendar.retail_weeks_in_year as integer) as retail_weeks_in_year,
    retail_calendar.retail_week_start_date,
    cast(
        {{ dbt.dateadd(
            'day',
            '7 * (retail_calendar.retail_period_first_week - 1)',
            'retail_calendar.retail_year_start_date',
        ) }} as date
    ) as retail_period_start_date,
    cast(
        {{ dbt.dateadd(
            'day',
            '91 * (retail_calendar.retail_quarter - 1)',
            'retail_calendar.retail_year_start_date',
        ) }} as date
    ) as retail_quarter_start_date,
    retail_calendar.retail_year_start_date,
    retail_calendar.retail_year_end_date
from retail_calendar
