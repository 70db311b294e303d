{#-
    Postings helpers (docs/decisions.md, "Postings from events").

    posting_amount_components(): the amount components an operational event can carry, in the
    order of the columns of fct_gl_posting_events; seed posting_rules maps each event type and
    component to the accounts it debits and credits.

    posting_amount_columns(amounts): the amount columns of one kind of event, every component in
    that order: <component>_amount (functional currency) and <component>_amount_reporting.
    amounts maps a component to [functional expression, reporting expression]; a component the
    event does not carry is null.
-#}

{% macro posting_amount_components() -%}
    {{ return([
        'gross', 'discount', 'returned_value', 'tax', 'fee', 'cost', 'goods', 'charges',
        'price_variance',
    ]) }}
{%- endmacro %}


{% macro posting_amount_columns(amounts) -%}
    {%- for component in posting_amount_components() %}
        {%- set expressions = amounts.get(component) %}
    cast({{ expressions[0] if expressions else 'null' }} as decimal(18, 2))
        as {{ component }}_amount,
    cast({{ expressions[1] if expressions else 'null' }} as decimal(18, 2))
        as {{ component }}_amount_reporting{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- posting_amount_column_list(alias): every amount column of alias, comma separated, in order. -#}
{% macro posting_amount_column_list(alias) -%}
    {%- set columns = [] -%}
    {%- for component in posting_amount_components() -%}
        {%- do columns.append(alias ~ '.' ~ component ~ '_amount') -%}
        {%- do columns.append(alias ~ '.' ~ component ~ '_amount_reporting') -%}
    {%- endfor -%}
    {{ columns | join(',\n    ') }}
{%- endmacro %}


{#-
    Period close (docs/glossary.md, Period close). join_posting_period(alias, business_date,
    source_file, entity_code): a left join naming `alias` the row of int_late_posting_periods
    of an event (its entity, its file and the calendar month of its business date), present
    only when the event arrived after its period's close. posting_date(alias, business_date):
    the date the event posts on (its business date, or the late row's posting date);
    `alias`.adjusts_period_start_date names the closed period a late event adjusts.
-#}
{% macro join_posting_period(alias, business_date, source_file, entity_code) -%}
    left join {{ ref('int_late_posting_periods') }} as {{ alias }}
        on
            {{ entity_code }} = {{ alias }}.entity_code
            and {{ source_file }} = {{ alias }}.source_file
            and cast({{ dbt.date_trunc('month', business_date) }} as date)
            = {{ alias }}.adjusts_period_start_date
{%- endmacro %}


{% macro posting_date(alias, business_date) -%}
    coalesce({{ alias }}.posting_date, {{ business_date }})
{%- endmacro %}


{#-
    posted_from(start, entity_code, source_file, business_date): whether an event posts on or
    after start, from the columns join_posting_period reads, as a filter without the join (for
    the rows a model rebuilt by load on the posting date deletes, where its own columns are in
    scope): its business date is from start on, or it arrived after its period's close and its
    late row posts from start on. The same condition as posting_date(...) >= start, since an
    event never posts before its business date. The late rows are read from the graph, not
    ref(), so that a model's data tests can scope themselves with it too.
-#}
{% macro posted_from(
    start, entity_code='entity_code', source_file='source_file', business_date='business_date'
) -%}
    {%- set late = graph.nodes.values() | selectattr('name', 'equalto', 'int_late_posting_periods')
        | selectattr('resource_type', 'equalto', 'model') | first -%}
    {%- set relation = api.Relation.create(
        database=late.database, schema=late.schema, identifier=late.alias
    ) -%}
    ({{ business_date }} >= {{ start }}
    or ({{ entity_code }}, {{ source_file }},
        cast({{ dbt.date_trunc('month', business_date) }} as date)) in (
        select late.entity_code, late.source_file, late.adjusts_period_start_date
        from {{ relation }} as late
        where late.posting_date >= {{ start }}
    ))
{%- endmacro %}


{#- The valuation's costs of a build's sales lines, as a condition on `costed`
    (int_valuation_events_costed): issues and restocked returns of the window, whose UTC dates
    are at most a day before the lines' business dates, and those of every line of `sales_lines`
    (a relation with sales_line_id and adjusts_period_start_date) that arrived after its
    period's close, valued on its posting date whatever its own date (mart_cogs and the sales
    postings read them alike). -#}
{% macro window_sales_line_costs(sales_lines) -%}
    costed.event_type in ('issue', 'return_restock')
    and (
        {{ in_load_window('costed.event_date', margin_days=1) }}
        or costed.sales_line_id in (
            select {{ sales_lines }}.sales_line_id
            from {{ sales_lines }}
            where {{ sales_lines }}.adjusts_period_start_date is not null
        )
    )
{%- endmacro %}
