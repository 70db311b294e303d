-- The ERP selling price list as validity ranges, from the history of its weekly snapshots and
-- its change records: one row per entity, SKU and validity start, as the latest snapshot or
-- change record that mentions it states it (a range whose latest change record deletes it is
-- gone; macro current_ranges). Should two ranges of one entity and SKU overlap, the one that
-- starts later wins from its start on (the earlier is cut the day before), so a business date
-- finds at most one price.
with

mentions as (
    {{ current_ranges(
        ref('stg_erp__prices'),
        ref('stg_erp__price_changes'),
        [
            'entity_code',
            'sku',
            'valid_from_date',
            'valid_to_date',
            'unit_price',
            'currency_code',
        ],
        [
            'entity_code',
            'sku',
            'valid_from_date',
        ],
    ) }}
),

ranges as (
    select
        mentions.entity_code,
        mentions.sku,
        mentions.valid_from_date,
        mentions.valid_to_date as stated_valid_to_date,
        mentions.unit_price,
        mentions.currency_code,
        mentions.stated_date as last_snapshot_date,
        lead(mentions.valid_from_date) over (
            partition by mentions.entity_code, mentions.sku
            order by mentions.valid_from_date
        ) as next_valid_from_date
    from mentions
)

select
    ranges.entity_code,
    ranges.sku,
    ranges.valid_from_date,
    case
        when
            ranges.next_valid_from_date is not null
            and (
                ranges.stated_valid_to_date is null
                or ranges.stated_valid_to_date >= ranges.next_valid_from_date
            )
            then cast({{ dbt.dateadd('day', -1, 'ranges.next_valid_from_date') }} as date)
        else ranges.stated_valid_to_date
    end as valid_to_date,
    ranges.stated_valid_to_date,
    ranges.unit_price,
    ranges.currency_code,
    ranges.last_snapshot_date
from ranges
