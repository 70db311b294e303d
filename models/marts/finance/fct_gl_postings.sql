-- The general ledger the warehouse posts from operational events (GLOSSARY.md, Postings): one
-- balanced journal per business date, entity, location and event type (and channel for sales),
-- one line per account, in the entity's functional and the group reporting currency. Each
-- component of the journal's events (fct_gl_posting_events, summed) debits and credits the
-- accounts seed posting_rules names for it (a negative amount swaps the sides); lines net per
-- account. Every journal drills down to its events and their files through journal_id.

with

events as (
    select * from {{ ref('fct_gl_posting_events') }}
),

rules as (
    select * from {{ ref('posting_rules') }}
),

accounts as (
    select * from {{ ref('dim_account') }}
),

channels as (
    select * from {{ ref('dim_channel') }}
),

journals as (
    select
        events.journal_id,
        events.business_date,
        events.entity_code,
        events.location_id,
        events.channel,
        events.event_type,
        events.functional_currency_code,
        events.reporting_currency_code,
        count(*) as event_count,
        count(distinct events.source_file) as source_file_count,
    {%- for component in posting_amount_components() %}
        sum(events.{{ component }}_amount) as {{ component }}_amount,
        sum(events.{{ component }}_amount_reporting) as {{ component }}_amount_reporting
        {{- ',' if not loop.last }}
    {%- endfor %}
    from events
    group by
        events.journal_id,
        events.business_date,
        events.entity_code,
        events.location_id,
        events.channel,
        events.event_type,
        events.functional_currency_code,
        events.reporting_currency_code
),

-- one row per journal and amount component that carries an amount
components as (
    {%- for component in posting_amount_components() %}
        select
            journals.journal_id,
            journals.event_type,
            journals.channel,
            '{{ component }}' as amount_component,
            coalesce(journals.{{ component }}_amount, 0) as amount,
            coalesce(journals.{{ component }}_amount_reporting, 0) as amount_reporting
        from journals
        where
            journals.{{ component }}_amount <> 0
            or journals.{{ component }}_amount_reporting <> 0
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- each component debits one role and credits another: positive amounts are debits
sides as (
    select
        components.journal_id,
        components.channel,
        rules.debit_account_role as account_role,
        components.amount as signed_amount,
        components.amount_reporting as signed_amount_reporting
    from components
    inner join rules
        on
            components.event_type = rules.event_type
            and components.amount_component = rules.amount_component
    union all
    select
        components.journal_id,
        components.channel,
        rules.credit_account_role as account_role,
        -components.amount as signed_amount,
        -components.amount_reporting as signed_amount_reporting
    from components
    inner join rules
        on
            components.event_type = rules.event_type
            and components.amount_component = rules.amount_component
),

netted as (
    select
        sides.journal_id,
        accounts.account_code,
        accounts.account_role,
        sum(sides.signed_amount) as net_amount,
        sum(sides.signed_amount_reporting) as net_amount_reporting
    from sides
    left join channels on sides.channel = channels.channel
    inner join accounts
        on
            accounts.account_role = case
                when sides.account_role = 'channel_clearing' then channels.clearing_account_role
                else sides.account_role
            end
    group by
        sides.journal_id,
        accounts.account_code,
        accounts.account_role
)

select
    {{ dbt.concat(['journals.journal_id', "':'", 'netted.account_code']) }} as posting_line_id,
    journals.journal_id,
    journals.business_date,
    journals.entity_code,
    journals.location_id,
    journals.channel,
    journals.event_type,
    netted.account_code,
    netted.account_role,
    cast(case when netted.net_amount > 0 then netted.net_amount else 0 end as decimal(18, 2))
        as debit_amount,
    cast(case when netted.net_amount < 0 then -netted.net_amount else 0 end as decimal(18, 2))
        as credit_amount,
    journals.functional_currency_code as currency_code,
    cast(
        case when netted.net_amount_reporting > 0 then netted.net_amount_reporting else 0 end
        as decimal(18, 2)
    ) as debit_amount_reporting,
    cast(
        case when netted.net_amount_reporting < 0 then -netted.net_amount_reporting else 0 end
        as decimal(18, 2)
    ) as credit_amount_reporting,
    journals.reporting_currency_code,
    journals.event_count,
    journals.source_file_count
from netted
inner join journals on netted.journal_id = journals.journal_id
where netted.net_amount <> 0 or netted.net_amount_reporting <> 0
