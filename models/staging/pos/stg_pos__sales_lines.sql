with

-- rebuilt by load: the files of the load window's business dates (all of them on a full build)
delivered as (
    select * from {{ source('pos', 'pos_sales') }}
    where {{ in_load_window('_business_date') }}
),

{{ pos_sales_lines_staged('delivered') }}
