-- The exception queue's FX gaps: one row per business date and currency pair that staged facts
-- need (from their currency into the reporting currency and into their entity's functional
-- one) and that has no rate within var fx_max_gap_days. Their amounts cannot be converted: the
-- value shown is an estimate at the last published rate, whatever its age (never used to
-- convert).
with

-- the conversions the facts need: from their currency into the reporting currency and into
-- their entity's functional currency
conversions as (
    select
        business_dates.business_date,
        business_dates.currency_code as from_currency_code,
        {{ reporting_currency_code() }} as to_currency_code,
        business_dates.fact_row_count,
        business_dates.transaction_value
    from {{ ref('int_business_dates_observed') }} as business_dates
    where business_dates.currency_code is not null

    union all

    select
        business_dates.business_date,
        business_dates.currency_code as from_currency_code,
        business_dates.functional_currency_code as to_currency_code,
        business_dates.fact_row_count,
        business_dates.transaction_value
    from {{ ref('int_business_dates_observed') }} as business_dates
    where
        business_dates.currency_code is not null
        and business_dates.functional_currency_code is not null
        and business_dates.functional_currency_code <> {{ reporting_currency_code() }}
),

observed as (
    select
        conversions.business_date,
        conversions.from_currency_code,
        conversions.to_currency_code,
        sum(conversions.fact_row_count) as fact_row_count,
        sum(conversions.transaction_value) as transaction_value
    from conversions
    group by
        conversions.business_date,
        conversions.from_currency_code,
        conversions.to_currency_code
),

published as (
    select
        fx_rates.rate_date,
        fx_rates.from_currency_code,
        fx_rates.to_currency_code,
        fx_rates.exchange_rate
    from {{ ref('stg_erp__fx_rates') }} as fx_rates
),

-- the rate into the reporting currency of each day, or the last published one beyond the gap
reporting_estimates as (
    select
        fx_rates.rate_date,
        fx_rates.from_currency_code,
        coalesce(fx_rates.exchange_rate, published.exchange_rate) as estimate_rate
    from {{ ref('int_fx_rates_daily') }} as fx_rates
    left join published
        on
            fx_rates.source_rate_date = published.rate_date
            and fx_rates.from_currency_code = published.from_currency_code
            and fx_rates.to_currency_code = published.to_currency_code
    where fx_rates.to_currency_code = {{ reporting_currency_code() }}
),

-- each conversion the facts need: a gap when the daily rates have no row for it (a date
-- outside the calendar) or the row is beyond the gap limit
needed as (
    select
        observed.business_date as rate_date,
        observed.from_currency_code,
        observed.to_currency_code,
        fx_rates.source_rate_date,
        fx_rates.gap_days,
        published.exchange_rate as last_published_rate,
        observed.fact_row_count,
        cast(observed.transaction_value as decimal(18, 2)) as transaction_value,
        cast(
            observed.transaction_value * reporting_estimates.estimate_rate as decimal(18, 2)
        ) as affected_value_reporting,
        fx_rates.rate_date is null as is_outside_daily_rates
    from observed
    {{ join_fx_rate(
        'fx_rates',
        'observed.business_date',
        'observed.from_currency_code',
        'observed.to_currency_code',
    ) }}
    left join published
        on
            fx_rates.source_rate_date = published.rate_date
            and fx_rates.from_currency_code = published.from_currency_code
            and fx_rates.to_currency_code = published.to_currency_code
    left join reporting_estimates
        on
            observed.business_date = reporting_estimates.rate_date
            and observed.from_currency_code = reporting_estimates.from_currency_code
    where fx_rates.rate_date is null or fx_rates.is_beyond_gap
)

select
    {{ dbt.hash(dbt.concat([
        "'fx_rate_gap|'",
        'cast(needed.rate_date as ' ~ dbt.type_string() ~ ')',
        "'|'",
        'needed.from_currency_code',
        "'|'",
        'needed.to_currency_code',
    ])) }} as exception_id,
    'fx_rate_gap' as exception_type,
    {{ dbt.concat([
        'cast(needed.rate_date as ' ~ dbt.type_string() ~ ')',
        "'|'",
        'needed.from_currency_code',
        "'|'",
        'needed.to_currency_code',
    ]) }} as natural_key,
    cast(null as {{ dbt.type_string() }}) as entity_code,
    cast(null as {{ dbt.type_string() }}) as location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    'erp' as source_system,
    cast(null as bigint) as affected_units,
    needed.affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    {{ dbt.concat([
        "'No '",
        'needed.from_currency_code',
        "'->'",
        'needed.to_currency_code',
        "' rate within " ~ var('fx_max_gap_days') ~ " days of '",
        'cast(needed.rate_date as ' ~ dbt.type_string() ~ ')',
        "case when needed.is_outside_daily_rates
            then ': the date is outside the calendar of daily rates'
            when needed.source_rate_date is null
            then ': the ERP has published none before that date'
            else ': the last published rate, '
                || cast(needed.last_published_rate as " ~ dbt.type_string() ~ ")
                || ' of ' || cast(needed.source_rate_date as " ~ dbt.type_string() ~ ")
                || ', is ' || cast(needed.gap_days as " ~ dbt.type_string() ~ ")
                || ' days old' end",
        "'; '",
        'cast(needed.fact_row_count as ' ~ dbt.type_string() ~ ')',
        "' staged fact rows in '",
        'needed.from_currency_code',
        "' carry that business date'",
        "case when needed.transaction_value is null then ''
            else ', worth ' || cast(needed.transaction_value as " ~ dbt.type_string() ~ ")
                || ' ' || needed.from_currency_code
                || coalesce(' (about ' || cast(needed.affected_value_reporting as "
                ~ dbt.type_string() ~ ") || ' " ~ var('reporting_currency')
                ~ " at the last published rate)', '') end",
        "'; they cannot be converted until the ERP publishes the rate.'",
    ]) }} as explanation,
    needed.rate_date as first_seen_date,
    needed.rate_date as last_seen_date,
    -- a gap closes when the ERP publishes the rate: the queue's memory records it resolved
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from needed
