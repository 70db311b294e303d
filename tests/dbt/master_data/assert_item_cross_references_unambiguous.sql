-- Returns one row per pair of ERP cross-reference ranges, as the ERP states them (its own
-- valid_to, before any overlap is cut), that give one source item code two different SKUs on
-- a common date. Such a code is ambiguous: the crosswalk would resolve it by "the later start
-- wins", but the ERP contradicts itself and master data must fix it.

select
    earlier.source_system,
    earlier.source_item_code,
    earlier.sku as earlier_sku,
    earlier.valid_from_date as earlier_valid_from_date,
    earlier.stated_valid_to_date as earlier_valid_to_date,
    later.sku as later_sku,
    later.valid_from_date as later_valid_from_date,
    later.stated_valid_to_date as later_valid_to_date
from {{ ref('int_item_cross_references_dated') }} as earlier
inner join {{ ref('int_item_cross_references_dated') }} as later
    on
        earlier.source_system = later.source_system
        and earlier.source_item_code = later.source_item_code
        and earlier.valid_from_date < later.valid_from_date
        and earlier.sku <> later.sku
        and (
            earlier.stated_valid_to_date is null
            or earlier.stated_valid_to_date >= later.valid_from_date
        )
