-- Step 2 of the sales chain: order-level discounts (webshop vouchers, marketplace promotions)
-- allocated to the order's sold lines by gross value. Each share is rounded to cents and the
-- remainder goes to the line with the largest gross (lowest line number on ties), so that the
-- lines sum to the order to the cent (docs/decisions.md, "Allocation of order discounts").

with

sales_lines as (
    select * from {{ ref('int_sales_lines_unioned') }}
    where {{ in_load_window('business_date') }}
),

shares as (
    select
        sales_lines.sales_line_id,
        sales_lines.order_discount_amount,
        case
            when sales_lines.is_return or sales_lines.order_discount_amount = 0 then 0
            else
                {{ round_money(
                    'cast(sales_lines.order_discount_amount as double) * cast(sales_lines.gross_amount as double)'
                    ~ ' / cast(sum(sales_lines.gross_amount) over (partition by sales_lines.channel, sales_lines.order_id)'
                    ~ ' as double)'
                ) }}
        end as rounded_share,
        row_number() over (
            partition by sales_lines.channel, sales_lines.order_id
            order by sales_lines.gross_amount desc, sales_lines.order_line_number asc
        ) as gross_rank
    from sales_lines
    where not sales_lines.is_return
),

allocated as (
    select
        shares.sales_line_id,
        shares.rounded_share
        + case
            when shares.gross_rank = 1
                then
                    shares.order_discount_amount
                    - sum(shares.rounded_share) over (
                        partition by sales_lines.channel, sales_lines.order_id
                    )
            else 0
        end as allocated_discount_amount
    from shares
    inner join sales_lines on shares.sales_line_id = sales_lines.sales_line_id
)

select
    -- every column of step 1 passes through; the wildcard is deliberate
    sales_lines.*,  -- noqa: AM04
    cast(coalesce(allocated.allocated_discount_amount, 0) as decimal(18, 2))
        as allocated_discount_amount,
    cast(
        sales_lines.line_discount_amount + coalesce(allocated.allocated_discount_amount, 0)
        as decimal(18, 2)
    ) as discount_amount
from sales_lines
left join allocated on sales_lines.sales_line_id = allocated.sales_line_id
