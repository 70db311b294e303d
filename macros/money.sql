{#-
    round_money(expression): round an amount to cents, half away from zero, as the policy
    (docs/decisions.md, "Rounding of money") and the simulation's reference implementation do.
    Computed on double precision with a nudge of 1e-9 cent so that a decimal half stored as
    2.67499999... still rounds up; exact decimals round the same way.
-#}
{% macro round_money(expression) -%}
    cast(
        sign(cast({{ expression }} as double))
        * floor(abs(cast({{ expression }} as double)) * 100 + 0.5 + 1e-9) / 100
        as decimal(18, 2)
    )
{%- endmacro %}
