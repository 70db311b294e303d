"""Render the extract contract as a readable page: python -m ingestion.contract_docs > FILE.

docs/extract_contract.md is this module's output; a test keeps it in step with the contract.
"""

from __future__ import annotations

import sys

from ingestion.contract import Extract, load_contract

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
"""

CADENCE = {
    "daily": "one file per business date",
    "weekdays": "one file per weekday",
    "weekly_snapshot": "a full snapshot every seventh day",
}


def render_extract(e: Extract) -> str:
    lines = [
        f"### `{e.name}`",
        "",
        e.description,
        "",
        f"* file: `{e.file_prefix}_<YYYYMMDD>.{e.extension}` ({e.file_format}, "
        f"{CADENCE[e.cadence]})",
        f"* natural key: {', '.join(f'`{k}`' for k in e.natural_key)}",
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
        if c.max_length:
            notes.append(f"at most {c.max_length} characters")
        if c.pii:
            notes.append("personal data")
        if c.fields:
            notes.append("fields " + ", ".join(f"`{k}` {t}" for k, t in c.fields.items()))
        meaning = " ".join(c.description.split())
        if notes:
            meaning += " (" + "; ".join(notes) + ")"
        required = "nullable" if c.nullable else "yes"
        lines.append(f"| `{c.name}` | {c.data_type} | {required} | {meaning} |")
    return "\n".join(lines)


def render() -> str:
    contract = load_contract()
    parts = [HEADER]
    for system in sorted({e.system for e in contract.values()}):
        parts.append(f"## {system}\n")
        parts += [render_extract(e) + "\n" for e in contract.values() if e.system == system]
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
