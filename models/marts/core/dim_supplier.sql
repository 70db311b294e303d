-- Suppliers (goods vendors, freight carriers, customs brokers), one row per supplier as the
-- latest ERP snapshot that lists it describes it.
with

suppliers as (
    {{ latest_snapshot(ref('stg_erp__suppliers'), ['supplier_id']) }}
),

master as (
    select max(snapshots.snapshot_date) as master_snapshot_date
    from {{ ref('stg_erp__suppliers') }} as snapshots
)

select
    cast(suppliers.supplier_id as {{ dbt.type_string() }}) as supplier_id,
    cast(suppliers.supplier_name as {{ dbt.type_string() }}) as supplier_name,
    cast(suppliers.supplier_type as {{ dbt.type_string() }}) as supplier_type,
    cast(suppliers.country_code as {{ dbt.type_string() }}) as country_code,
    cast(suppliers.currency_code as {{ dbt.type_string() }}) as currency_code,
    cast(suppliers.payment_terms_days as integer) as payment_terms_days,
    suppliers.snapshot_date as last_snapshot_date,
    suppliers.snapshot_date = master.master_snapshot_date as is_in_latest_snapshot
from suppliers
cross join master
