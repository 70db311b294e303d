"""Render the extract contract as a readable page: python -m ingestion.contract_docs > FILE,
and the raw lake's tables and types: python -m ingestion.contract_docs --lake > FILE.

docs/extract_contract.md and docs/raw_lake.md are this module's output; tests keep them in step
with the contract (and the lake's type rules in ingestion/lake.py).
"""

from __future__ import annotations

import sys

from ingestion.contract import (
    DEFAULT_DAYS_AFTER_DELIVERY,
    DEFAULT_DAYS_BEFORE_DELIVERY,
    DEFAULT_MAX_LENGTH,
    DEFAULT_REDELIVERY_MAX_ROW_LOSS,
    Extract,
    load_contract,
)

HEADER = """# The extract contract

What each source system delivers to the landing zone. Generated from the contract itself, the
dbt source YAML files `models/staging/<system>/_<system>__sources.yml`, by
`python -m ingestion.contract_docs`; do not edit by hand.

Files arrive as `<landing>/<system>/<delivery date YYYY-MM-DD>/<prefix>_<YYYYMMDD>[_<n>].<ext>`:
YYYYMMDD is the business date the file covers, `_<n>` (n >= 2) a re-delivery of that date.
CSV is comma separated and TSV tab separated, both UTF-8 with a header row and `\\n` line ends;
an empty field is null. JSON lines carry one object per line. Dates are `YYYY-MM-DD`, UTC
timestamps `YYYY-MM-DDTHH:MM:SSZ`, local timestamps `YYYY-MM-DD HH:MM:SS` (the location's time
zone), decimals use `.` and booleans `true`/`false`. A column is required unless marked nullable.
A column marked optional may also be left out of a CSV or TSV file altogether (header and rows
stop before it; only trailing columns are optional) and then reads as null.

Rules every row must keep, or ingestion quarantines it with the rule it broke: the column's type
and format, its allowed values and bounds where the table states them, at most 1000 characters
in a text column and 100000 in a JSON column unless stated, and no control characters in text
(any code below 0x20 but the tab, and DEL). A business date more than 3660 days before or 1 day
after the delivery folder's date is rejected unread, as is any symbolic link or non-regular file.
A re-delivery (`_<n>`) with no data rows, or one that would lose more than half of the loaded
rows of the file it replaces, is held until its owner releases it (docs/decisions.md, "No
silent loss"). Limits that differ from these defaults are stated per extract. A delivery that
never arrives, or arrives with no rows where rows are expected (or without a store or site that
delivers every day), makes its business date incomplete in `marts.mart_completeness` and raises
an exception with an estimated impact.
"""

CADENCE = {
    "daily": "one file per business date",
    "weekdays": "one file per weekday",
    "weekly_snapshot": "a full snapshot every seventh day",
    "changes": "change records, only on days with changes",
    "on_event": "sent when there is something to send; optional, never expected",
}


def _limits(e: Extract) -> list[str]:
    """Lines for the extract's limits that differ from the contract's defaults."""
    lines = [
        "* a delivery must hold data rows"
        + (
            f", for every {e.completeness_scope_column} that delivers"
            if e.completeness_scope_column
            else ""
        )
        if e.expect_rows
        else "* a delivery may hold no data rows (a quiet day)"
    ]
    if e.optional:
        lines.append(
            "* optional: a retailer without this business sends none, and an extract never "
            "delivered is no missing delivery"
        )
    if e.redelivery_max_row_loss != DEFAULT_REDELIVERY_MAX_ROW_LOSS:
        lines.append(
            f"* a re-delivery losing more than {e.redelivery_max_row_loss:.0%} of the loaded "
            "rows is held"
        )
    if (e.days_before_delivery, e.days_after_delivery) != (
        DEFAULT_DAYS_BEFORE_DELIVERY,
        DEFAULT_DAYS_AFTER_DELIVERY,
    ):
        lines.append(
            f"* business dates from {e.days_before_delivery} days before to "
            f"{e.days_after_delivery} days after the delivery date"
        )
    return lines


def render_extract(e: Extract) -> str:
    lines = [
        f"### `{e.name}`",
        "",
        e.description,
        "",
        f"* file: `{e.file_prefix}_<YYYYMMDD>.{e.extension}` ({e.file_format}, "
        f"{CADENCE[e.cadence]})",
        f"* natural key: {', '.join(f'`{k}`' for k in e.natural_key)}",
        *(
            [
                f"* change records of `{e.changes_of}`: no file on a day without changes; "
                "once they arrive, its weekly snapshots are no longer expected"
            ]
            if e.changes_of
            else []
        ),
        *_limits(e),
        f"* optional extract: {e.optional_when}" if e.optional_when else "* required extract",
        "",
        "| column | type | required | meaning |",
        "|---|---|---|---|",
    ]
    for c in e.columns:
        notes = []
        if c.accepted_values:
            notes.append("one of " + ", ".join(f"`{v}`" for v in c.accepted_values))
        if c.value_format:
            notes.append(c.value_format.replace("_", " "))
        if c.pii:
            notes.append("personal data")
        if c.fields:
            notes.append("fields " + ", ".join(f"`{k}` {t}" for k, t in c.fields.items()))
        if c.min_value is not None:
            notes.append(f"at least {c.min_value}")
        if c.max_value is not None:
            notes.append(f"at most {c.max_value}")
        if c.max_length is not None and c.max_length != DEFAULT_MAX_LENGTH.get(c.data_type):
            notes.append(f"at most {c.max_length} characters")
        meaning = " ".join(c.description.split())
        if notes:
            meaning += " (" + "; ".join(notes) + ")"
        if c.default is not None:
            required = f"optional, default `{c.default}`"
        elif c.default_from is not None:
            required = f"optional, default from `{c.default_from}`"
        else:
            required = "nullable" if c.nullable else "yes"
        if c.optional:
            required += ", may be left out of the header"
        lines.append(f"| `{c.name}` | {c.data_type} | {required} | {meaning} |")
    return "\n".join(lines)


