-- The exception queue's quarantined rows: every row ingestion rejected (raw.quarantine) and did
-- not replace with a later delivery of its file, one exception per file and row. A rejected
-- sale is missing from every figure; its impact is read from the row where the values that
-- matter still parse: a POS line's quantity x unit price, a marketplace item row's item price,
-- converted at the file's business date. Where they do not (the quantity or price itself is
-- unreadable), the impact is unknown and the sales reconciliations carry the amount.
-- Raised on the day of the load that quarantined the row (raw.load_log loaded_at): the same
-- path and row number quarantined again by a later content is a new occurrence.
-- Reads the ingestion source directly: ingestion's own tables have no staging model.

with

quarantined as (
    select
        quarantine.*,
        load_log.business_date,
        load_log.loaded_at
    from {{ source('ingestion', 'quarantine') }} as quarantine
    left join {{ source('ingestion', 'load_log') }} as load_log
        on quarantine.load_id = load_log.load_id
),

-- the values that matter, where the row still carries them readably
parsed as (
    select
        quarantined.*,
        case quarantined.extract_name
            when 'pos_sales'
                then {{ contract_field(
                    'pos', 'pos_sales', 'pos_store_code', 'quarantined.raw_text', "','"
                ) }}
        end as pos_store_code,
        case quarantined.extract_name
            when 'pos_sales'
                then {{ try_cast_or_null(contract_field(
                    'pos', 'pos_sales', 'quantity', 'quarantined.raw_text', "','"
                ), 'integer') }}
            when 'marketplace_settlement'
                then {{ try_cast_or_null(contract_field(
                    'marketplace', 'marketplace_settlement', 'quantity', 'quarantined.raw_text',
                    'chr(9)'
                ), 'integer') }}
        end as units,
        case quarantined.extract_name
            when 'pos_sales'
                then
                    {{ try_cast_or_null(contract_field(
                    'pos', 'pos_sales', 'quantity', 'quarantined.raw_text', "','"
                ), 'integer') }}
                    * {{ try_cast_or_null(contract_field(
                    'pos', 'pos_sales', 'unit_price', 'quarantined.raw_text', "','"
                ), 'decimal(18, 2)') }}
            when 'marketplace_settlement'
                then {{ try_cast_or_null(contract_field(
                    'marketplace', 'marketplace_settlement', 'item_price_amount',
                    'quarantined.raw_text', 'chr(9)'
                ), 'decimal(18, 2)') }}
        end as gross_value,
        case quarantined.extract_name
            when 'pos_sales'
                then {{ contract_field(
                    'pos', 'pos_sales', 'currency_code', 'quarantined.raw_text', "','"
                ) }}
            when 'marketplace_settlement'
                then {{ contract_field(
                    'marketplace', 'marketplace_settlement', 'currency_code',
                    'quarantined.raw_text', 'chr(9)'
                ) }}
        end as currency_code
    from quarantined
),

located as (
    select
        parsed.*,
        coalesce(store_locations.location_id, marketplace_locations.location_id) as location_id,
        coalesce(store_locations.entity_code, marketplace_locations.entity_code) as entity_code,
        parsed.gross_value * rates.exchange_rate as gross_value_reporting
    from parsed
    left join {{ ref('dim_location') }} as store_locations
        on parsed.pos_store_code = store_locations.pos_store_code
    left join {{ ref('dim_location') }} as marketplace_locations
        on
            parsed.extract_name = 'marketplace_settlement'
            and marketplace_locations.location_id = '{{ var("marketplace_location_id") }}'
    {{ join_fx_rate('rates', 'parsed.business_date', 'parsed.currency_code') }}
)

select
    {{ dbt.hash(
        "'quarantined_row|' || located.source_file || '|' || "
        ~ to_text('located.source_row_number')
    ) }} as exception_id,
    'quarantined_row' as exception_type,
    located.source_file || '|' || {{ to_text('located.source_row_number') }} as natural_key,
    located.entity_code,
    located.location_id,
    cast(null as {{ dbt.type_string() }}) as sku,
    located.source_system,
    cast(located.units as bigint) as affected_units,
    {{ round_money('located.gross_value_reporting') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'Row ' || {{ to_text('located.source_row_number') }} || ' of ' || located.source_file
    || ' was quarantined (' || located.rule || '): ' || located.reason
    || case
        when located.gross_value is not null
            then
                '. The row is worth ' || {{ to_text(round_money('located.gross_value')) }}
                || ' ' || located.currency_code || ' gross'
        when located.extract_name in ('pos_sales', 'marketplace_settlement')
            then '. Its value cannot be read from the row'
        else ''
    end || '; it is in no figure until the source re-delivers it.' as explanation,
    located.business_date as first_seen_date,
    located.business_date as last_seen_date,
    cast(null as date) as resolved_date,
    -- the day of the load that quarantined the row: a path logged again with new content
    -- replaces its quarantined rows, so an action dated before it answered the earlier content
    cast(located.loaded_at as date) as raised_date
from located
