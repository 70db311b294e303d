-- The exception queue's late events. Goods the WMS received at a distribution centre that the
-- ERP booked more than dbt var late_event_max_days days later (or has not booked yet, once
-- that many days have passed since the WMS receipt and the latest WMS date): until it is
-- booked, stock and valuation lag the warehouse floor; the event is resolved on the date the
-- ERP booked it. One row per receipt and SKU; the impact is the units at purchase-order cost.
-- And ERP journals posted after the cutoff (their source business date plus dbt var
-- erp_gl_posting_lag_days): the ERP's books were short of them at the close; resolved on the
-- posting date. One row per journal; the impact is its debit total.

with

wms_receipts as (
    select
        movements.reference_number as goods_receipt_number,
        movements.location_id,
        movements.sku,
        min(movements.business_date) as received_business_date,
        sum(movements.quantity_eaches) as received_units,
        min(movements.source_file) as source_file
    from {{ ref('int_wms_movements_resolved') }} as movements
    where movements.movement_type = 'receipt' and movements.sku is not null
    group by
        movements.reference_number,
        movements.location_id,
        movements.sku
),

erp_receipts as (
    select
        receipt_lines.goods_receipt_number,
        receipt_lines.sku,
        min(receipt_lines.business_date) as booked_business_date,
        sum(receipt_lines.received_units) as booked_units,
        min(receipt_lines.purchase_order_number) as purchase_order_number,
        min(receipt_lines.purchase_order_line_number) as purchase_order_line_number,
        min(receipt_lines.source_file) as source_file
    from {{ ref('stg_erp__goods_receipt_lines') }} as receipt_lines
    group by
        receipt_lines.goods_receipt_number,
        receipt_lines.sku
),

last_wms_date as (
    select max(movements.business_date) as last_business_date
    from {{ ref('stg_wms__movements') }} as movements
),

late as (
    select
        wms_receipts.*,
        erp_receipts.booked_business_date,
        erp_receipts.source_file as erp_source_file,
        order_lines.unit_cost,
        order_lines.currency_code,
        {{ dbt.datediff(
            'wms_receipts.received_business_date',
            'coalesce(erp_receipts.booked_business_date, last_wms_date.last_business_date)',
            'day',
        ) }} as days_late
    from wms_receipts
    cross join last_wms_date
    left join erp_receipts
        on
            wms_receipts.goods_receipt_number = erp_receipts.goods_receipt_number
            and wms_receipts.sku = erp_receipts.sku
    left join {{ ref('stg_erp__purchase_order_lines') }} as order_lines
        on
            erp_receipts.purchase_order_number = order_lines.purchase_order_number
            and erp_receipts.purchase_order_line_number = order_lines.purchase_order_line_number
),

valued as (
    select
        late.*,
        locations.entity_code,
        late.received_units * late.unit_cost as received_value,
        late.received_units * late.unit_cost * rates.exchange_rate as received_value_reporting
    from late
    left join {{ ref('dim_location') }} as locations on late.location_id = locations.location_id
    {{ join_fx_rate('rates', 'late.received_business_date', 'late.currency_code') }}
    where late.days_late > {{ var('late_event_max_days') }}
),

receipt_events as (
    select
        {{ dbt.hash(
            "'late_event|erp_goods_receipt|' || valued.goods_receipt_number || '|' || valued.sku"
        ) }} as exception_id,
        'late_event' as exception_type,
        'erp_goods_receipt|' || valued.goods_receipt_number || '|' || valued.sku as natural_key,
        valued.entity_code,
        valued.location_id,
        valued.sku,
        'erp' as source_system,
        cast(valued.received_units as bigint) as affected_units,
        {{ round_money('valued.received_value_reporting') }} as affected_value_reporting,
        {{ reporting_currency_code() }} as reporting_currency_code,
        'Goods receipt ' || valued.goods_receipt_number || ': the WMS received '
        || {{ to_text('valued.received_units') }} || ' units of ' || valued.sku || ' at '
        || valued.location_id || ' on ' || {{ to_text('valued.received_business_date') }}
        || coalesce(
            ' (' || {{ to_text(round_money('valued.received_value')) }} || ' '
            || valued.currency_code || ' at purchase-order cost)',
            ''
        )
        || case
            when valued.booked_business_date is null
                then
                    '; the ERP has not booked it after ' || {{ to_text('valued.days_late') }}
                    || ' days'
            else
                '; the ERP booked it on ' || {{ to_text('valued.booked_business_date') }} || ', '
                || {{ to_text('valued.days_late') }} || ' days later (' || valued.erp_source_file
                || ')'
        end || '. Stock and its value lagged the warehouse floor until then.' as explanation,
        valued.received_business_date as first_seen_date,
        coalesce(
            {{ add_days(-1, 'valued.booked_business_date') }},
            (select last_wms_date.last_business_date from last_wms_date)
        ) as last_seen_date,
        valued.booked_business_date as resolved_date,
        cast(null as date) as raised_date
    from valued
),

late_journals as (
    select
        journal_lines.journal_number,
        journal_lines.entity_code,
        journal_lines.batch_type,
        journal_lines.source_business_date,
        journal_lines.currency_code,
        min(journal_lines.posting_date) as posting_date,
        sum(journal_lines.debit_amount) as debit_total,
        count(*) as line_count,
        min(journal_lines.source_file) as source_file
    from {{ ref('stg_erp__gl_journal_lines') }} as journal_lines
    group by
        journal_lines.journal_number,
        journal_lines.entity_code,
        journal_lines.batch_type,
        journal_lines.source_business_date,
        journal_lines.currency_code
    having
        min(journal_lines.posting_date)
        > {{ add_days(var('erp_gl_posting_lag_days'), 'journal_lines.source_business_date') }}
),

journal_events as (
    select
        {{ dbt.hash("'late_event|erp_gl_journal|' || late_journals.journal_number") }}
            as exception_id,
        'late_event' as exception_type,
        'erp_gl_journal|' || late_journals.journal_number as natural_key,
        late_journals.entity_code,
        cast(null as {{ dbt.type_string() }}) as location_id,
        cast(null as {{ dbt.type_string() }}) as sku,
        'erp' as source_system,
        cast(null as bigint) as affected_units,
        {{ to_currency('late_journals.debit_total', 'rates') }}
            as affected_value_reporting,
        {{ reporting_currency_code() }} as reporting_currency_code,
        'ERP journal ' || late_journals.journal_number || ' (' || late_journals.batch_type
        || ' batch of ' || late_journals.entity_code || ' for '
        || {{ to_text('late_journals.source_business_date') }} || ', '
        || {{ to_text('late_journals.line_count') }} || ' lines, debits '
        || {{ to_text('late_journals.debit_total') }} || ' ' || late_journals.currency_code
        || ') was posted on ' || {{ to_text('late_journals.posting_date') }} || ', '
        || {{ to_text(dbt.datediff(
            'late_journals.source_business_date', 'late_journals.posting_date', 'day'
        )) }}
        || ' days after its business date (the ERP posts a day''s batches '
        || '{{ var("erp_gl_posting_lag_days") }} day later); the books lacked it at the close ('
        || late_journals.source_file || ').' as explanation,
        late_journals.source_business_date as first_seen_date,
        {{ add_days(-1, 'late_journals.posting_date') }} as last_seen_date,
        late_journals.posting_date as resolved_date,
        cast(null as date) as raised_date
    from late_journals
    {{ join_fx_rate('rates', 'late_journals.source_business_date', 'late_journals.currency_code') }}
)

select * from receipt_events
union all
select * from journal_events
