{{ config(severity='warn') }}
-- Returns one row per source item code that staged facts use and the ERP cross-reference does
-- not resolve on the business date. The facts keep their rows against the unresolved member,
-- so this is a warning for master data to act on (mart_exceptions carries units and value),
-- not a reason to stop the build.

select
    exceptions.natural_key,
    exceptions.affected_units,
    exceptions.affected_value_reporting,
    exceptions.explanation
from {{ ref('mart_exceptions') }} as exceptions
where exceptions.exception_type = 'unresolved_item_code'
