"""Writes extract files exactly as the extract contract defines them."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.contract import (
    DATE_FORMAT,
    LOCAL_TIMESTAMP_FORMAT,
    UTC_TIMESTAMP_FORMAT,
    Column,
    Extract,
    load_contract,
)

DECIMAL_RE = re.compile(r"decimal\((\d+),\s*(\d+)\)")


def decimal_scale(data_type: str) -> int | None:
    match = DECIMAL_RE.fullmatch(data_type)
    return int(match.group(2)) if match else None


def _as_text(column: Column, values: pd.Series) -> pd.Series:
    """Render one column as the text a delimited file carries ('' for null)."""
    null = values.isna()
    scale = decimal_scale(column.data_type)
    if scale is not None:
        text = pd.Series(
            np.char.mod(f"%.{scale}f", values.fillna(0).to_numpy(dtype=float)), index=values.index
        )
    elif column.data_type == "date":
        text = pd.to_datetime(values).dt.strftime(DATE_FORMAT)
    elif column.data_type == "timestamp":
        fmt = (
            UTC_TIMESTAMP_FORMAT
            if column.value_format == "utc_timestamp"
            else LOCAL_TIMESTAMP_FORMAT
        )
        text = pd.to_datetime(values.fillna(0).astype("int64"), unit="s").dt.strftime(fmt)
    elif column.data_type == "boolean":
        text = values.map({True: "true", False: "false"})
    elif column.data_type in ("integer", "bigint"):
        text = values.fillna(0).astype("int64").astype(str)
    else:
        text = values.astype(str)
    return text.where(~null, "")


def render_delimited(extract: Extract, frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c.name: _as_text(c, frame[c.name]) for c in extract.columns})


def to_delimited_bytes(extract: Extract, text_frame: pd.DataFrame) -> bytes:
    separator = "\t" if extract.file_format == "tsv" else ","
    return text_frame.to_csv(index=False, sep=separator, lineterminator="\n", quoting=0).encode(
        "utf-8"
    )


def _json_value(column: Column, value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if column.data_type == "timestamp":
        return pd.Timestamp(int(value), unit="s").strftime(UTC_TIMESTAMP_FORMAT)
    if decimal_scale(column.data_type) is not None:
        return round(float(value), decimal_scale(column.data_type))
    if column.data_type in ("integer", "bigint"):
        return int(value)
    return value


def to_jsonl_bytes(extract: Extract, records: list[dict]) -> bytes:
    lines = [
        json.dumps(
            {c.name: _json_value(c, r.get(c.name)) for c in extract.columns},
            separators=(",", ":"),
            sort_keys=False,
        )
        for r in records
    ]
    return ("\n".join(lines) + "\n" if lines else "").encode("utf-8")


def _arrow_type(column: Column) -> pa.DataType:
    scale = decimal_scale(column.data_type)
    if scale is not None:
        return pa.decimal128(18, scale)
    return {
        "varchar": pa.string(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "date": pa.date32(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("s"),
    }[column.data_type]


def to_parquet_bytes(extract: Extract, frame: pd.DataFrame) -> bytes:
    arrays = []
    for c in extract.columns:
        values = frame[c.name]
        scale = decimal_scale(c.data_type)
        if scale is not None:
            from decimal import Decimal

            quant = Decimal(1).scaleb(-scale)
            values = [None if pd.isna(v) else Decimal(str(v)).quantize(quant) for v in values]
        elif c.data_type == "date":
            values = pd.to_datetime(values).dt.date
        arrays.append(pa.array(list(values), type=_arrow_type(c)))
    table = pa.Table.from_arrays(arrays, names=[c.name for c in extract.columns])
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


class LandingWriter:
    """Writes files under <landing>/<system>/<delivery date>/ and remembers what it wrote."""

    def __init__(self, landing_dir: Path) -> None:
        self.landing_dir = landing_dir
        self.contract = load_contract()

    def path_for(
        self, extract: Extract, business_date: date, delivery_date: date, sequence: int = 1
    ) -> Path:
        folder = self.landing_dir / extract.system / delivery_date.isoformat()
        return folder / extract.file_name(business_date.isoformat(), sequence)

    def relative(self, path: Path) -> str:
        return path.relative_to(self.landing_dir).as_posix()

    def write_bytes(self, path: Path, content: bytes) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return self.relative(path)

    def encode(self, extract_name: str, frame: pd.DataFrame | list[dict]) -> bytes:
        extract = self.contract[extract_name]
        if extract.file_format == "jsonl":
            return to_jsonl_bytes(extract, frame)  # type: ignore[arg-type]
        assert isinstance(frame, pd.DataFrame)
        if extract.file_format == "parquet":
            return to_parquet_bytes(extract, frame)
        return to_delimited_bytes(extract, render_delimited(extract, frame))
