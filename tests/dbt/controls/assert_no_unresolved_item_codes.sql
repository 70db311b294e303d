{{ config(severity='warn') }}
-- Returns one row per source item code that staged facts use and the ERP cross-reference does
-- not resolve on the business date. The facts keep their rows against the unresolved member,
-- so this is a warning for master data to act on (mart_exceptions carries units and value),
-- not a reason to stop the build.

select
    codes.natural_key,
    codes.affected_units,
    codes.affected_value_reporting,
    codes.explanation
from {{ ref('int_exceptions__unresolved_codes') }} as codes
