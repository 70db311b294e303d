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
CADENCES = {"daily", "weekdays", "weekly_snapshot"}

# Text forms used in delimited and JSON files (Parquet carries native types).
DATE_FORMAT = "%Y-%m-%d"
UTC_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
LOCAL_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

FILE_NAME_RE = re.compile(
    r"^(?P<prefix>[a-z][a-z_]*?)_(?P<business_date>\d{8})(?:_(?P<sequence>[2-9]|[1-9]\d+))?"
    r"\.(?P<extension>[a-z]+)$"
)

LINEAGE_COLUMNS = ("_source_system", "_source_file", "_source_row_number", "_load_id", "_loaded_at")


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
    max_length: int | None = None


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

    @property
    def extension(self) -> str:
        return FORMAT_EXTENSIONS[self.file_format]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

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
        max_length=int(meta["max_length"]) if meta.get("max_length") is not None else None,
    )


def _parse_source_file(path: Path) -> list[Extract]:
    document = yaml.safe_load(path.read_text())
    extracts = []
    for source in document.get("sources", []):
        system = _meta(source).get("system", source["name"])
        for table in source.get("tables", []):
            meta = _meta(table)
            extract = Extract(
                name=table["name"],
                system=system,
                description=" ".join(str(table.get("description", "")).split()),
                file_prefix=meta["file_prefix"],
                file_format=meta["format"],
                cadence=meta["cadence"],
                natural_key=tuple(meta["natural_key"]),
                columns=tuple(_parse_column(c) for c in table["columns"]),
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
    names = extract.column_names
    missing = [k for k in extract.natural_key if k not in names]
    if missing:
        raise ValueError(f"{where}: natural key columns {missing} are not columns")
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: duplicate column names")


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
    return extracts


def extract_for_prefix(prefix: str) -> Extract | None:
    for extract in load_contract().values():
        if extract.file_prefix == prefix:
            return extract
    return None
