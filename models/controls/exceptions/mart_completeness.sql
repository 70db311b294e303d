-- Completeness per business date and extract, and per store or site where the contract scopes
-- an extract (docs/decisions.md, "Completeness: expected deliveries from the contract"): which
-- deliveries the contract expected, what arrived, whether the date is complete, and what a
-- missing delivery is estimated to lack. The dates a reader must not trust yet:
-- select distinct business_date from marts.mart_completeness where not is_complete

select
    cast(assessed.business_date as date) as business_date,
    cast(assessed.source_system as {{ dbt.type_string() }}) as source_system,
    cast(assessed.extract_name as {{ dbt.type_string() }}) as extract_name,
    cast(assessed.cadence as {{ dbt.type_string() }}) as cadence,
    cast(assessed.scope_column as {{ dbt.type_string() }}) as scope_column,
    cast(assessed.scope_code as {{ dbt.type_string() }}) as scope_code,
    cast(assessed.location_id as {{ dbt.type_string() }}) as location_id,
    cast(assessed.entity_code as {{ dbt.type_string() }}) as entity_code,
    cast(assessed.is_expected as boolean) as is_expected,
    cast(assessed.expects_rows as boolean) as expects_rows,
    cast(assessed.status as {{ dbt.type_string() }}) as status,
    cast(assessed.is_complete as boolean) as is_complete,
    cast(assessed.due_date as date) as due_date,
    cast(assessed.reached_date as date) as reached_date,
    cast(assessed.files_received as bigint) as files_received,
    cast(assessed.first_delivery_date as date) as first_delivery_date,
    cast(assessed.live_source_file as {{ dbt.type_string() }}) as live_source_file,
    cast(assessed.rows_read as bigint) as rows_read,
    cast(assessed.rows_loaded as bigint) as rows_loaded,
    cast(assessed.rows_quarantined as bigint) as rows_quarantined,
    cast(assessed.open_held_files as bigint) as open_held_files,
    cast(assessed.sales_channel as {{ dbt.type_string() }}) as sales_channel,
    cast(assessed.net_sales_reporting as decimal(18, 2)) as net_sales_reporting,
    cast(assessed.trailing_dates_count as bigint) as trailing_dates_count,
    cast(assessed.trailing_rows as decimal(18, 2)) as trailing_rows,
    cast(assessed.trailing_net_sales_reporting as decimal(18, 2))
        as trailing_net_sales_reporting,
    cast(assessed.estimated_missing_rows as bigint) as estimated_missing_rows,
    cast(assessed.estimated_missing_value_reporting as decimal(18, 2))
        as estimated_missing_value_reporting,
    cast({{ reporting_currency_code() }} as {{ dbt.type_string() }}) as reporting_currency_code
from {{ ref('int_deliveries_assessed') }} as assessed
