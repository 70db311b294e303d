-- Returns one row per business date and currency pair that staged facts need converting but
-- that has no ERP rate within dbt var fx_max_gap_days days (the GLOSSARY.md gap rule): their
-- amounts would convert to null. The exception queue lists them (mart_exceptions is built
-- first: this test reads it, so it blocks publishing without hiding the exception).

select
    exceptions.exception_id,
    exceptions.natural_key,
    exceptions.affected_value_reporting,
    exceptions.explanation
from {{ ref('mart_exceptions') }} as exceptions
where exceptions.exception_type = 'fx_rate_gap'
