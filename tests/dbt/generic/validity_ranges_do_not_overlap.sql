{#-
    validity_ranges_do_not_overlap: within each partition_by group (a SKU, an item code, an
    entity and SKU...), no two rows' validity ranges [valid_from, valid_to] share a day; a null
    valid_to is open-ended. Returns one row per overlapping pair, with both ranges. An overlap
    would make a fact that joins on "business_date between valid_from and valid_to" find two
    rows and double its units.
-#}
{% test validity_ranges_do_not_overlap(
    model,
    partition_by,
    valid_from='valid_from_date',
    valid_to='valid_to_date'
) %}

select
    {% for column in partition_by -%}
        earlier.{{ column }},
    {% endfor -%}
    earlier.{{ valid_from }} as earlier_valid_from,
    earlier.{{ valid_to }} as earlier_valid_to,
    later.{{ valid_from }} as later_valid_from,
    later.{{ valid_to }} as later_valid_to
from {{ model }} as earlier
inner join {{ model }} as later
    on
        {% for column in partition_by -%}
            earlier.{{ column }} = later.{{ column }}
            and {% endfor -%}
        earlier.{{ valid_from }} <= later.{{ valid_from }}
        and (
            earlier.{{ valid_from }} < later.{{ valid_from }}
            or earlier.{{ valid_to }} is distinct from later.{{ valid_to }}
        )
        and (earlier.{{ valid_to }} is null or earlier.{{ valid_to }} >= later.{{ valid_from }})

{% endtest %}
