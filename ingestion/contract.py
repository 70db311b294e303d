"""The extract contract: one machine-readable definition of every landing-zone extract.

The contract lives in the dbt source YAML files under ``models/staging/<system>/`` so that dbt
documents the raw tables from the very definition that the simulation writes and ingestion
validates. This module reads those files into plain data classes.

Landing layout:
``<landing>/<system>/<delivery date YYYY-MM-DD>/<file_prefix>_<YYYYMMDD>[_<n>].<ext>``,
where YYYYMMDD is the business date the file covers and ``_<n>`` (n >= 2) marks a re-delivery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STAGING_DIR = PROJECT_ROOT / "models" / "staging"

FORMAT_EXTENSIONS = {"csv": "csv", "tsv": "tsv", "jsonl": "jsonl", "parquet": "parquet"}
# "changes": change records of a snapshot extract (meta ``changes_of``), delivered only on days
# with changes, so never expected on any date (docs/decisions.md, "Master data as change
# records"). "on_event": sent when there is something to send (opening balances), never
# expected on a date.
CADENCES = {"daily", "weekdays", "weekly_snapshot", "changes", "on_event"}

# Text forms used in delimited and JSON files (Parquet carries native types).
DATE_FORMAT = "%Y-%m-%d"
UTC_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
LOCAL_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

FILE_NAME_RE = re.compile(
    r"^(?P<prefix>[a-z][a-z_]*?)_(?P<business_date>\d{8})(?:_(?P<sequence>[2-9]|[1-9]\d+))?"
    r"\.(?P<extension>[a-z]+)\Z",  # \Z, not $: "$" also matches before a trailing newline
    re.ASCII,  # \d is 0-9 only: int() reads other digits ('_1٣' would be sequence 13)
)

LINEAGE_COLUMNS = ("_source_system", "_source_file", "_source_row_number", "_load_id", "_loaded_at")

# Contract defaults an extract's meta may override (docs/decisions.md, "No silent loss").
# A re-delivery that would drop more than this share of the live file's loaded rows is held
# (meta ``redelivery_max_row_loss``); a re-delivery with no data rows is always held.
DEFAULT_REDELIVERY_MAX_ROW_LOSS = 0.5
# Business dates a file name may carry, relative to its delivery folder's date (meta
# ``business_date_window: {days_before_delivery: N, days_after_delivery: M}``): late files and
# backfills arrive long after their date; a date after the delivery is only plausible across
# time zones.
DEFAULT_DAYS_BEFORE_DELIVERY = 3660
DEFAULT_DAYS_AFTER_DELIVERY = 1
# Longest text a column may hold unless its meta says ``max_length`` (characters).
DEFAULT_MAX_LENGTH = {"varchar": 1000, "json": 100_000}


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str
    nullable: bool = False
    accepted_values: tuple[str, ...] | None = None
    value_format: str | None = None
    pii: bool = False
    fields: dict[str, str] | None = None
    min_value: float | None = None  # inclusive bounds of a number (meta min_value / max_value)
    max_value: float | None = None
    max_length: int | None = None  # characters of a varchar or json value
    default: str | None = None  # what staging reads an empty optional value as (meta default)
    default_from: str | None = None  # or the column whose value it takes (meta default_from)
    optional: bool = False  # a trailing nullable column a text file's header may leave out

    @property
    def length_limit(self) -> int | None:
        """The longest text the column accepts (its own max_length or the type's default)."""
        return self.max_length or DEFAULT_MAX_LENGTH.get(self.data_type)


@dataclass(frozen=True)
class Extract:
    name: str
    system: str
    description: str
    file_prefix: str
    file_format: str
    cadence: str
    natural_key: tuple[str, ...]
    columns: tuple[Column, ...] = field(default_factory=tuple)
    redelivery_max_row_loss: float = DEFAULT_REDELIVERY_MAX_ROW_LOSS
    expect_rows: bool = True  # may a delivery legitimately hold no data rows? (completeness)
    optional: bool = False  # a retailer without that business sends none (never missing)
    completeness_scope_column: str | None = None  # each store/site is expected in every file
    days_before_delivery: int = DEFAULT_DAYS_BEFORE_DELIVERY
    days_after_delivery: int = DEFAULT_DAYS_AFTER_DELIVERY
    changes_of: str | None = None  # the snapshot extract whose change records this carries
    # when a retailer may send no file of this extract at all (meta ``optional``); None: required
    optional_when: str | None = None
    # the source system's data owner (its source's meta owner): e-mail, and name or team
    owner: str | None = None
    owner_name: str | None = None

    @property
    def extension(self) -> str:
        return FORMAT_EXTENSIONS[self.file_format]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_column_count(self) -> int:
        """How many leading columns every text file's header must name (the optional
        columns trail them)."""
        return sum(1 for c in self.columns if not c.optional)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"extract {self.name} has no column {name!r}")

    def file_name(self, business_date: str, sequence: int = 1) -> str:
        """File name for a business date given as YYYY-MM-DD (sequence >= 2 is a re-delivery)."""
        suffix = f"_{sequence}" if sequence > 1 else ""
        return f"{self.file_prefix}_{business_date.replace('-', '')}{suffix}.{self.extension}"


def _meta(node: dict) -> dict:
    return (node.get("config") or {}).get("meta") or {}


