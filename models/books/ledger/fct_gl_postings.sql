-- The general ledger the warehouse posts from operational events (docs/glossary.md, Postings): one
-- balanced journal per business date, entity, location and event type (and channel for sales),
-- one line per account, in the entity's functional and the group reporting currency. Each
-- component of the journal's events (fct_gl_posting_events, summed) debits and credits the
-- accounts seed posting_rules names for it (a negative amount swaps the sides); lines net per
-- account. Every journal drills down to its events and their files through journal_id.
-- A journal whose events net to nothing (a transfer at zero cost, a gain and a loss that cancel)
-- is kept, as zero lines on the accounts its rules touch, so that every event has its journal
-- (docs/decisions.md, "Journals that net to zero"); otherwise a line that nets to zero is left
-- out. A journal posts on its posting_date: its business date, unless its events arrived after
-- their period's close (an adjustment naming that period in adjusts_period_start_date).
-- Rebuilt by load as fct_gl_posting_events is, on the posting date: a journal's events share its
-- business date, posting date and event type, so a build rewrites whole journals
-- (docs/decisions.md, "Incremental postings").
-- depends_on: {{ ref('int_receipt_costs_backdated') }}

with

events as (
    select * from {{ ref('fct_gl_posting_events') }}
    where {{ in_rows_replaced() }}
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
        events.posting_date,
        events.adjusts_period_start_date,
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
        events.reporting_currency_code,
        events.posting_date,
        events.adjusts_period_start_date
),

-- one row per journal and amount component that carries an amount (any component a journal
-- carries, even at zero: whether the journal nets to zero is known only per account, below)
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
            journals.{{ component }}_amount is not null
            or journals.{{ component }}_amount_reporting is not null
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
),

-- the lines kept: those with an amount, and every line of a journal that nets to zero
flagged as (
    select
        netted.*,
        max(
            case
                when netted.net_amount <> 0 or netted.net_amount_reporting <> 0 then 1
                else 0
            end
        ) over (partition by netted.journal_id) as journal_has_amount
    from netted
),

kept as (
    select flagged.*
    from flagged
    where
        flagged.net_amount <> 0
        or flagged.net_amount_reporting <> 0
        or flagged.journal_has_amount = 0
)

select
    {{ dbt.concat(['journals.journal_id', "':'", 'kept.account_code']) }} as posting_line_id,
    journals.journal_id,
    journals.business_date,
    journals.entity_code,
    journals.location_id,
    journals.channel,
    journals.event_type,
    kept.account_code,
    kept.account_role,
    cast(case when kept.net_amount > 0 then kept.net_amount else 0 end as decimal(18, 2))
        as debit_amount,
    cast(case when kept.net_amount < 0 then -kept.net_amount else 0 end as decimal(18, 2))
        as credit_amount,
    journals.functional_currency_code as currency_code,
    cast(
        case when kept.net_amount_reporting > 0 then kept.net_amount_reporting else 0 end
        as decimal(18, 2)
    ) as debit_amount_reporting,
    cast(
        case when kept.net_amount_reporting < 0 then -kept.net_amount_reporting else 0 end
        as decimal(18, 2)
    ) as credit_amount_reporting,
    journals.reporting_currency_code,
    journals.event_count,
    journals.source_file_count,
    journals.posting_date,
    journals.adjusts_period_start_date
from kept
inner join journals on kept.journal_id = journals.journal_id
