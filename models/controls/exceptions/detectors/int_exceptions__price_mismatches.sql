-- The exception queue's POS price mismatches: a store sale line whose unit price differs from
-- the list price valid for its entity, SKU and business date (dim_product_price). Promotions
-- reach the till as discounts on the line (discount_amount), never as another unit price, so a
-- unit price that is not the list price is a mismatch. One row per sale line; the impact is
-- (unit price - list price) x units in the reporting currency. Unresolved codes have no list
-- price and are left to their own exception.

with

-- the channels whose sales must be at the list price (seed channels: the stores; wholesale
-- prices are negotiated)
sale_lines as (
    select sales_lines.*
    from {{ ref('fct_sales_lines') }} as sales_lines
    inner join {{ ref('dim_channel') }} as channels
        on sales_lines.channel = channels.channel
    where
        channels.checks_list_price
        and not sales_lines.is_return
        and sales_lines.sku <> '{{ var("unresolved_sku") }}'
        -- as the channel recorded them: not a closed period's booked line nor its reversal
        and sales_lines.restatement_role is null
),

priced as (
    select
        sale_lines.*,
        prices.list_price,
        prices.currency_code as list_currency_code
    from sale_lines
    left join {{ ref('dim_product_price') }} as prices
        on
            sale_lines.entity_code = prices.entity_code
            and sale_lines.sku = prices.sku
            and sale_lines.business_date >= prices.valid_from_date
            and (prices.valid_to_date is null or sale_lines.business_date <= prices.valid_to_date)
),

mismatched as (
    select
        priced.*,
        (priced.unit_price - priced.list_price) * priced.units as price_difference,
        (priced.unit_price - priced.list_price) * priced.units
        * rates.exchange_rate as price_difference_reporting
    from priced
    {{ join_fx_rate('rates', 'priced.business_date', 'priced.currency_code') }}
    where priced.list_price is null or priced.unit_price <> priced.list_price
)

select
    {{ dbt.hash("'pos_price_mismatch|' || mismatched.sales_line_id") }} as exception_id,
    'pos_price_mismatch' as exception_type,
    mismatched.sales_line_id as natural_key,
    mismatched.entity_code,
    mismatched.location_id,
    mismatched.sku,
    mismatched.source_system,
    cast(mismatched.units as bigint) as affected_units,
    {{ round_money('abs(mismatched.price_difference_reporting)') }} as affected_value_reporting,
    {{ reporting_currency_code() }} as reporting_currency_code,
    'Receipt ' || mismatched.order_id || ' line '
    || {{ to_text('mismatched.order_line_number') }} || ' at ' || mismatched.location_id
    || ' on ' || {{ to_text('mismatched.business_date') }} || ' charged '
    || {{ to_text('mismatched.unit_price') }} || ' ' || mismatched.currency_code || ' for '
    || mismatched.sku || ' x ' || {{ to_text('mismatched.units') }}
    || case
        when mismatched.list_price is null
            then ', which has no list price valid that day'
        else
            ', list price ' || {{ to_text('mismatched.list_price') }} || ' '
            || mismatched.list_currency_code || ': '
            || {{ to_text(round_money('mismatched.price_difference')) }} || ' '
            || mismatched.currency_code || ' '
            || case when mismatched.price_difference > 0 then 'above' else 'below' end
            || ' the list'
    end || ' (' || mismatched.source_file || ' row '
    || {{ to_text('mismatched.source_row_number') }} || ').' as explanation,
    mismatched.business_date as first_seen_date,
    mismatched.business_date as last_seen_date,
    cast(null as date) as resolved_date,
    cast(null as date) as raised_date
from mismatched
