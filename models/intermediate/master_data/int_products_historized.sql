-- The product master as SCD type 2: one row per SKU version, from the ERP's statements of the
-- product master: weekly snapshots (a snapshot row takes effect on its snapshot date) and change
-- records (each on its own effective date, also back-dated), as macro product_statements()
-- unites them (docs/decisions.md). A version starts on the statement where one of the tracked
-- attributes first differs from the SKU's previous statement, and ends the day before the next
-- version starts. The first version of a SKU holds from the start of the calendar
-- (int_calendar_days), so that every business date finds exactly one version; a SKU that
-- drops out of the master (or is deleted) keeps its last version current.
with

statements as (
    {{ product_statements() }}
),

snapshots as (
    select
        products.sku,
        products.effective_from_date as snapshot_date,
        products.product_name,
        products.department,
        products.category,
        products.subcategory,
        products.brand,
        products.case_pack_units,
        products.base_unit_of_measure,
        products.is_active,
        lag(products.product_name) over (
            partition by products.sku order by products.effective_from_date
        ) as previous_product_name,
        lag(products.department) over (
            partition by products.sku order by products.effective_from_date
        ) as previous_department,
        lag(products.category) over (
            partition by products.sku order by products.effective_from_date
        ) as previous_category,
        lag(products.subcategory) over (
            partition by products.sku order by products.effective_from_date
        ) as previous_subcategory,
        lag(products.brand) over (
            partition by products.sku order by products.effective_from_date
        ) as previous_brand,
        lag(products.case_pack_units) over (
            partition by products.sku order by products.effective_from_date
        ) as previous_case_pack_units,
        lag(products.base_unit_of_measure) over (
            partition by products.sku order by products.effective_from_date
        ) as previous_base_unit_of_measure,
        lag(products.is_active) over (
            partition by products.sku order by products.effective_from_date
        ) as previous_is_active,
        row_number() over (
            partition by products.sku order by products.effective_from_date
        ) as snapshot_sequence
    from statements as products
    where not products.is_deleted
),

-- the statements where a version starts: the first, and each one that changes an attribute
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

-- each SKU's latest effective date
last_effective as (
    select
        statements.sku,
        max(statements.effective_from_date) as effective_from_date
    from statements
    group by statements.sku
),

-- per SKU: the latest date the ERP stated it present, the date of its latest statement, and
-- whether its statement of the latest effective date deletes it
latest as (
    select
        statements.sku,
        max(
            case when not statements.is_deleted then statements.effective_from_date end
        ) as last_snapshot_date,
        max(statements.stated_date) as last_stated_date,
        max(
            case
                when statements.effective_from_date = last_effective.effective_from_date
                    then case when statements.is_deleted then 1 else 0 end
            end
        ) as is_deleted
    from statements
    inner join last_effective
        on statements.sku = last_effective.sku
    group by statements.sku
),

-- the latest full snapshot: a SKU it does not list, stated in nothing later, has left
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
    latest.is_deleted = 0
    and (
        master.master_snapshot_date is null
        or latest.last_stated_date >= master.master_snapshot_date
    ) as is_in_latest_snapshot
from versions
inner join latest
    on versions.sku = latest.sku
cross join master
cross join calendar
