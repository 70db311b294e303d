-- Webshop customers, one row per hashed identity (the salted hash of the e-mail address; no
-- personal data), from the orders' placed events: the webshop's customer number last used with
-- it, and when and how often it ordered.
with

placed_orders as (
    select
        order_events.customer_hash,
        order_events.customer_id,
        order_events.order_id,
        order_events.business_date,
        order_events.event_at,
        row_number() over (
            partition by order_events.customer_hash
            order by order_events.event_at desc, order_events.event_id desc
        ) as recency_rank
    from {{ ref('stg_webshop__order_events') }} as order_events
    where
        order_events.event_type = 'placed'
        and order_events.customer_hash is not null
),

customers as (
    select
        placed_orders.customer_hash,
        min(placed_orders.business_date) as first_order_date,
        max(placed_orders.business_date) as last_order_date,
        count(distinct placed_orders.order_id) as order_count
    from placed_orders
    group by placed_orders.customer_hash
)

select
    cast(customers.customer_hash as {{ dbt.type_string() }}) as customer_hash,
    cast(latest_orders.customer_id as {{ dbt.type_string() }}) as webshop_customer_id,
    customers.first_order_date,
    customers.last_order_date,
    cast(customers.order_count as integer) as order_count
from customers
inner join placed_orders as latest_orders
    on
        customers.customer_hash = latest_orders.customer_hash
        and latest_orders.recency_rank = 1