def render_requirements(contract: dict[str, Extract]) -> str:
    """The section that says which extracts a retailer must send and which it may leave out."""
    required = [e for e in contract.values() if e.optional_when is None]
    optional = [e for e in contract.values() if e.optional_when is not None]
    lines = [
        "## Required and optional extracts",
        "",
        "Required: " + ", ".join(f"`{e.name}`" for e in required) + ".",
        "",
        "Optional (a retailer may send no file of them at all; once an extract has been "
        "delivered, its expected dates follow its cadence in `marts.mart_completeness`):",
        "",
        *[f"* `{e.name}`: {e.optional_when}" for e in optional],
        "",
        "A column marked optional may be empty; staging reads an empty value as its default "
        "(a value, or the named column's value).",
        "",
    ]
    return "\n".join(lines)


def render() -> str:
    contract = load_contract()
    parts = [HEADER, render_requirements(contract)]
    for system in sorted({e.system for e in contract.values()}):
        parts.append(f"## {system}\n")
        owner = next(e for e in contract.values() if e.system == system)
        if owner.owner:
            parts.append(f"Data owner: {owner.owner_name or owner.owner} <{owner.owner}>.\n")
        parts += [render_extract(e) + "\n" for e in contract.values() if e.system == system]
    return "\n".join(parts)


LAKE_HEADER = """# The raw lake

Ingestion mirrors the raw tables of the warehouse as Parquet files, so that any engine (Spark,
DuckDB, anything that reads Parquet) reads the same raw data (ingestion/lake.py;
docs/decisions.md, "The raw lake"). Generated from the contract and the lake's type rules by
`python -m ingestion.contract_docs --lake`; do not edit by hand.

Where: `CONCORD_LAKE_DIR`, else `lake/` beside the warehouse file (`data/lake` by default).

* `raw/<extract>/business_date=YYYY-MM-DD/part-<load_id>.parquet`: the rows of the live file
  of that extract and business date (a part file of no rows for a delivery of none);
* `raw/quarantine/extract=<extract>/business_date=YYYY-MM-DD/part-<load_id>.parquet`: the
  quarantined rows of that live file, when it has any;
* `raw/replaced_rows/extract=<extract>/business_date=YYYY-MM-DD/part-<load_id>.parquet`: the
  rows a file had when a later delivery replaced it (`raw.replaced_rows`), one part file per
  replaced load;
* `raw/load_log/load_log.parquet`: the whole load log, by load id;
* `.part_rows.json`, at the lake's root (no engine reads it): each part file's row count as its
  footer gave it, with the file's identity then, so that a sync reads the footers of new or
  changed part files only.

A partition directory of an extract holds one part file, named after the load id of the live
file; a re-delivery that replaces it replaces the part file (and adds the replaced load's part
file to the replaced rows). Hive-style directory names add the columns `business_date` (and
`extract` for quarantine and the replaced rows) to a reader that asks for Hive partitioning; the
files themselves hold exactly the raw table's columns, in its order, lineage columns included.

Types: the raw table's, except JSON, written as VARCHAR (its text), and TIMESTAMP, written as
a UTC-adjusted Parquet timestamp (`TIMESTAMP WITH TIME ZONE` in DuckDB, `TIMESTAMP` in Spark):
read it with the session time zone UTC. A local timestamp (`transaction_local_time`) is written
the same way: its UTC reading is the local wall-clock time, as in raw.
"""


def render_lake() -> str:
    """The raw lake's page: layout, type rules and each table's columns and lake types."""
    from ingestion.lake import lake_tables, lake_type, spark_type  # the lake's own rules

    parts = [LAKE_HEADER]
    for table in lake_tables():
        lines = [
            f"## `{table.name}`",
            "",
            "| column | raw type | lake type (DuckDB) | Spark type |",
            "|---|---|---|---|",
        ]
        for name, raw_type in table.columns:
            lake = lake_type(raw_type)
            lines.append(f"| `{name}` | {raw_type} | {lake} | {spark_type(lake)} |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render_lake() if sys.argv[1:] == ["--lake"] else render())
