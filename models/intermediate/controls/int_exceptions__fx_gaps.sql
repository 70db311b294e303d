-- The exception queue's FX gaps: one row per date and currency pair into the reporting or a
-- functional currency that has no rate within var fx_max_gap_days while staged facts in the
-- from-currency carry that business date. Their amounts cannot be converted: the value shown
-- is an estimate at the last published rate, whatever its age (never used for conversion).
with

gaps as (
    select fx_rates.*
    from {{ ref('int_fx_rates_daily') }} as fx_rates
    where fx_rates.is_beyond_gap
),

entities as (
    {{ latest_snapshot(ref('stg_erp__legal_entities'), ['entity_code']) }}
),

target_currencies as (
    select '{{ var("reporting_currency") }}' as currency_code

    union distinct

    select entities.functional_currency_code as currency_code
    from entities
),

observed as (
    select
        business_dates.business_date,
        business_dates.currency_code,
        sum(business_dates.fact_row_count) as fact_row_count,
        sum(business_dates.transaction_value) as transaction_value
    from {{ ref('int_business_dates_observed') }} as business_dates
    group by
        business_dates.business_date,
        business_dates.currency_code
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
    where fx_rates.to_currency_code = '{{ var("reporting_currency") }}'
),

needed as (
    select
        gaps.rate_date,
        gaps.from_currency_code,
        gaps.to_currency_code,
        gaps.source_rate_date,
        gaps.gap_days,
        published.exchange_rate as last_published_rate,
        observed.fact_row_count,
        cast(observed.transaction_value as decimal(18, 2)) as transaction_value,
        cast(
            observed.transaction_value * reporting_estimates.estimate_rate as decimal(18, 2)
        ) as affected_value_reporting
    from gaps
    inner join target_currencies
        on gaps.to_currency_code = target_currencies.currency_code
    inner join observed
        on
            gaps.rate_date = observed.business_date
            and gaps.from_currency_code = observed.currency_code
    left join published
        on
            gaps.source_rate_date = published.rate_date
            and gaps.from_currency_code = published.from_currency_code
            and gaps.to_currency_code = published.to_currency_code
    left join reporting_estimates
        on
            gaps.rate_date = reporting_estimates.rate_date
            and gaps.from_currency_code = reporting_estimates.from_currency_code
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
    '{{ var("reporting_currency") }}' as reporting_currency_code,
    {{ dbt.concat([
        "'No '",
        'needed.from_currency_code',
        "'->'",
        'needed.to_currency_code',
        "' rate within " ~ var('fx_max_gap_days') ~ " days of '",
        'cast(needed.rate_date as ' ~ dbt.type_string() ~ ')',
        "case when needed.source_rate_date is null
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
    needed.rate_date as last_seen_date
from needed
