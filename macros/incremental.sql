{#-
    Event facts built by load: each build processes only the business dates that the files
    loaded since the model's previous build touch, from the earliest such date on
    (docs/decisions.md, "Incremental event facts"). A model opts in through the configuration
    `rebuilt_by_load` of dbt_project.yml (incremental, strategy load_window, watermark hook)
    and filters the rows it reads with `where {{ in_load_window('<business date column>') }}`.
    The strategy `load_window` replaces everything from the window's first date on, so a late
    file corrects its own dates and every later one, and a date that lost rows loses them here.
-#}

{#- Where each incremental model records how far the loads it has processed go. -#}
{% macro load_watermarks_relation() -%}
    {{ return(api.Relation.create(
        database=target.get("database"),
        schema=generate_schema_name('intermediate', none),
        identifier='incremental_load_watermarks',
    )) }}
{%- endmacro %}

{#- Run once at the start of every dbt invocation (on-run-start): creating it from each
    model's hooks would race between threads. -#}
{% macro create_load_watermarks() -%}
    {{ return(adapter.dispatch('create_load_watermarks', 'concord')()) }}
{%- endmacro %}

{% macro default__create_load_watermarks() -%}
    create schema if not exists {{ load_watermarks_relation().without_identifier() }};
    create table if not exists {{ load_watermarks_relation() }} (
        model_name {{ dbt.type_string() }},
        loaded_through_at {{ dbt.type_timestamp() }},
        recorded_at {{ dbt.type_timestamp() }},
        window_start date
    );
    {#- warehouses built before the window was recorded -#}
    alter table {{ load_watermarks_relation() }} add column if not exists window_start date
{%- endmacro %}

{#- After a successful build: every file loaded so far has been processed. Ingestion and dbt
    never write at the same time (one writer pool), so the newest load now is the newest the
    build read. With it the first date the build rewrote (null: it rewrote everything), which
    scopes the model's tests (tested_rows_since). -#}
{% macro record_load_watermark() -%}
    insert into {{ load_watermarks_relation() }} (
        model_name, loaded_through_at, recorded_at, window_start
    )
    select
        '{{ this.identifier }}',
        max(load_log.loaded_at),
        {{ dbt.current_timestamp() }},
        {% if load_window_is_incremental() -%}
            {{ load_window_start() }}
        {%- else -%}
            cast(null as date)
        {%- endif %}
    from {{ source('ingestion', 'load_log') }} as load_log
{%- endmacro %}

{#- How far the loads this model has processed go; the beginning of time without a record. -#}
{% macro load_watermark() -%}
    coalesce(
        (
            select max(watermarks.loaded_through_at)
            from {{ load_watermarks_relation() }} as watermarks
            where watermarks.model_name = '{{ this.identifier }}'
        ),
        cast('1900-01-01' as {{ dbt.type_timestamp() }})
    )
{%- endmacro %}

{#- The first business date to rebuild: the earliest file business date loaded after the
    watermark, less var incremental_lookback_days for rows dated before their file's date (a
    webshop event shipped before midnight in the DC's zone, delivered in the next day's file; a
    test holds every event extract to this bound). Far in the future when nothing new arrived;
    the first file's date when the model has no watermark yet.
    A model whose rows also change before that date names in config load_window_backdated a
    model of such changes (changed_from_date, loaded_at), and must declare it with
    `-- depends_on: {{ ref(...) }}`. A model windowed on another date than the business date
    (the UTC date of an event) widens the window by config window_margin_days.
    The date is read when the model runs and written into its SQL as a constant: a filter on a
    constant applies where the model reads a table, before its joins, while a scalar subquery
    became a join that the optimiser placed after them. -#}
{% macro load_window_start() -%}
    {%- if not execute -%}
        {{ return(date_literal('9999-12-31')) }}
    {%- endif -%}
    {%- set start = run_query(load_window_start_query()).columns[0].values()[0] -%}
    {{ return(date_literal(start)) }}
{%- endmacro %}

{% macro load_window_start_query() -%}
    {%- set backdated = config.get('load_window_backdated') -%}
    select
        coalesce(min(changes.changed_from_date), cast('9999-12-31' as date))
        - {{ config.get('window_margin_days', 0) }}
    from (
        select load_log.business_date - {{ var('incremental_lookback_days') }}
            as changed_from_date
        from {{ source('ingestion', 'load_log') }} as load_log
        where load_log.loaded_at > {{ load_watermark() }}
        {%- if backdated %}
        union all
        select backdated.changed_from_date
        from {{ ref(backdated) }} as backdated
        where backdated.loaded_at > {{ load_watermark() }}
        {%- endif %}
    ) as changes
{%- endmacro %}

{% macro date_literal(value) -%}
    {{ return("cast('" ~ value ~ "' as date)") }}
{%- endmacro %}

{#- The rows an incremental build reads: all of them on a full build, the load window's on an
    incremental one; margin_days earlier for rows dated otherwise than the model's window (a
    UTC date is at most a day before a business date). -#}
{% macro in_load_window(column, margin_days=0) -%}
    {%- if load_window_is_incremental() -%}
        {{ column }} >= {{ load_window_start() }}{{ ' - ' ~ margin_days if margin_days }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The rows a build of this model replaces: those from the window's first date on (config
    window_column), and those that config load_window_rewrites names (a condition on the model's
    own columns: rows whose inputs can change at any earlier date, rebuilt whole by every build,
    e.g. the postings of supplier invoices). The strategy deletes them, the model's SQL selects
    them with in_rows_replaced, and the model's tests check them. -#}
{% macro load_window_replaced(start) -%}
    {{ return(rows_replaced_from(
        config.get('window_column', 'business_date'), start, config.get('load_window_rewrites')
    )) }}
{%- endmacro %}

{#- window_column `posted_from`: the posting date of a model without that column, from its
    entity_code, source_file and business_date (macros/postings.sql, posted_from). -#}
{% macro rows_replaced_from(window_column, start, rewritten) -%}
    {%- if window_column == 'posted_from' -%}
        {%- set window = posted_from(start) -%}
    {%- else -%}
        {%- set window = window_column ~ ' >= ' ~ start -%}
    {%- endif -%}
    {{ return('(' ~ window ~ ' or (' ~ rewritten ~ '))' if rewritten else window) }}
{%- endmacro %}

{#- In a model's SQL, where its own output columns are in scope unqualified: the rows this
    build replaces (all of them on a full build). -#}
{% macro in_rows_replaced() -%}
    {%- if load_window_is_incremental() -%}
        {{ load_window_replaced(load_window_start()) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- For models rebuilt by load per key rather than per date (a webshop order's state gathers
    events of many days): `expression in` the keys that rows of relation delivered in the load
    window's files carry. All keys on a full build. -#}
{% macro keys_in_load_window(expression, relation, key_column, file_date_column) -%}
    {%- if load_window_is_incremental() -%}
        {{ expression }} in (
            select touched.{{ key_column }}
            from {{ relation }} as touched
            where {{ in_load_window('touched.' ~ file_date_column) }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Whether this build rebuilds a window (an incremental run) rather than everything. Calling
    source() at parse time records the dependency the window reads; a unit test of the model
    mocks its inputs and never reads the window. -#}
{% macro load_window_is_incremental() -%}
    {%- if model.resource_type == 'unit_test' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set load_log = source('ingestion', 'load_log') -%}
    {{ return(is_incremental()) }}
{%- endmacro %}

{#- Incremental strategy `load_window`: delete the target's rows from the window's first date
    on (config window_column, default business_date) and those config load_window_rewrites
    names, then insert the rebuilt ones. -#}
{% macro get_incremental_load_window_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ load_window_replaced(load_window_start()) }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#-
    Tests of a model rebuilt by load check what its last build rewrote, not its whole history
    again (docs/decisions.md, "Incremental event facts"). dbt wraps the tested relation of every
    generic test in get_where_subquery; this version adds to the test's own `where`:
    - for a uniqueness test (unique, unique_combination_of_columns), the rows sharing a key with
      a rewritten row, so a new row that repeats an older key still fails;
    - for any other test, the rewritten rows.
    Everything is tested after a full build, and on any build with var test_whole_history; a
    test whose last result did not pass, on every build (tested_whole).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append('(' ~ config.get('where') ~ ')') -%}
    {%- endif -%}
    {%- set window = tested_rows_since(relation) -%}
    {%- if window -%}
        {%- do conditions.append(window) -%}
    {%- endif -%}
    {%- if conditions -%}
        {#- the relation aliased: Spark would read `where (...)` right after it as an alias -#}
        {%- do return('(select * from ' ~ relation ~ ' as tested_relation where '
            ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The condition scoping a generic test to its model's last load window; none when the test
    is not on a model rebuilt by load, or must see everything. -#}
{% macro tested_rows_since(relation) -%}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- if tested is none or tested.config.get('data_tests_scope') != 'rewritten_rows' -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set in_window = last_load_window(
        relation,
        tested.config.get('window_column', 'business_date'),
        tested.config.get('load_window_rewrites'),
    ) -%}
    {%- set test = model.test_metadata or {} -%}
    {%- set kwargs = test.get('kwargs', {}) -%}
    {%- if in_window is none -%}
        {%- do return(none) -%}
    {%- elif test.get('name') == 'unique' -%}
        {%- set keys = [kwargs['column_name']] -%}
    {%- elif test.get('name') == 'unique_combination_of_columns' -%}
        {%- set keys = kwargs['combination_of_columns'] -%}
    {%- else -%}
        {%- do return(in_window) -%}
    {%- endif -%}
    {#- `is not distinct from`, not `(keys) in (select keys ...)`: a null key part makes `in`
        unknown and would drop the row, yet unique_combination_of_columns groups nulls together
        (mart_net_sales' adjusted_business_date is null on most rows) -#}
    {%- set same_key = [] -%}
    {%- for key in keys -%}
        {%- do same_key.append('rewritten.' ~ key ~ ' is not distinct from tested_relation.' ~ key) -%}
    {%- endfor -%}
    {%- do return('exists (select 1 from ' ~ relation ~ ' as rewritten where ' ~ in_window
        ~ ' and ' ~ same_key | join(' and ') ~ ')') -%}
{%- endmacro %}

{#- `window_column >= <first date the last build of relation rewrote>` (or the rows its
    config load_window_rewrites names); none when that build rewrote everything, or when the test
    must see everything. -#}
{% macro last_load_window(relation, window_column, rewritten=none) -%}
    {%- if not execute or var('test_whole_history', false) or flags.FULL_REFRESH
        or tested_whole(model) or load_relation(load_watermarks_relation()) is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set last_window -%}
        select watermarks.window_start
        from {{ load_watermarks_relation() }} as watermarks
        where watermarks.model_name = '{{ relation.identifier }}'
        order by watermarks.recorded_at desc
        limit 1
    {%- endset -%}
    {%- set since = run_query(last_window).columns[0].values() -%}
    {%- if not since or since[0] is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return(rows_replaced_from(window_column, date_literal(since[0]), rewritten)) -%}
{%- endmacro %}

{#- Whether this test runs over every row because its last result did not pass (set by the
    orchestrated build: orchestration/open_warnings.py; docs/decisions.md, "Tests that don't
    flicker"). -#}
{% macro tested_whole(test) -%}
    {%- set listed = env_var('CONCORD_TESTS_WHOLE_HISTORY', '') -%}
    {%- do return(listed == '*' or test.unique_id in listed.split(',')) -%}
{%- endmacro %}

{#- For a singular test: the rows of relation that its last build rewrote (all on a full build,
    or with var test_whole_history). -#}
{% macro rewritten_by_last_build(relation, window_column) -%}
    {{ return(last_load_window(relation, window_column) or 'true') }}
{%- endmacro %}
