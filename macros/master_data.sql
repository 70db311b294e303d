{#-
    Master data from full snapshots and change records (docs/decisions.md, "Master data as
    change records"). The ERP states a master record either in a weekly snapshot (the state on
    the snapshot date) or in a change record (the state from an effective date on, recorded on
    the change file's business date). These macros turn both into one stream of statements, so
    that the historization downstream has one definition whatever the ERP sends.
-#}


{#-
    master_statements(snapshots, changes, columns, snapshot_expressions={}): the statements of
    a snapshot staging model and its change records' staging model, one row per staged row:
    `columns` (taken from both; `snapshot_expressions` maps a column to the snapshot side's
    expression where the snapshot lacks it), stated_date (the snapshot date, or the date the
    change file was recorded), is_deleted (false for a snapshot row), is_change_record (1 for a
    change record, 0 for a snapshot row: on one stated date a change record is the more
    specific statement), source_file and load_id.
-#}
{% macro master_statements(snapshots, changes, columns, snapshot_expressions={}) -%}
    select
        {%- for column in columns %}
        {{ snapshot_expressions.get(column, 'snapshots.' ~ column) }} as {{ column }},
        {%- endfor %}
        snapshots.snapshot_date as stated_date,
        false as is_deleted,
        0 as is_change_record,
        snapshots.source_file,
        snapshots.load_id
    from {{ snapshots }} as snapshots
    union all
    select
        {%- for column in columns %}
        changes.{{ column }},
        {%- endfor %}
        changes.recorded_date as stated_date,
        changes.is_deleted,
        1 as is_change_record,
        changes.source_file,
        changes.load_id
    from {{ changes }} as changes
{%- endmacro %}


{#- master_statement_columns(alias, columns): the columns of master_statements() (and no
    deduplication rank, which a later deduplicate() would take for its own) -#}
{% macro master_statement_columns(alias, columns) -%}
    {%- for column in columns + ['stated_date', 'is_deleted', 'is_change_record', 'source_file',
        'load_id'] -%}
        {{ alias }}.{{ column }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- latest_statement(relation, key_columns): per key, the statement made last (a change record
    before a snapshot row of the same stated date) -#}
{% macro latest_statement(relation, key_columns) -%}
    {{ deduplicate(relation, key_columns, order_by='stated_date desc, is_change_record desc') }}
{%- endmacro %}


{#-
    current_ranges(snapshots, changes, columns, key_columns): a ranged master (price list, item
    cross-reference: each record carries its own valid_from_date and valid_to_date) as its
    latest statements: per key (which includes valid_from_date), the statement made last,
    unless that statement deletes the range.
-#}
{% macro current_ranges(snapshots, changes, columns, key_columns) -%}
    select {{ master_statement_columns('stated', columns) }}
    from (
        {{ latest_statement(
            '(' ~ master_statements(snapshots, changes, columns) ~ ')',
            key_columns,
        ) }}
    ) as stated
    where not stated.is_deleted
{%- endmacro %}


{#-
    product_statements(): the product master as dated statements, one row per SKU and
    effective_from_date (a snapshot row takes effect on its snapshot date, a change record on
    its own effective date): the tracked attributes, is_deleted, stated_date, is_change_record.
    A snapshot row is dropped where a change record of the SKU recorded after the snapshot
    takes effect on or before it (a back-dated change: the snapshot showed what was known then,
    the change says what held). Of several statements of one SKU and effective date, the one
    made last wins.
-#}
{% macro product_statements() -%}
    {%- set columns = [
        'sku', 'effective_from_date', 'product_name', 'department', 'category', 'subcategory',
        'brand', 'case_pack_units', 'base_unit_of_measure', 'is_active',
    ] -%}
    select {{ master_statement_columns('current_statements', columns) }}
    from (
        {{ latest_statement(
            '(' ~ master_statements(
                ref('stg_erp__products'),
                ref('stg_erp__product_changes'),
                columns,
                {'effective_from_date': 'snapshots.snapshot_date'},
            ) ~ ')',
            ['sku', 'effective_from_date'],
        ) }}
    ) as current_statements
    where
        current_statements.is_change_record = 1
        or not exists (
            select 1
            from {{ ref('stg_erp__product_changes') }} as back_dated
            where
                back_dated.sku = current_statements.sku
                and back_dated.effective_from_date <= current_statements.effective_from_date
                and back_dated.recorded_date > current_statements.stated_date
        )
{%- endmacro %}


{#-
    join_item_cross_reference(alias, source_system, source_item_code, business_date): the one
    way a source system's item code resolves to a SKU (docs/decisions.md, "Item crosswalk" and
    "Crosswalks in one place"): a left join of int_item_cross_references_dated as alias, the
    mapping of source_system (an expression) for the code valid on business_date, only where
    condition (if given) holds. The ranges never overlap there, so a row finds at most one SKU
    (alias.sku), null when none is valid.
-#}
{% macro join_item_cross_reference(
    alias, source_system, source_item_code, business_date, condition=none
) -%}
    left join {{ ref('int_item_cross_references_dated') }} as {{ alias }}
        on
            {% if condition is not none -%}
            {{ condition }}
            and {% endif -%}
            {{ alias }}.source_system = {{ source_system }}
            and {{ source_item_code }} = {{ alias }}.source_item_code
            and {{ business_date }} >= {{ alias }}.valid_from_date
            and (
                {{ alias }}.valid_to_date is null
                or {{ business_date }} <= {{ alias }}.valid_to_date
            )
{%- endmacro %}


{#-
    wms_items_resolved(relation, business_date): the rows of a WMS staging model (alias staged)
    with their item resolved and their quantity in eaches, every staged column kept, then: sku
    (the WMS item code's SKU valid on business_date, join_item_cross_reference; null when none),
    is_unresolved_item, case_pack_units (the SKU's latest product statement: a case pack is a
    correction of master data, not history that re-dates old counts) and quantity_eaches
    (quantity x case pack for CS rows, the quantity for EA rows; null for cases of an item
    that does not resolve: never a guessed pack).
-#}
{% macro wms_items_resolved(relation, business_date) -%}
    select
        -- every staged column passes through; the wildcard is deliberate
        staged.*,  -- noqa: AM04
        cross_references.sku,
        cross_references.sku is null as is_unresolved_item,
        products.case_pack_units,
        case
            when staged.unit_of_measure = 'CS'
                then staged.quantity * products.case_pack_units
            else staged.quantity
        end as quantity_eaches
    from {{ relation }} as staged
    {{ join_item_cross_reference(
        'cross_references', "'wms'", 'staged.wms_item_code', 'staged.' ~ business_date
    ) }}
    left join (
        {{ deduplicate(
            '(' ~ product_statements() ~ ')', ['sku'], order_by='effective_from_date desc'
        ) }}
    ) as products
        on cross_references.sku = products.sku
{%- endmacro %}
