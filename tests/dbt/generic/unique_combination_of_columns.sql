{#-
    unique_combination_of_columns: no two rows share the same values of combination_of_columns
    (a grain). Returns one row per duplicated combination with how many rows carry it. Null
    values group together, so a null in a key column also counts as a duplicate when repeated;
    pair this test with not_null on the key columns.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(',\n    ') }},
    count(*) as duplicate_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
