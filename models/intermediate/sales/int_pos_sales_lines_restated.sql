-- The POS lines a closed period keeps when a file of it is delivered again after its close
-- (docs/glossary.md, Period close; docs/decisions.md, "Period close: a closed month's file
-- delivered again"): every line of a replaced file (stg_pos__sales_lines_replaced) whose
-- replacing file arrived after the close of the line's period for the store's entity (that
-- file is late: int_late_posting_periods), twice. As booked: the line as the replaced file
-- gave it, from that file, so the closed period keeps it. Its reversal: the same line with
-- quantity, discount and tax negated, from the replacing file, so it posts as that file's
-- lines do, in the first open period as an adjustment of the closed one. The replacing file's
-- own lines come through stg_pos__sales_lines. line_version keeps their ids apart
-- (int_sales_lines_unioned): ':replaced:<load id>' and ':reversal:<load id>' of the replaced load;
-- restatement_role says which ('booked' or 'reversal'), so that operational checks leave both
-- out (fct_sales_lines.restatement_role). A return citing a sale of the same replaced file
-- cites that sale's line of the same version (original_line_version), so the closed period's
-- return keeps the cost of the sale it was closed with.

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
),

-- a return citing a sale of the same replaced file cites that sale's booked line (or its
-- reversal), so it is costed as it was when the period closed, not against the correction
citing as (
    select
        kept.*,
        originals.load_id is not null as cites_same_file
    from kept
    left join kept as originals
        on
            kept.load_id = originals.load_id
            and kept.pos_store_code = originals.pos_store_code
            and kept.original_receipt_number = originals.receipt_number
            and kept.original_receipt_line_number = originals.receipt_line_number
)

{% for version, sign in [('replaced', 1), ('reversal', -1)] %}
    select
        citing.pos_store_code,
        citing.receipt_number,
        citing.receipt_line_number,
        citing.transaction_type,
        citing.original_receipt_number,
        citing.original_receipt_line_number,
        citing.return_condition,
        citing.barcode,
        citing.location_id,
        citing.business_date,
        citing.transaction_at,
        {{ sign }} * citing.quantity as quantity,
        citing.unit_price,
        cast({{ sign }} * citing.discount_amount as decimal(18, 2)) as discount_amount,
        cast({{ sign }} * citing.tax_amount as decimal(18, 2)) as tax_amount,
        citing.currency_code,
        {{ 'citing.source_file' if version == 'replaced' else 'citing.replacing_source_file' }}
            as source_file,
        citing.source_row_number,
        ':{{ version }}:' || citing.load_id as line_version,
        '{{ 'booked' if version == 'replaced' else 'reversal' }}' as restatement_role,
        case
            when citing.cites_same_file then ':{{ version }}:' || citing.load_id else ''
        end as original_line_version
    from citing
    {% if not loop.last %}union all{% endif %}
{% endfor %}