def _parse_column(node: dict) -> Column:
    meta = _meta(node)
    accepted = meta.get("accepted_values")
    return Column(
        name=node["name"],
        data_type=node["data_type"],
        description=str(node.get("description", "")).strip(),
        nullable=bool(meta.get("nullable", False)),
        accepted_values=tuple(str(v) for v in accepted) if accepted else None,
        value_format=meta.get("format"),
        pii=bool(meta.get("pii", False)),
        fields=meta.get("fields"),
        min_value=meta.get("min_value"),
        max_value=meta.get("max_value"),
        max_length=int(meta["max_length"]) if meta.get("max_length") is not None else None,
        default=str(meta["default"]) if meta.get("default") is not None else None,
        default_from=meta.get("default_from"),
        optional=bool(meta.get("optional", False)),
    )


# libyaml's safe loader when PyYAML was built with it (the pinned wheels are): the same documents
# as yaml.safe_load, parsed in C (0.08 s of CPU less at every start-up: docs/benchmarks.md)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_source_file(path: Path) -> list[Extract]:
    document = yaml.load(path.read_text(), Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
    extracts = []
    for source in document.get("sources", []):
        system = _meta(source).get("system", source["name"])
        owner = _meta(source).get("owner") or {}
        for table in source.get("tables", []):
            meta = _meta(table)
            window = meta.get("business_date_window") or {}
            extract = Extract(
                name=table["name"],
                system=system,
                description=" ".join(str(table.get("description", "")).split()),
                file_prefix=meta["file_prefix"],
                file_format=meta["format"],
                cadence=meta["cadence"],
                natural_key=tuple(meta["natural_key"]),
                columns=tuple(_parse_column(c) for c in table["columns"]),
                expect_rows=bool(meta.get("expect_rows", True)),
                optional=bool(meta.get("optional", False)),
                completeness_scope_column=meta.get("completeness_scope_column"),
                changes_of=meta.get("changes_of"),
                redelivery_max_row_loss=float(
                    meta.get("redelivery_max_row_loss", DEFAULT_REDELIVERY_MAX_ROW_LOSS)
                ),
                days_before_delivery=int(
                    window.get("days_before_delivery", DEFAULT_DAYS_BEFORE_DELIVERY)
                ),
                days_after_delivery=int(
                    window.get("days_after_delivery", DEFAULT_DAYS_AFTER_DELIVERY)
                ),
                optional_when=(
                    " ".join(str(meta["optional"]).split()) if meta.get("optional") else None
                ),
                owner=owner.get("email"),
                owner_name=owner.get("name"),
            )
            _check(extract, path)
            extracts.append(extract)
    return extracts


def _check(extract: Extract, path: Path) -> None:
    where = f"{path.name}: extract {extract.name}"
    if extract.file_format not in FORMAT_EXTENSIONS:
        raise ValueError(f"{where}: unknown format {extract.file_format!r}")
    if extract.cadence not in CADENCES:
        raise ValueError(f"{where}: unknown cadence {extract.cadence!r}")
    if (extract.cadence == "changes") != (extract.changes_of is not None):
        raise ValueError(f"{where}: cadence changes and meta changes_of go together")
    names = extract.column_names
    missing = [k for k in extract.natural_key if k not in names]
    if missing:
        raise ValueError(f"{where}: natural key columns {missing} are not columns")
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: duplicate column names")
    optional = [c.optional for c in extract.columns]
    if any(optional[: extract.required_column_count]):
        raise ValueError(f"{where}: optional columns must come after every required column")
    if any(c.optional and not c.nullable for c in extract.columns):
        raise ValueError(f"{where}: an optional column must be nullable")
    if not 0 <= extract.redelivery_max_row_loss <= 1:
        raise ValueError(f"{where}: redelivery_max_row_loss must be a share between 0 and 1")
    if extract.days_before_delivery < 0 or extract.days_after_delivery < 0:
        raise ValueError(f"{where}: business_date_window days must not be negative")
    for c in extract.columns:
        if (c.default is not None or c.default_from is not None) and not c.nullable:
            raise ValueError(f"{where}: column {c.name} has a default but is not nullable")
        if c.default_from is not None and c.default_from not in names:
            raise ValueError(f"{where}: column {c.name} defaults from unknown {c.default_from!r}")


def max_days_after_delivery() -> int:
    """The furthest a business date may lie after its delivery date, over every extract."""
    return max(e.days_after_delivery for e in load_contract().values())


@lru_cache(maxsize=4)
def load_contract(staging_dir: Path = STAGING_DIR) -> dict[str, Extract]:
    """Every extract of every source system, keyed by extract (raw table) name."""
    extracts: dict[str, Extract] = {}
    for path in sorted(staging_dir.glob("*/_*__sources.yml")):
        for extract in _parse_source_file(path):
            if extract.name in extracts:
                raise ValueError(f"{path}: extract {extract.name} defined twice")
            extracts[extract.name] = extract
    if not extracts:
        raise ValueError(f"no extract contract found under {staging_dir}")
    for extract in extracts.values():
        base = extracts.get(extract.changes_of) if extract.changes_of else None
        if extract.changes_of and (base is None or base.cadence != "weekly_snapshot"):
            raise ValueError(
                f"extract {extract.name}: changes_of {extract.changes_of!r} is not a weekly "
                "snapshot extract"
            )
    return extracts


def extract_for_prefix(prefix: str) -> Extract | None:
    for extract in load_contract().values():
        if extract.file_prefix == prefix:
            return extract
    return None
