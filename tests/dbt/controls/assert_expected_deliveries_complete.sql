{{ config(severity='warn') }}
-- Returns one row per business date and extract (and store or site) that the contract expected
-- and that is not complete: missing, empty, failed, held or wholly quarantined. A finding for
-- integration to chase (mart_exceptions routes it), not a reason to stop the build: a warning.

select
    completeness.business_date,
    completeness.extract_name,
    completeness.scope_code,
    completeness.status,
    completeness.estimated_missing_rows,
    completeness.estimated_missing_value_reporting
from {{ ref('mart_completeness') }} as completeness
where completeness.is_expected and not completeness.is_complete
