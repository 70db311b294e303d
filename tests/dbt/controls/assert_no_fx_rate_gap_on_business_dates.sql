-- Returns one row per business date and currency pair that staged facts need converting but
-- that has no ERP rate within dbt var fx_max_gap_days days (the docs/glossary.md gap rule): their
-- amounts would convert to null. The exception queue lists them: this test reads the queue's
-- FX gap type, which depends on no fact, so that it runs (and blocks publishing) even when the
-- gap makes the facts' own tests fail and skip everything downstream of them.

select
    gaps.exception_id,
    gaps.natural_key,
    gaps.affected_value_reporting,
    gaps.explanation
from {{ ref('int_exceptions__fx_gaps') }} as gaps
