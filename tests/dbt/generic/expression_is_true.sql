{#-
    expression_is_true: a boolean SQL expression over the model's columns holds on every row
    (an arithmetic identity, a sign rule, a conditional not-null). Returns each row where the
    expression is false or null. Declared on a model or on a column (the column only places the
    test; the expression names whatever columns it needs).
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
