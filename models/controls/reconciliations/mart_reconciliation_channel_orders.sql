-- Reconciliation channel_orders (docs/glossary.md, Reconciliations): what each channel the
-- seed channels reconciles (webshop, marketplace, wholesale) charged its customers against what
-- reached the ERP, per entity, business date and channel, in the entity's currency. Left: the
-- channel's order lines (fct_sales_lines) at what the customer paid, net sales plus tax, refunds
-- negative, with the number of orders and refunds. Right: the ERP's posting to the channel's
-- clearing account (dim_channel) by the cutoff; a channel that settles net of its fees (the
-- marketplace) has the ERP's fee expense added back. A date the ERP extract does not cover yet
-- is pending.

with

channels as (
    select * from {{ ref('dim_channel') }}
    where reconciles_orders_to_gl
),

orders as (
    select
        sales_lines.entity_code,
        sales_lines.business_date,
        sales_lines.channel,
        sum(
            case when sales_lines.is_return then -1 else 1 end
            * (sales_lines.net_amount_functional + sales_lines.tax_amount_functional)
        ) as charged_amount,
        count(distinct case when not sales_lines.is_return then sales_lines.order_id end)
            as order_count,
        count(distinct case when sales_lines.is_return then sales_lines.order_id end)
            as refund_count
    from {{ ref('fct_sales_lines') }} as sales_lines
    inner join channels on sales_lines.channel = channels.channel
    group by
        sales_lines.entity_code,
        sales_lines.business_date,
        sales_lines.channel
),

erp_lines as (
    select * from {{ ref('int_erp_gl_postings_dated') }}
),

erp as (
    select
        erp_lines.entity_code,
        erp_lines.source_business_date as business_date,
        channels.channel,
        sum(erp_lines.net_amount) as clearing_amount
    from erp_lines
    inner join channels on erp_lines.account_code = channels.clearing_account_code
    where erp_lines.is_posted_by_cutoff
    group by
        erp_lines.entity_code,
        erp_lines.source_business_date,
        channels.channel

    union all

    -- a channel that settles net of its fees: the ERP's fee expense is added back
    select
        erp_lines.entity_code,
        erp_lines.source_business_date as business_date,
        channels.channel,
        sum(erp_lines.net_amount) as clearing_amount
    from erp_lines
    inner join channels on erp_lines.account_code = channels.fee_account_code
    where erp_lines.is_posted_by_cutoff
    group by
        erp_lines.entity_code,
        erp_lines.source_business_date,
        channels.channel
),

erp_charged as (
    select
        erp.entity_code,
        erp.business_date,
        erp.channel,
        sum(erp.clearing_amount) as charged_amount
    from erp
    group by
        erp.entity_code,
        erp.business_date,
        erp.channel
),

erp_coverage as (
    {{ erp_gl_coverage('erp_lines') }}
),

comparisons as (
    select
        'channel_orders' as reconciliation_name,
        coalesce(orders.entity_code, erp_charged.entity_code) as entity_code,
        coalesce(orders.business_date, erp_charged.business_date) as comparison_date,
        coalesce(orders.channel, erp_charged.channel) as channel,
        cast(coalesce(orders.charged_amount, 0) as decimal(18, 2)) as left_value,
        cast(coalesce(erp_charged.charged_amount, 0) as decimal(18, 2)) as right_value,
        coalesce(orders.order_count, 0) as order_count,
        coalesce(orders.refund_count, 0) as refund_count,
        {{ erp_gl_due_columns('coalesce(orders.business_date, erp_charged.business_date)') }}
    from orders
    full outer join erp_charged
        on
            orders.entity_code = erp_charged.entity_code
            and orders.business_date = erp_charged.business_date
            and orders.channel = erp_charged.channel
    cross join erp_coverage
),

assessed as (
    {{ reconciliation_assessed('comparisons') }}
)

select
    {{ reconciliation_common_columns(
        comparison_id="'channel_orders|' || assessed.entity_code || '|' || assessed.channel || '|'"
        ~ " || " ~ to_text('assessed.comparison_date'),
        value_unit='entities.functional_currency_code',
    ) }},
    channels.channel_name || ' orders of ' || assessed.entity_code || ' on '
    || {{ to_text('assessed.comparison_date') }} || ': '
    || {{ to_text('assessed.order_count') }} || ' orders and '
    || {{ to_text('assessed.refund_count') }} || ' refunds charged '
    || {{ to_text('assessed.left_value') }} || ' ' || entities.functional_currency_code
    || ' (net sales plus tax), ERP clearing posted by '
    || {{ to_text(add_days(var('erp_gl_posting_lag_days'), 'assessed.comparison_date')) }}
    || ' ' || {{ to_text('assessed.right_value') }} || ' ' || entities.functional_currency_code
    || {{ difference_text() }}
    || case
        when assessed.status = 'pending' then {{ erp_pending_text() }}
        else ''
    end || '.' as explanation,
    assessed.channel,
    cast(assessed.order_count as bigint) as order_count,
    cast(assessed.refund_count as bigint) as refund_count
from assessed
left join {{ ref('dim_entity') }} as entities on assessed.entity_code = entities.entity_code
left join channels on assessed.channel = channels.channel
{{ join_fx_rate(
    'reporting_rates', 'assessed.comparison_date', 'entities.functional_currency_code'
) }}
