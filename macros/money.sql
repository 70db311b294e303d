{#-
    round_decimal(expression, scale): round to `scale` decimal places, half away from zero, the
    same on every engine (docs/decisions.md, "Rounding of money"). Computed on double precision
    with a nudge of 1e-9 of the last place so that a decimal half stored as 2.67499999... still
    rounds up; exact decimals round the same way. A cast of a double to a decimal would not do:
    DuckDB rounds the double's binary value (33.69125 is 33.6912499999...), Spark its shortest
    decimal form (33.69125), so a half at the last place came out one apart.
-#}
{% macro round_decimal(expression, scale) -%}
    cast(
        sign(cast({{ expression }} as double))
        * floor(abs(cast({{ expression }} as double)) * {{ 10 ** scale }} + 0.5 + 1e-9)
        / {{ 10 ** scale }}
        as decimal(18, {{ scale }})
    )
{%- endmacro %}

{#- round_money(expression): an amount rounded to cents (round_decimal at 2 places). -#}
{% macro round_money(expression) -%}
    {{ round_decimal(expression, 2) }}
{%- endmacro %}
