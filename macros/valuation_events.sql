{#-
    inbound_event_types(): the SQL list of the valuation's inbound event types, those that enter
    stock at a known value and re-average (docs/glossary.md, moving-average cost): opening
    balances at their stated cost, goods receipts at landed cost, transfers in from another
    entity at the sender's cost, restocked returns at their issue cost, stock gains at a stated
    cost, the output of a work order at the cost of its components plus its conversion cost. Every model that asks
    "is this event inbound" uses this one list.
-#}
{% macro inbound_event_types() -%}
    (
        'opening_balance', 'receipt', 'transfer_in', 'return_restock', 'adjustment_at_cost',
        'production_receipt'
    )
{%- endmacro %}

{#-
    is_inbound_event(event_type, units): whether a valuation event is inbound (enters the
    moving-average chain, which needs units > 0). A restocked return with negative units (the
    reversal of a closed period's return of a file delivered again: int_pos_sales_lines_restated)
    takes units out: it is costed as an outbound at the average of its segment, outside the
    chain (docs/decisions.md, "Period close: a closed month's file delivered again").
-#}
{% macro is_inbound_event(event_type, units) -%}
    ({{ event_type }} in {{ inbound_event_types() }}
    and not ({{ event_type }} = 'return_restock' and {{ units }} < 0))
{%- endmacro %}

{#-
    revaluing_event_types(): the inbound event types that, finding stock below zero, book the
    difference between the ledger and the restarted stock value to purchase price variance
    (docs/decisions.md, "Issues before any receipt" and "Opening balances").
-#}
{% macro revaluing_event_types() -%}
    ('opening_balance', 'receipt', 'adjustment_at_cost')
{%- endmacro %}

{#-
    valuation_order(alias, priority): the order in which the moving-average policy applies an
    entity's events of a SKU (docs/glossary.md, "Order and rounding", the one statement of it):
    UTC time, inbound events first at equal times (priority 0 before 1), then location, event
    type, source system, document and the line's number in it (a number: line 10 after line 2;
    none as 0), the event id last, so that events at the same second apply in an order that
    does not depend on how they were loaded. alias carries transfer_key (the document),
    source_system and document_line_number. A transfer's document is its number and line (it
    pairs a shipment with its receipt), compared as text; a transfer has one line per SKU, so
    two of its lines never meet in an entity's SKU.
-#}
{% macro valuation_order(alias, priority) -%}
    {{ alias }}.event_at, {{ priority }}, {{ alias }}.location_id, {{ alias }}.event_type,
    {{ alias }}.source_system, {{ alias }}.transfer_key,
    coalesce({{ alias }}.document_line_number, 0), {{ alias }}.event_id
{%- endmacro %}

{#-
    stock_value(units, average): the value of an entity's stock of a SKU, units x the moving
    average rounded to cents: what the inventory account holds of it (docs/glossary.md,
    inventory value). stock_value_change(units_before, units, average): what an event that does
    not re-average moves, the change of that value, so that the postings add up to the stock
    value exactly and an event that empties the stock takes all of what remains.
-#}
{% macro stock_value(units, average) -%}
    {{ round_money('(' ~ units ~ ') * (' ~ average ~ ')') }}
{%- endmacro %}

{% macro stock_value_change(units_before, units, average) -%}
    ({{ stock_value('(' ~ units_before ~ ') + (' ~ units ~ ')', average) }}
    - {{ stock_value(units_before, average) }})
{%- endmacro %}

{#-
    inventory_effect(alias): what a costed valuation event (int_valuation_events_costed, alias)
    adds to the entity's stock value, signed: its cost taken out for an issue, a transfer out
    and a work order's component, its amount otherwise (an inbound event's value, an
    adjustment's value added).
-#}
{% macro inventory_effect(alias) -%}
    case
        when {{ alias }}.event_type in ('issue', 'transfer_out', 'production_issue')
            then -{{ alias }}.cost_amount
        else {{ alias }}.cost_amount
    end
{%- endmacro %}
