-- The merchandise hierarchy as it is today: one row per SKU, its current version in dim_product
-- (the unresolved member included). The semantic layer groups every fact by it, so that a
-- period's figures by category are restated in today's hierarchy (docs/decisions.md, "The
-- semantic layer").
select
    products.sku,
    products.product_version_id,
    products.product_name,
    products.department,
    products.category,
    products.subcategory,
    products.brand
from {{ ref('dim_product') }} as products
where products.is_current
