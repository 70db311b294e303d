{#-
    Currency conversion, defined once (docs/decisions.md, "One conversion"). The daily rates
    with the gap rule are one model, int_fx_rates_daily; every fact, posting, reconciliation
    and exception converts through it with join_fx_rate() and never writes the join itself, so
    that the date, the pair and the gap rule are the same everywhere. A converted amount is
    `amount * <alias>.exchange_rate`; one rounded to cents is to_currency() (round_money of
    that product: the policy's rounding per converted amount).
-#}


{#- reporting_currency_code(): the reporting currency (dbt var reporting_currency), a literal -#}
{% macro reporting_currency_code() -%}
    '{{ var("reporting_currency") }}'
{%- endmacro %}


{#-
    join_fx_rate(alias, rate_date, from_currency, to_currency=none): a left join of the daily
    rate of from_currency into to_currency (an expression; default the reporting currency) on
    rate_date, as alias with int_fx_rates_daily's columns. One row at most per date and pair:
    the row's amounts are never multiplied. Beyond the gap the rate is null, so a converted
    amount is null (the FX gap exception says why), never a silent 1.0.
-#}
{% macro join_fx_rate(alias, rate_date, from_currency, to_currency=none) -%}
    left join {{ ref('int_fx_rates_daily') }} as {{ alias }}
        on
            {{ rate_date }} = {{ alias }}.rate_date
            and {{ from_currency }} = {{ alias }}.from_currency_code
            and {{ alias }}.to_currency_code = {{
                reporting_currency_code() if to_currency is none else to_currency
            }}
{%- endmacro %}


{#-
    to_currency(amount, rate_alias): amount converted at the rate joined as rate_alias
    (join_fx_rate) and rounded to cents (round_money): each amount converted then rounded.
-#}
{% macro to_currency(amount, rate_alias) -%}
    {{ round_money(amount ~ ' * ' ~ rate_alias ~ '.exchange_rate') }}
{%- endmacro %}
