-- The product master as SCD type 2: one row per SKU version, from the successive weekly
-- snapshots of the ERP product master. A version starts on the snapshot date where one of the
-- tracked attributes first differs from the SKU's previous snapshot, and ends the day before
-- the next version starts. The first version of a SKU holds from the start of the calendar
-- (int_calendar_days), so that every business date finds exactly one version; a SKU that
-- drops out of the master keeps its last version current.
with

snapshots as (
    select
        products.sku,
        products.snapshot_date,
        products.product_name,
        products.department,
        products.category,
        products.subcategory,
        products.brand,
        products.case_pack_units,
        products.base_unit_of_measure,
        products.is_active,
        lag(products.product_name) over (
            partition by products.sku order by products.snapshot_date
        ) as previous_product_name,
        lag(products.department) over (
            partition by products.sku order by products.snapshot_date
        ) as previous_department,
        lag(products.category) over (
            partition by products.sku order by products.snapshot_date
        ) as previous_category,
        lag(products.subcategory) over (
            partition by products.sku order by products.snapshot_date
        ) as previous_subcategory,
        lag(products.brand) over (
            partition by products.sku order by products.snapshot_date
        ) as previous_brand,
        lag(products.case_pack_units) over (
            partition by products.sku order by products.snapshot_date
        ) as previous_case_pack_units,
        lag(products.base_unit_of_measure) over (
            partition by products.sku order by products.snapshot_date
        ) as previous_base_unit_of_measure,
        lag(products.is_active) over (
            partition by products.sku order by products.snapshot_date
        ) as previous_is_active,
        row_number() over (
            partition by products.sku order by products.snapshot_date
        ) as snapshot_sequence
    from {{ ref('stg_erp__products') }} as products
),

-- the snapshots where a version starts: the first, and each one that changes an attribute
version_starts as (
    select
        snapshots.*,
        min(snapshots.snapshot_date) over (
            partition by snapshots.sku
        ) as first_snapshot_date
    from snapshots
    where
        snapshots.snapshot_sequence = 1
        or snapshots.product_name is distinct from snapshots.previous_product_name
        or snapshots.department is distinct from snapshots.previous_department
        or snapshots.category is distinct from snapshots.previous_category
        or snapshots.subcategory is distinct from snapshots.previous_subcategory
        or snapshots.brand is distinct from snapshots.previous_brand
        or snapshots.case_pack_units is distinct from snapshots.previous_case_pack_units
        or snapshots.base_unit_of_measure is distinct from snapshots.previous_base_unit_of_measure
        or snapshots.is_active is distinct from snapshots.previous_is_active
),

versions as (
    select
        version_starts.sku,
        version_starts.product_name,
        version_starts.department,
        version_starts.category,
        version_starts.subcategory,
        version_starts.brand,
        version_starts.case_pack_units,
        version_starts.base_unit_of_measure,
        version_starts.is_active,
        version_starts.snapshot_date as version_snapshot_date,
        version_starts.first_snapshot_date,
        row_number() over (
            partition by version_starts.sku
            order by version_starts.snapshot_date
        ) as version_number,
        lead(version_starts.snapshot_date) over (
            partition by version_starts.sku
            order by version_starts.snapshot_date
        ) as next_version_snapshot_date
    from version_starts
),

-- the latest snapshot date of the whole master, and of each SKU
latest as (
    select
        products.sku,
        max(products.snapshot_date) as last_snapshot_date
    from {{ ref('stg_erp__products') }} as products
    group by products.sku
),

master as (
    select max(products.snapshot_date) as master_snapshot_date
    from {{ ref('stg_erp__products') }} as products
),

calendar as (
    select min(calendar_days.date_day) as calendar_start_date
    from {{ ref('int_calendar_days') }} as calendar_days
)

select
    versions.sku,
    versions.version_number,
    versions.product_name,
    versions.department,
    versions.category,
    versions.subcategory,
    versions.brand,
    versions.case_pack_units,
    versions.base_unit_of_measure,
    versions.is_active,
    case
        when
            versions.version_number = 1
            and versions.first_snapshot_date > calendar.calendar_start_date
            then calendar.calendar_start_date
        else versions.version_snapshot_date
    end as valid_from_date,
    cast(
        {{ dbt.dateadd('day', -1, 'versions.next_version_snapshot_date') }} as date
    ) as valid_to_date,
    versions.next_version_snapshot_date is null as is_current,
    versions.version_snapshot_date,
    versions.first_snapshot_date,
    latest.last_snapshot_date,
    latest.last_snapshot_date = master.master_snapshot_date as is_in_latest_snapshot
from versions
inner join latest
    on versions.sku = latest.sku
cross join master
cross join calendar
