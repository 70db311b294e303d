{#-
    moving_average_chain(inbound): the perpetual moving-average cost per entity and SKU, one row
    per inbound event (receipt, cross-entity transfer in, restocked return), computed by a
    recursive query that walks every entity-SKU's inbound events in order, all SKUs at once.

    inbound must have: entity_code, sku, inbound_seq (1..n per entity-SKU), units (> 0),
    units_before (entity-SKU units on hand before the event), event_type, known_value (total
    value of a receipt or transfer in, full precision), return_segment (for a restocked return:
    the number of inbound events before the issue it returns, 0 if none), fallback_unit_cost,
    keep_from_segment (the oldest segment whose cost a later return still needs).

    Policy (docs/glossary.md): avg = (stock value + value) / (units_before + units), the stock
    value being units_before x avg rounded to cents (what the ledger holds, stock_value) and the
    value the event's own cents, restarting at value / units when units_before <= 0. A
    restocked return's value is its units at the cost of the issue it returns, i.e. the average
    of that issue's segment; the recursion keeps the averages of the segments later returns
    still need (a bounded window, so memory stays linear in the number of events).

    Emits a recursive CTE named chain and the final select: call it as the last item of a
    `with recursive` list. Returns: entity_code, sku, inbound_seq, average_cost (after the
    event), inbound_value.
-#}
{% macro moving_average_chain(inbound) -%}
    {{ return(adapter.dispatch('moving_average_chain', 'concord')(inbound)) }}
{%- endmacro %}

{#- One recursive query on every engine; its lists through the array helpers below. -#}
{% macro default__moving_average_chain(inbound) -%}
    {%- set value -%}
        case
            when step.event_type = 'return_restock'
                then step.units * coalesce(
                    case
                        when step.return_segment > 0
                            then {{ array_element(
                                'chain.segment_costs',
                                'cast(step.return_segment - chain.first_segment + 1 as bigint)',
                            ) }}
                    end,
                    chain.average_cost,
                    step.fallback_unit_cost
                )
            else step.known_value
        end
    {%- endset -%}
    {%- set average -%}
        case
            when step.units_before <= 0 or chain.average_cost is null
                then cast({{ value }} as double) / step.units
            else
                cast(
                    {{ stock_value('step.units_before', 'chain.average_cost') }}
                    + {{ round_money(value) }}
                    as double
                )
                / (step.units_before + step.units)
        end
    {%- endset -%}
    chain as (
        select distinct
            inbound.entity_code,
            inbound.sku,
            cast(0 as bigint) as inbound_seq,
            cast(null as double) as average_cost,
            cast(null as double) as inbound_value,
            {{ empty_double_array() }} as segment_costs,
            cast(1 as bigint) as first_segment
        from {{ inbound }} as inbound
        union all
        select
            step.entity_code,
            step.sku,
            step.inbound_seq,
            cast({{ average }} as double) as average_cost,
            cast({{ value }} as double) as inbound_value,
            {{ array_slice(
                array_append('chain.segment_costs', 'cast(' ~ average ~ ' as double)'),
                'cast(greatest(step.keep_from_segment, 1) - chain.first_segment + 1 as bigint)',
                'cast(step.inbound_seq - chain.first_segment + 1 as bigint)',
            ) }} as segment_costs,
            cast(greatest(step.keep_from_segment, 1) as bigint) as first_segment
        from chain
        inner join {{ inbound }} as step
            on
                chain.entity_code = step.entity_code
                and chain.sku = step.sku
                and chain.inbound_seq + 1 = step.inbound_seq
    )

    select
        chain.entity_code,
        chain.sku,
        chain.inbound_seq,
        chain.average_cost,
        chain.inbound_value
    from chain
    where chain.inbound_seq > 0
{%- endmacro %}


{#-
    Lists of doubles for the recursion (1-based positions): empty_double_array(),
    array_element(array, position) (null beyond the end), array_append(array, value),
    array_slice(array, first, last) (positions first to last, inclusive; empty when last <
    first). DuckDB's list functions; Spark's arrays.
-#}
{% macro empty_double_array() -%}
    {{ return(adapter.dispatch('empty_double_array', 'concord')()) }}
{%- endmacro %}

{% macro default__empty_double_array() -%}
    cast([] as double [])
{%- endmacro %}

{% macro spark__empty_double_array() -%}
    cast(array() as array<double>)
{%- endmacro %}

{% macro array_element(array, position) -%}
    {{ return(adapter.dispatch('array_element', 'concord')(array, position)) }}
{%- endmacro %}

{% macro default__array_element(array, position) -%}
    {{ array }}[{{ position }}]
{%- endmacro %}

{% macro spark__array_element(array, position) -%}
    try_element_at({{ array }}, cast({{ position }} as int))
{%- endmacro %}

{% macro array_append(array, value) -%}
    {{ return(adapter.dispatch('array_append', 'concord')(array, value)) }}
{%- endmacro %}

{% macro default__array_append(array, value) -%}
    list_append({{ array }}, {{ value }})
{%- endmacro %}

{% macro spark__array_append(array, value) -%}
    concat({{ array }}, array({{ value }}))
{%- endmacro %}

{% macro array_slice(array, first, last) -%}
    {{ return(adapter.dispatch('array_slice', 'concord')(array, first, last)) }}
{%- endmacro %}

{% macro default__array_slice(array, first, last) -%}
    list_slice({{ array }}, {{ first }}, {{ last }})
{%- endmacro %}

{% macro spark__array_slice(array, first, last) -%}
    slice(
        {{ array }},
        cast({{ first }} as int),
        cast(greatest({{ last }} - ({{ first }}) + 1, 0) as int)
    )
{%- endmacro %}


{#-
    join_average_cost(alias, entity_code, sku, as_of_date): a left join of the moving-average
    cost in force at the close of as_of_date for the entity and SKU (int_average_cost_changes,
    one range per change, valid_until_date exclusive), as alias: the one way a quantity of
    units is valued at moving-average cost (alias.average_cost) on a date.
-#}
{% macro join_average_cost(alias, entity_code, sku, as_of_date) -%}
    left join {{ ref('int_average_cost_changes') }} as {{ alias }}
        on
            {{ entity_code }} = {{ alias }}.entity_code
            and {{ sku }} = {{ alias }}.sku
            and {{ as_of_date }} >= {{ alias }}.valid_from_date
            and (
                {{ alias }}.valid_until_date is null
                or {{ as_of_date }} < {{ alias }}.valid_until_date
            )
{%- endmacro %}
