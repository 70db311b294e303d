-- The ERP item cross-reference as validity ranges, from the history of its weekly snapshots and
-- its change records. Each mapping (source system, item code, valid from) is taken as the
-- latest snapshot or change record that mentions it states it; a mapping whose latest change
-- record deletes it is gone (macro current_ranges). Should two ranges of one code overlap, the
-- one that starts later wins from its start on: the earlier one is cut the day before
-- (docs/decisions.md), so that a fact finds at most one SKU for a code on any business date.
with

mentions as (
    {{ current_ranges(
        ref('stg_erp__item_cross_references'),
        ref('stg_erp__item_cross_reference_changes'),
        [
            'source_system',
            'source_item_code',
            'sku',
            'valid_from_date',
            'valid_to_date',
        ],
        [
            'source_system',
            'source_item_code',
            'valid_from_date',
        ],
    ) }}
),

ranges as (
    select
        mentions.source_system,
        mentions.source_item_code,
        mentions.sku,
        mentions.valid_from_date,
        mentions.valid_to_date as stated_valid_to_date,
        mentions.stated_date as last_snapshot_date,
        lead(mentions.valid_from_date) over (
            partition by mentions.source_system, mentions.source_item_code
            order by mentions.valid_from_date
        ) as next_valid_from_date
    from mentions
),

clipped as (
    select
        ranges.source_system,
        ranges.source_item_code,
        ranges.sku,
        ranges.valid_from_date,
        ranges.stated_valid_to_date,
        ranges.last_snapshot_date,
        case
            when
                ranges.next_valid_from_date is not null
                and (
                    ranges.stated_valid_to_date is null
                    or ranges.stated_valid_to_date >= ranges.next_valid_from_date
                )
                then cast({{ dbt.dateadd('day', -1, 'ranges.next_valid_from_date') }} as date)
            else ranges.stated_valid_to_date
        end as valid_to_date
    from ranges
)

select
    clipped.source_system,
    clipped.source_item_code,
    clipped.sku,
    clipped.valid_from_date,
    clipped.valid_to_date,
    clipped.stated_valid_to_date,
    clipped.last_snapshot_date
from clipped
