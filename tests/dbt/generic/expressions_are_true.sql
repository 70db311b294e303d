{#-
    expressions_are_true: each listed boolean SQL expression over the model's columns holds on
    every row, as expression_is_true checks one. One test per model for its rules
    (docs/decisions.md, "One test per model and kind"); `expressions` lists them, each an
    expression or {expression, description} (the description is the rule's sentence in the
    check). Returns one row per row and expression that is false or null, whose column
    failed_expression names the expression (its text, white space as single spaces, as the
    check's sentence shows it; the characters a string literal does not carry alike on DuckDB
    and Spark, ' \ and $ (Spark reads escapes and ${...} in a literal), written chr(n)); with
    store_failures, the tested row follows. A rule whose test has another configuration
    (severity, where) than its siblings goes into a second expressions_are_true.
    A model column named failed_expression is stored beside it as failed_expression_1 on DuckDB
    (docs/decisions.md, "One test per model and kind"): a model should not have one.
-#}
{% test expressions_are_true(model, expressions) %}
    {%- if expressions is string or expressions is mapping or not expressions -%}
        {{ exceptions.raise_compiler_error(
            'expressions_are_true on ' ~ model ~ ': expressions must be a non-empty list, got '
            ~ expressions
        ) }}
    {%- endif -%}
    {%- set row = ', *' if should_store_failures() else '' -%}
    {%- for rule in expressions %}
        {%- set expression = rule.expression if rule is mapping else rule -%}
        {%- if not expression or expression is not string -%}
            {{ exceptions.raise_compiler_error(
                'expressions_are_true on ' ~ model ~ ': no expression in ' ~ rule
            ) }}
        {%- endif -%}
        {%- set codes = {"'": 39, "\\": 92, "$": 36} -%}
        {%- set named = [] -%}
        {%- for part in modules.re.split("(['\\\\$])", modules.re.sub("\\s+", " ", expression | trim))
            if part -%}
            {%- do named.append("chr(" ~ codes[part] ~ ")" if part in codes else "'" ~ part ~ "'") -%}
        {%- endfor %}
select {{ named | join(' || ') }} as failed_expression{{ row }}
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}

{% endtest %}
