-- The owners' latest decision on each exception (seed exception_actions, finance edits it): one
-- row per exception id. On one date a decision that closes or frees the exception (waive,
-- confirm_genuine, release) outranks an acknowledgement. The queue's status, the landed cost's
-- held charges and the held re-deliveries all read their decision here.

with

ranked as (
    select
        exception_actions.exception_id,
        exception_actions.action,
        exception_actions.reason,
        exception_actions.actor,
        exception_actions.action_date,
        row_number() over (
            partition by exception_actions.exception_id
            order by
                exception_actions.action_date desc,
                case exception_actions.action when 'acknowledge' then 2 else 1 end asc,
                exception_actions.action asc
        ) as action_rank
    from {{ ref('exception_actions') }} as exception_actions
)

select
    ranked.exception_id,
    ranked.action,
    ranked.reason,
    ranked.actor,
    ranked.action_date
from ranked
where ranked.action_rank = 1
