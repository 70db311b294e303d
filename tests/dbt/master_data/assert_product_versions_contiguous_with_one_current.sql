-- Returns one row per SKU of dim_product whose versions do not form one unbroken history: a
-- SKU without exactly one current version, or a version that does not start the day after
-- the previous one ends. Either would let a business date find no version, or two.

with

versions as (
    select
        products.sku,
        products.version_number,
        products.valid_from_date,
        products.is_current,
        lag(products.valid_to_date) over (
            partition by products.sku
            order by products.valid_from_date
        ) as previous_valid_to_date
    from {{ ref('dim_product') }} as products
),

checked as (
    select
        versions.sku,
        sum(case when versions.is_current then 1 else 0 end) as current_versions,
        sum(
            case
                when
                    versions.previous_valid_to_date is not null
                    and versions.valid_from_date
                    <> cast({{ dbt.dateadd('day', 1, 'versions.previous_valid_to_date') }} as date)
                    then 1
                else 0
            end
        ) as broken_links
    from versions
    group by versions.sku
)

select
    checked.sku,
    checked.current_versions,
    checked.broken_links
from checked
where checked.current_versions <> 1 or checked.broken_links > 0
