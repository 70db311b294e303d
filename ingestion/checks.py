"""Whole-file checks: what makes a file unloadable as a whole, with a precise message.

A file that fails here is logged ``failed`` and none of its rows are loaded. Row-level problems
are not judged here (see ``ingestion.validate``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from ingestion.contract import Extract

PARQUET_MAGIC = b"PAR1"
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class FileCheck:
    problem: str | None  # None when the file can be loaded
    data_lines: int  # data lines seen (header excluded); 0 when not knowable


def _line_count(data: bytes) -> int:
    """Physical lines, counting a last line without terminator."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def header_problem(
    header: list[str], expected: list[str], required: int | None = None
) -> str | None:
    """Why a header differs from the contract's column names (None when equal, or when it
    names the first ``required`` or more of them in order: the rest are optional)."""
    if header == expected:
        return None
    if required is not None and required <= len(header) < len(expected):
        if header == expected[: len(header)]:
            return None
    if header and header[0].startswith("\ufeff"):
        return "starts with a UTF-8 byte order mark (BOM); the contract expects none"
    for position, (have, want) in enumerate(zip(header, expected, strict=False), start=1):
        if have != want:
            return f"header column {position} is {have!r}, contract expects {want!r}"
    if len(header) < len(expected):
        missing = ", ".join(repr(c) for c in expected[len(header) :])
        return (
            f"header has {len(header)} columns, contract expects {len(expected)} "
            f"(missing {missing})"
        )
    extra = ", ".join(repr(c) for c in header[len(expected) :])
    return (
        f"header has {len(header)} columns, contract expects {len(expected)} (unexpected {extra})"
    )


def check_text_file(source_file: str, data: bytes, extract: Extract) -> FileCheck:
    """Check a CSV, TSV or JSON lines file as a whole."""
    has_header = extract.file_format in ("csv", "tsv")
    if not data and has_header:
        return FileCheck(f"{source_file}: empty file (0 bytes)", 0)
    if not data:  # JSON lines carry no header: no bytes is a delivery of no rows
        return FileCheck(None, 0)
    lines = _line_count(data)
    data_lines = max(lines - 1, 0) if has_header else lines
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return FileCheck(
            f"{source_file}: not valid UTF-8: byte 0x{data[error.start]:02x} at line {line} "
            f"(byte offset {error.start})",
            data_lines,
        )
    if not data.endswith(b"\n"):
        return FileCheck(
            f"{source_file}: truncated: last line has no line terminator (line {lines})", data_lines
        )
    first_line = data[: data.index(b"\n")].decode("utf-8")
    if first_line.endswith("\r"):
        return FileCheck(
            f"{source_file}: lines end with CR LF (\\r\\n); the contract expects LF (\\n)",
            data_lines,
        )
    if data.startswith(UTF8_BOM):  # JSON lines too: else line 1 is quarantined as "not JSON"
        return FileCheck(
            f"{source_file}: starts with a UTF-8 byte order mark (BOM); the contract expects none",
            data_lines,
        )
    if has_header:
        delimiter = "\t" if extract.file_format == "tsv" else ","
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        problem = header_problem(header, extract.column_names, extract.required_column_count)
        if problem:
            return FileCheck(f"{source_file}: {problem}", data_lines)
    return FileCheck(None, data_lines)


def check_parquet_bytes(source_file: str, data: bytes) -> str | None:
    """Cheap structural check of a Parquet file before DuckDB reads it."""
    if not data:
        return f"{source_file}: empty file (0 bytes)"
    if len(data) < 12 or not data.startswith(PARQUET_MAGIC) or not data.endswith(PARQUET_MAGIC):
        return (
            f"{source_file}: corrupt Parquet: missing the PAR1 magic bytes at the "
            f"{'start' if not data.startswith(PARQUET_MAGIC) else 'end'} of the file "
            f"({len(data)} bytes; truncated or not Parquet)"
        )
    return None
