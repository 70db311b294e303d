-- The POS lines a closed period keeps when a file of it is delivered again after its close
-- (docs/glossary.md, Period close; docs/decisions.md, "Period close: a closed month's file
-- delivered again"): every line of a replaced file (stg_pos__sales_lines_replaced) whose
-- replacing file arrived after the close of the line's period for the store's entity (that
-- file is late: int_late_posting_periods), twice. As booked: the line as the replaced file
-- gave it, from that file, so the closed period keeps it. Its reversal: the same line with
-- quantity, discount and tax negated, from the replacing file, so it posts as that file's
-- lines do, in the first open period as an adjustment of the closed one. The replacing file's
-- own lines come through stg_pos__sales_lines. line_version keeps their ids apart
-- (int_sales_lines_unioned): ':replaced:<load id>' and ':reversal:<load id>' of the replaced load.

with

replaced as (
    select * from {{ ref('stg_pos__sales_lines_replaced') }}
),

replacing_files as (
    select
        load_log.load_id,
        load_log.source_file
    from {{ source('ingestion', 'load_log') }} as load_log
    where load_log.status = 'replaced'
),

kept as (
    select
        replaced.*,
        replacing_files.source_file as replacing_source_file
    from replaced
    inner join replacing_files on replaced.replaced_by_load_id = replacing_files.load_id
    inner join {{ ref('dim_location') }} as locations
        on replaced.location_id = locations.location_id
    inner join {{ ref('int_late_posting_periods') }} as late
        on
            locations.entity_code = late.entity_code
            and replacing_files.source_file = late.source_file
            and cast({{ dbt.date_trunc('month', 'replaced.business_date') }} as date)
            = late.adjusts_period_start_date
)

{% for version, sign in [('replaced', 1), ('reversal', -1)] %}
    select
        kept.pos_store_code,
        kept.receipt_number,
        kept.receipt_line_number,
        kept.transaction_type,
        kept.original_receipt_number,
        kept.original_receipt_line_number,
        kept.return_condition,
        kept.barcode,
        kept.location_id,
        kept.business_date,
        kept.transaction_at,
        {{ sign }} * kept.quantity as quantity,
        kept.unit_price,
        cast({{ sign }} * kept.discount_amount as decimal(18, 2)) as discount_amount,
        cast({{ sign }} * kept.tax_amount as decimal(18, 2)) as tax_amount,
        kept.currency_code,
        {{ 'kept.source_file' if version == 'replaced' else 'kept.replacing_source_file' }}
            as source_file,
        kept.source_row_number,
        ':{{ version }}:' || kept.load_id as line_version
    from kept
    {% if not loop.last %}union all{% endif %}
{% endfor %}
