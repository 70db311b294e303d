"""The bad-input matrix of issue 11, "No silent loss": one parametrised test over a table of
bad inputs in CSV (pos_sales), TSV (marketplace_settlement), JSON lines (webshop_order_events)
and Parquet (erp_products).

Every case starts from the same warehouse: one live file per extract for business date
2026-01-05, already ingested. The case then lands one bad input beside a good file of the same
extract (business date 2026-01-03: both are validated and committed in one transaction), runs
``ingest`` with an absent actions file, and the CLI on a copy of the warehouse. It checks the
bad file's log status, counts and message, the quarantine rows it gave, that every good row of
every other file is in raw and nothing else, that the live files are untouched unless the case
replaces one, that a second run changes nothing, and the CLI's exit status.

The last test releases a held re-delivery through an exception actions file.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from test_ingestion import (
    CONTRACT,
    delimited,
    jsonl,
    land,
    parquet,
    pos_sale,
    product,
    settlement_row,
    webshop_event,
)

from ingestion import load as load_module
from ingestion.__main__ import main as cli_main
from ingestion.discover import FileIdentity
from ingestion.load import held_exception_id, ingest

POS, MKT, WEB, ERP = "pos_sales", "marketplace_settlement", "webshop_order_events", "erp_products"
EXTRACTS = (POS, MKT, WEB, ERP)
LIVE_DATE = date(2026, 1, 5)  # the live files, delivered 2026-01-06 before each case
NEW_DATE = date(2026, 1, 3)  # good files arriving with the bad one, delivered 2026-01-04
FIRST_DATE = date(2026, 1, 6)  # a bad first delivery, delivered 2026-01-07
LIVE_ROWS = {POS: 10, MKT: 6, WEB: 5, ERP: 5}
NEW_ROWS = {POS: 4, MKT: 3, WEB: 3, ERP: 3}
REDELIVERY = {"business_date": LIVE_DATE, "delivery": date(2026, 1, 7), "sequence": 2}
# Columns that identify a row in raw (with _source_file and _source_row_number) and one value.
IDENTITY = {
    POS: ("barcode", "quantity"),
    MKT: ("order_id", "quantity"),
    WEB: ("event_id", "order_id"),
    ERP: ("sku", "product_name"),
}
ATTENTION = {"failed", "held", "rejected", "unknown"}  # the CLI exits 1 for these
MARKER = "NEVER-READ-5b1e"  # the content of files behind links: must appear nowhere in raw
CASE_SECONDS = 30  # a case that blocks (a read of a FIFO) fails instead of hanging


# ---------------------------------------------------------------- files


def rows_of(extract: str, tag: str, n: int) -> list[dict]:
    """n good rows of an extract, identified by ``tag`` (unique per file)."""
    make = {
        POS: lambda i: pos_sale(i, barcode=f"{tag}-{i}"),
        MKT: lambda i: settlement_row(i, order_id=f"{tag}-{i}"),
        WEB: lambda i: webshop_event(i, event_id=f"{tag}-{i}"),
        ERP: lambda i: product(i, sku=f"{tag}-{i}"),
    }[extract]
    return [make(i) for i in range(1, n + 1)]


def encode(extract: str, rows: list[dict], scratch: Path) -> bytes:
    file_format = CONTRACT[extract].file_format
    if file_format in ("csv", "tsv"):
        return delimited(extract, rows)
    if file_format == "jsonl":
        return jsonl(rows)
    return parquet(scratch, extract, rows)


def identities(extract: str, source_file: str, rows: dict[int, dict]) -> set[tuple]:
    return {
        (source_file, number, *(str(row[c]) for c in IDENTITY[extract]))
        for number, row in rows.items()
    }


class Reader:
    """Read-only queries on a warehouse over one connection (opening one costs ~20 ms)."""

    def __init__(self, warehouse: Path) -> None:
        self.con = duckdb.connect(str(warehouse), read_only=True)

    def __call__(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def log(self) -> dict[str, dict]:
        """raw.load_log keyed by source_file (the last row of a source_file wins)."""
        cursor = self.con.execute("select * from raw.load_log order by load_id")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        return {r["source_file"]: r for r in rows}

    def everything(self) -> dict[str, list[tuple]]:
        """Every row of every table of raw but the landing files' identities (a cache)."""
        tables = self(
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and table_name <> 'landing_file_identity'"
        )
        return {t: sorted(self(f"select * from raw.{t}"), key=repr) for (t,) in tables}

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc) -> None:
        self.con.close()


def raw_identities(read: Reader, extract: str) -> set[tuple]:
    columns = ", ".join(f"cast({c} as varchar)" for c in IDENTITY[extract])
    return set(read(f"select _source_file, _source_row_number, {columns} from raw.{extract}"))


def live_file(extract: str) -> str:
    name = CONTRACT[extract].file_name(LIVE_DATE.isoformat())
    return f"{CONTRACT[extract].system}/2026-01-06/{name}"


def lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@dataclass
class Zone:
    """The landing dir of one case and a scratch dir outside it."""

    landing: Path
    scratch: Path

    def put(
        self,
        extract: str,
        data: bytes,
        business_date: date = FIRST_DATE,
        *,
        delivery: date | None = None,
        sequence: int = 1,
    ) -> str:
        path = land(
            self.landing, extract, data, business_date, delivery=delivery, sequence=sequence
        )
        return path.relative_to(self.landing).as_posix()

    def at(self, relative: str) -> Path:
        path = self.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


@dataclass
class Bad:
    """The bad input of a case: its source_file in the log and, when the file may load, its
    well-formed rows by row number (those the case does not quarantine must be in raw)."""

    source_file: str
    extract: str | None = None
    rows: dict[int, dict] = field(default_factory=dict)
    marker: bool = False  # a link to content that must never be read


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Zone], Bad]
    status: str
    words: tuple[str, ...]  # in the log message (which always starts with the source_file)
    counts: tuple[int, int, int] = (0, 0, 0)  # rows_read, rows_loaded, rows_quarantined
    quarantine: tuple[tuple[int, str | None, str, str], ...] = ()  # row, column, rule, words
    check: Callable[[Reader, Bad], None] | None = None  # anything else the case must show
    deny_read: bool = False  # the operating system refuses to read the bad file


def good(z: Zone, extract: str, rows: list[dict], business_date: date = FIRST_DATE, **where) -> Bad:
    data = encode(extract, rows, z.scratch)
    return Bad(z.put(extract, data, business_date, **where), extract, dict(enumerate(rows, 1)))


def text(
    z: Zone,
    extract: str,
    data: bytes,
    business_date: date = FIRST_DATE,
    rows: list[dict] | None = None,
    **where,
) -> Bad:
    """A file of these bytes; ``rows`` are its rows when it is made of them."""
    source_file = z.put(extract, data, business_date, **where)
    return Bad(source_file, extract, dict(enumerate(rows or [], 1)))


def with_row(extract: str, tag: str, n: int, number: int, **values) -> list[dict]:
    rows = rows_of(extract, tag, n)
    rows[number - 1] = rows[number - 1] | values
    return rows


def edit_line(data: bytes, number: int, edit: Callable[[bytes], bytes]) -> bytes:
    """Edit physical line ``number`` (0 is a delimited file's header)."""
    parts = lines(data)
    parts[number] = edit(parts[number])
    return b"\n".join(parts)


def link(z: Zone, relative: str, target: Path, extract: str | None = POS) -> Bad:
    path = z.at(relative)
    path.symlink_to(target)
    return Bad(relative, extract, marker=True)


def outside(z: Zone, extract: str, name: str) -> Path:
    """A file outside the landing dir whose rows carry the marker."""
    target = z.scratch / "outside" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(encode(extract, rows_of(extract, MARKER, 3), z.scratch))
    return target


# ---------------------------------------------------------------- case builders

LATIN1 = "Zürich"
INJECTION = "x'); drop table raw.pos_sales; --"
WEB_INJECTION = "x'); drop table raw.webshop_order_events; --"
BIG = 10_000_000


def pos_symlink_outside(z: Zone) -> Bad:
    return link(z, "pos/2026-01-07/pos_sales_20260106.csv", outside(z, POS, "pos_sales.csv"))


def pos_symlink_to_fifo_outside(z: Zone) -> Bad:
    """Opening the target would block until a writer comes: the case would time out."""
    fifo = z.scratch / "pipe.csv"
    os.mkfifo(fifo)
    return link(z, "pos/2026-01-07/pos_sales_20260106.csv", fifo)


def pos_symlink_inside_as_redelivery(z: Zone) -> Bad:
    # a hidden folder inside the landing dir (never ingested itself) holds 9 marker rows
    parked = z.at(".parked/pos_sales_parked.csv")
    parked.write_bytes(delimited(POS, rows_of(POS, MARKER, 9)))
    return link(z, "pos/2026-01-07/pos_sales_20260105_2.csv", Path("../../.parked") / parked.name)


def pos_symlinked_folder(z: Zone) -> Bad:
    folder = z.scratch / "folder"
    folder.mkdir()
    target = outside(z, POS, "pos_sales_20260106.csv")
    target.rename(folder / target.name)
    return link(z, "pos/2026-01-07", folder, None)


def pos_fifo(z: Zone) -> Bad:
    relative = "pos/2026-01-07/pos_sales_20260106.csv"
    os.mkfifo(z.at(relative))
    return Bad(relative, POS)


def erp_symlink(z: Zone) -> Bad:
    target = outside(z, ERP, "erp_products.parquet")
    return link(z, "erp/2026-01-07/erp_products_20260106.parquet", target, ERP)


def odd_name(name: str, data: bytes = b"") -> Callable[[Zone], Bad]:
    def build(z: Zone) -> Bad:
        relative = f"pos/2026-01-07/{name}"
        z.at(relative).write_bytes(data or delimited(POS, rows_of(POS, "odd", 2)))
        return Bad(relative, None)

    return build


def pos_extra_header_column(z: Zone) -> Bad:
    data = delimited(POS, rows_of(POS, "extra", 3))
    data = b"\n".join(
        line + (b",note" if i == 0 else b",x") if line else line
        for i, line in enumerate(lines(data))
    )
    return text(z, POS, data)


def pos_newline_in_quoted_field(z: Zone) -> Bad:
    rows = with_row(POS, "nl", 3, 2, receipt_number="R\nS")  # quoted by the csv writer
    return Bad(z.put(POS, delimited(POS, rows)), POS, {1: rows[0], 4: rows[2]})


def pos_latin1(z: Zone) -> Bad:
    rows = with_row(POS, "latin", 3, 1, receipt_number=LATIN1)
    return text(z, POS, delimited(POS, rows).decode().encode("latin-1"))


def web_latin1(z: Zone) -> Bad:
    rows = with_row(WEB, "latin", 3, 2, order_id=LATIN1)
    data = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows)
    return text(z, WEB, data.encode("latin-1"))


def tsv_written_as_csv(z: Zone) -> Bad:
    rows = rows_of(MKT, "comma", 3)
    header = ",".join(CONTRACT[MKT].column_names)
    body = "".join(",".join(r[c] for c in CONTRACT[MKT].column_names) + "\n" for r in rows)
    return text(z, MKT, (header + "\n" + body).encode())


def check_big_field(read: Reader, bad: Bad) -> None:
    line = lines(delimited(POS, [bad.rows[1]]))[1].decode()
    ((raw_text, bad_value),) = read(
        "select raw_text, bad_value from raw.quarantine where source_file = ?", [bad.source_file]
    )
    # the over-long value is cut in place, so the row's other fields stay readable
    cut = "A" * 200 + f"... (cut: {BIG} characters in all)"
    assert raw_text == line.replace("A" * BIG, cut)
    assert len(raw_text) < 4000
    assert bad_value == cut


def check_verbatim(extract: str, column: str, value: str) -> Callable[[Reader, Bad], None]:
    def check(read: Reader, bad: Bad) -> None:
        assert read(
            f"select {column} from raw.{extract} where _source_file = ? and _source_row_number = 1",
            [bad.source_file],
        ) == [(value,)]

    return check


def check_name_verbatim(read: Reader, bad: Bad) -> None:
    assert read("select count(*) from raw.load_log where source_file = ?", [bad.source_file]) == [
        (1,)
    ]


def header_only(extract: str) -> bytes:
    return delimited(extract, [])


def overwrite_live_file(z: Zone) -> Bad:
    """The source rewrites the live file in place (same path, new content): a header only."""
    (z.landing / live_file(POS)).write_bytes(header_only(POS))
    return Bad(live_file(POS), POS)


# ---------------------------------------------------------------- the matrix

P = "pos/2026-01-06/pos_sales_20260105.csv"  # the live pos file
CASES = [
    # ---- CSV: pos_sales
    Case(
        "csv-redelivery-header-only",
        lambda z: text(z, POS, header_only(POS), **REDELIVERY),
        "held",
        (
            "held, not loaded: it has no data rows",
            "erase the 10 rows of the live file",
            f"{P} (load_id 3) stays live",
            "action 'release'",
            held_exception_id("pos/2026-01-07/pos_sales_20260105_2.csv"),
        ),
    ),
    Case(
        "csv-redelivery-one-garbage-data-line",
        lambda z: text(z, POS, header_only(POS) + b"garbage\n", **REDELIVERY),
        "held",
        (
            "held, not loaded",
            "would load 0 rows (1 of its 1 rows quarantined)",
            "in place of the live file's 10, losing 100%",
            f"{P} (load_id 3) stays live",
        ),
        (1, 0, 1),
    ),
    Case(
        "csv-redelivery-single-garbage-line",
        lambda z: text(z, POS, b"garbage\n", **REDELIVERY),
        "failed",
        ("header column 1 is 'garbage', contract expects 'pos_store_code'",),
    ),
    Case(
        "csv-redelivery-losing-60-percent",
        lambda z: good(z, POS, rows_of(POS, "live", 4), **REDELIVERY),
        "held",
        (
            "held, not loaded",
            "would load 4 rows (0 of its 4 rows quarantined)",
            "in place of the live file's 10, losing 60%, more than the 50% the contract allows",
        ),
        (4, 4, 0),
    ),
    Case(
        "csv-correction-losing-10-percent",
        lambda z: good(z, POS, with_row(POS, "live", 9, 1, quantity="5"), **REDELIVERY),
        "replaced",
        (),
        (9, 9, 0),
    ),
    Case(
        "csv-redelivery-crlf",
        lambda z: text(
            z, POS, delimited(POS, rows_of(POS, "live", 9)).replace(b"\n", b"\r\n"), **REDELIVERY
        ),
        "failed",
        ("lines end with CR LF (\\r\\n); the contract expects LF (\\n)",),
        (9, 0, 0),
    ),
    Case(
        "csv-live-file-overwritten-header-only",
        overwrite_live_file,
        "held",
        ("held, not loaded: it has no data rows", f"{P} (load_id 3) stays live"),
    ),
    Case(
        "csv-older-delivery-after-newer",
        lambda z: good(z, POS, rows_of(POS, "older", 10), LIVE_DATE, delivery=date(2026, 1, 5)),
        "superseded",
        (
            "older delivery (sequence 1, delivered 2026-01-05) than the loaded "
            f"{P} (sequence 1, delivered 2026-01-06)",
        ),
    ),
    Case(
        "csv-unreadable-file",
        lambda z: good(z, POS, rows_of(POS, "perm", 3)),
        "failed",
        ("cannot be read (Permission denied); nothing loaded",),
        deny_read=True,
    ),
    Case(
        "csv-unreadable-unknown-file",
        odd_name("pos_sales_export.csv"),
        "unknown",
        ("file name matches no extract of the contract",),
        deny_read=True,
    ),
    Case(
        "csv-symlink-to-a-file-outside",
        pos_symlink_outside,
        "rejected",
        ("is a symbolic link; only regular files inside the landing directory are read",),
    ),
    Case(
        "csv-symlink-to-a-fifo-outside",
        pos_symlink_to_fifo_outside,
        "rejected",
        ("is a symbolic link",),
    ),
    Case(
        "csv-symlink-inside-posing-as-redelivery",
        pos_symlink_inside_as_redelivery,
        "rejected",
        ("is a symbolic link",),
    ),
    Case(
        "csv-symlinked-delivery-folder",
        pos_symlinked_folder,
        "rejected",
        ("pos/2026-01-07: is a symbolic link",),
    ),
    Case("csv-fifo", pos_fifo, "rejected", ("is not a regular file (a pipe", "never read")),
    Case(
        "csv-far-future-business-date",
        lambda z: good(
            z, POS, rows_of(POS, "future", 2), date(2099, 4, 19), delivery=date(2026, 1, 7)
        ),
        "rejected",
        (
            "business date 2099-04-19 in the file name is outside the window",
            "for a delivery on 2026-01-07 (2015-12-31 to 2026-01-08); not loaded",
        ),
    ),
    Case(
        "csv-business-date-2-days-after-delivery",
        lambda z: good(
            z, POS, rows_of(POS, "early", 2), date(2026, 1, 9), delivery=date(2026, 1, 7)
        ),
        "rejected",
        ("business date 2026-01-09 in the file name is outside the window", "to 2026-01-08)"),
    ),
    Case(
        "csv-business-date-1-day-after-delivery",
        lambda z: good(z, POS, rows_of(POS, "tz", 3), date(2026, 1, 8), delivery=date(2026, 1, 7)),
        "loaded",
        (),
        (3, 3, 0),
    ),
    Case(
        "csv-header-only-first-delivery",
        lambda z: text(z, POS, header_only(POS)),
        "loaded",
        (),
    ),
    Case("csv-zero-bytes", lambda z: text(z, POS, b""), "failed", ("empty file (0 bytes)",)),
    Case(
        "csv-same-content-under-another-business-date",
        lambda z: text(z, POS, encode(POS, rows_of(POS, "live", 10), z.scratch), date(2026, 1, 7)),
        "duplicate",
        (
            f"same content as {P} (load_id 3, business date 2026-01-05), delivered again under "
            "business date 2026-01-07; not loaded twice",
        ),
    ),
    Case(
        "csv-negative-quantity",
        lambda z: good(z, POS, with_row(POS, "neg", 3, 2, quantity="-2")),
        "loaded",
        (),
        (3, 2, 1),
        ((2, "quantity", "range", "column quantity: '-2' is below the contract bound 1"),),
    ),
    Case(
        "csv-10-mb-field",
        lambda z: good(z, POS, with_row(POS, "big", 2, 1, receipt_number="A" * BIG)),
        "loaded",
        (),
        (2, 1, 1),
        (
            (
                1,
                "receipt_number",
                "max_length",
                f"a value of {BIG} characters, the contract allows at most "
                f"{CONTRACT[POS].column('receipt_number').length_limit}",
            ),
        ),
        check_big_field,
    ),
    Case(
        "csv-nul-byte-in-text",
        lambda z: good(z, POS, with_row(POS, "nul", 3, 2, barcode="40\x0063")),
        "loaded",
        (),
        (3, 2, 1),
        ((2, "barcode", "control_characters", "holds a control character (code 0)"),),
    ),
    Case(
        "csv-utf8-bom",
        lambda z: text(z, POS, b"\xef\xbb\xbf" + delimited(POS, rows_of(POS, "bom", 3))),
        "failed",
        ("starts with a UTF-8 byte order mark (BOM); the contract expects none",),
        (3, 0, 0),
    ),
    Case(
        "csv-crlf-line-ends",
        lambda z: text(z, POS, delimited(POS, rows_of(POS, "crlf", 3)).replace(b"\n", b"\r\n")),
        "failed",
        ("lines end with CR LF (\\r\\n); the contract expects LF (\\n)",),
        (3, 0, 0),
    ),
    Case(
        "csv-renamed-header-column",
        lambda z: text(
            z,
            POS,
            delimited(
                POS,
                rows_of(POS, "qty", 3),
                header=[("qty" if c == "quantity" else c) for c in CONTRACT[POS].column_names],
            ),
        ),
        "failed",
        ("header column 8 is 'qty', contract expects 'quantity'",),
        (3, 0, 0),
    ),
    Case(
        "csv-extra-header-column",
        pos_extra_header_column,
        "failed",
        ("header has 16 columns, contract expects 15 (unexpected 'note')",),
        (3, 0, 0),
    ),
    Case(
        "csv-truncated-last-line",
        lambda z: text(z, POS, delimited(POS, rows_of(POS, "cut", 3))[:-10]),
        "failed",
        ("truncated: last line has no line terminator (line 4)",),
        (3, 0, 0),
    ),
    Case(
        "csv-gzip-bytes-under-csv",
        lambda z: text(z, POS, gzip.compress(delimited(POS, rows_of(POS, "gz", 3)), mtime=0)),
        "failed",
        ("not valid UTF-8: byte 0x8b at line 1 (byte offset 1)",),
        None,  # rows_read: the gzip stream's newline bytes, see test_bad_input
    ),
    Case(
        "csv-latin-1",
        pos_latin1,
        "failed",
        ("not valid UTF-8: byte 0xfc at line 2",),
        (3, 0, 0),
    ),
    Case(
        "csv-unparseable-integer",
        lambda z: good(z, POS, with_row(POS, "1o", 3, 2, quantity="1O")),
        "loaded",
        (),
        (3, 2, 1),
        ((2, "quantity", "type:integer", "column quantity: '1O' is not an integer"),),
    ),
    Case(
        "csv-injection-like-text",
        lambda z: good(z, POS, with_row(POS, "inj", 2, 1, receipt_number=INJECTION)),
        "loaded",
        (),
        (2, 2, 0),
        (),
        check_verbatim(POS, "receipt_number", INJECTION),
    ),
    Case(
        "csv-injection-like-file-name",
        odd_name("pos_sales_20260106'; drop table raw.load_log; --.csv"),
        "unknown",
        ("file name matches no extract of the contract",),
        (0, 0, 0),
        (),
        check_name_verbatim,
    ),
    Case(
        "csv-unknown-file-prefix",
        odd_name("pos_refunds_20260106.csv"),
        "unknown",
        ("file prefix 'pos_refunds' matches no extract of the contract",),
    ),
    Case(
        "csv-trailing-newline-in-file-name",
        odd_name("pos_sales_20260106.csv\n"),
        "unknown",
        ("file name matches no extract of the contract",),
    ),
    Case(
        "csv-wrong-extension",
        odd_name("pos_sales_20260106.tsv"),
        "unknown",
        ("extension .tsv does not match extract pos_sales, which is delivered as .csv",),
    ),
    Case(
        "csv-non-ascii-digit-in-sequence",
        odd_name("pos_sales_20260106_1\u0663.csv"),  # ARABIC-INDIC DIGIT THREE
        "unknown",
        ("file name matches no extract of the contract",),
    ),
    Case(
        "csv-compressed-file-name",
        odd_name("pos_sales_20260106.csv.gz", gzip.compress(b"x\n", mtime=0)),
        "unknown",
        ("file name matches no extract of the contract",),
    ),
    Case(
        "csv-folder-named-like-a-file",
        odd_name("pos_sales_20260106.csv/pos_sales_20260106.csv"),
        "unknown",
        ("not at <system>/<delivery date YYYY-MM-DD>/<file>",),
    ),
    Case(
        "csv-wrong-field-count",
        lambda z: text(
            z,
            POS,
            edit_line(delimited(POS, rows_of(POS, "fc", 3)), 2, lambda b: b + b",extra"),
            rows=rows_of(POS, "fc", 3),
        ),
        "loaded",
        (),
        (3, 2, 1),
        ((2, None, "field_count", "has 16 fields, the contract expects 15"),),
    ),
    Case(
        "csv-unbalanced-quote",
        lambda z: text(
            z,
            POS,
            edit_line(delimited(POS, rows_of(POS, "q", 3)), 2, lambda b: b'"' + b),
            rows=rows_of(POS, "q", 3),
        ),
        "loaded",
        (),
        (3, 2, 1),
        ((2, None, "quoting", "has malformed quoting"),),
    ),
    Case(
        # one record over two lines: both halves quarantined, the next record is row 4
        "csv-newline-inside-quoted-field",
        pos_newline_in_quoted_field,
        "loaded",
        (),
        (4, 2, 2),
        ((2, None, "quoting", "has malformed quoting"), (3, None, "field_count", "has 13 fields")),
    ),
    # ---- TSV: marketplace_settlement
    Case(
        "tsv-blank-last-line",
        lambda z: text(
            z, MKT, delimited(MKT, rows_of(MKT, "blank", 2)) + b"\n", rows=rows_of(MKT, "blank", 2)
        ),
        "loaded",
        (),
        (3, 2, 1),
        ((3, None, "field_count", "has 1 fields, the contract expects 14"),),
    ),
    Case(
        "tsv-redelivery-header-only",
        lambda z: text(z, MKT, header_only(MKT), **REDELIVERY),
        "held",
        (
            "held, not loaded: it has no data rows",
            "erase the 6 rows of the live file",
            "marketplace/2026-01-06/marketplace_settlement_20260105.tsv (load_id 2) stays live",
        ),
    ),
    Case(
        "tsv-negative-quantity",
        lambda z: good(z, MKT, with_row(MKT, "neg", 3, 3, quantity="-1")),
        "loaded",
        (),
        (3, 2, 1),
        ((3, "quantity", "range", "column quantity: '-1' is below the contract bound 1"),),
    ),
    Case(
        "tsv-wrong-field-count",
        lambda z: text(
            z,
            MKT,
            edit_line(delimited(MKT, rows_of(MKT, "fc", 3)), 2, lambda b: b + b"\textra"),
            rows=rows_of(MKT, "fc", 3),
        ),
        "loaded",
        (),
        (3, 2, 1),
        ((2, None, "field_count", "has 15 fields, the contract expects 14"),),
    ),
    Case(
        "tsv-unparseable-timestamp",
        lambda z: good(z, MKT, with_row(MKT, "ts", 3, 2, posted_at="2026-01-05 12:27:34")),
        "loaded",
        (),
        (3, 2, 1),
        (
            (
                2,
                "posted_at",
                "type:timestamp",
                "'2026-01-05 12:27:34' is not a UTC timestamp YYYY-MM-DDTHH:MM:SSZ",
            ),
        ),
    ),
    Case(
        "tsv-written-with-commas",
        tsv_written_as_csv,
        "failed",
        ("header column 1 is 'settlement_id,settlement_row_number,",),
        (3, 0, 0),
    ),
    # ---- JSON lines: webshop_order_events
    Case(
        "jsonl-redelivery-zero-bytes",
        lambda z: text(z, WEB, b"", **REDELIVERY),
        "held",
        (
            "held, not loaded: it has no data rows",
            "erase the 5 rows of the live file",
            "webshop/2026-01-06/webshop_order_events_20260105.jsonl (load_id 4) stays live",
        ),
    ),
    Case(
        "jsonl-redelivery-one-garbage-line",
        lambda z: text(z, WEB, b"{not json\n", **REDELIVERY),
        "held",
        (
            "would load 0 rows (1 of its 1 rows quarantined)",
            "in place of the live file's 5, losing 100%",
        ),
        (1, 0, 1),
    ),
    Case(
        "jsonl-zero-bytes-first-delivery",
        lambda z: text(z, WEB, b""),
        "loaded",
        (),
    ),
    Case(
        "jsonl-escaped-nul-in-text",
        lambda z: good(z, WEB, with_row(WEB, "nul", 3, 1, order_id="WO\u00001")),
        "loaded",
        (),
        (3, 2, 1),
        ((1, "order_id", "control_characters", "holds a control character (code 0)"),),
    ),
    Case(
        "jsonl-unexpected-key",
        lambda z: good(z, WEB, with_row(WEB, "key", 3, 2, coupon="X")),
        "loaded",
        (),
        (3, 2, 1),
        ((2, "coupon", "unexpected_key", "has unexpected key 'coupon'"),),
    ),
    Case(
        "jsonl-oversize-json-value",
        lambda z: good(
            z,
            WEB,
            with_row(
                WEB,
                "big",
                2,
                1,
                customer={
                    "customer_id": "C1",
                    "email": "a@example.com",
                    "full_name": "N" * 100_001,
                    "phone": "+1",
                },
            ),
        ),
        "loaded",
        (),
        (2, 1, 1),
        ((1, "customer", "max_length", "the contract allows at most 100000"),),
    ),
    Case(
        "jsonl-utf8-bom",
        lambda z: text(z, WEB, b"\xef\xbb\xbf" + jsonl(rows_of(WEB, "bom", 3))),
        "failed",
        ("starts with a UTF-8 byte order mark (BOM); the contract expects none",),
        (3, 0, 0),
    ),
    Case(
        "jsonl-truncated-last-line",
        lambda z: text(z, WEB, jsonl(rows_of(WEB, "cut", 3))[:-5]),
        "failed",
        ("truncated: last line has no line terminator (line 3)",),
        (3, 0, 0),
    ),
    Case(
        "jsonl-latin-1",
        web_latin1,
        "failed",
        ("not valid UTF-8: byte 0xfc at line 2",),
        (3, 0, 0),
    ),
    Case(
        "jsonl-injection-like-text",
        lambda z: good(z, WEB, with_row(WEB, "inj", 2, 1, order_id=WEB_INJECTION)),
        "loaded",
        (),
        (2, 2, 0),
        (),
        check_verbatim(WEB, "order_id", WEB_INJECTION),
    ),
    # ---- Parquet: erp_products
    Case(
        "parquet-truncated",
        lambda z: (lambda data: text(z, ERP, data[: len(data) // 2]))(
            encode(ERP, rows_of(ERP, "cut", 3), z.scratch)
        ),
        "failed",
        ("corrupt Parquet: missing the PAR1 magic bytes at the end of the file",),
    ),
    Case(
        "parquet-corrupt-between-magic-bytes",
        lambda z: text(z, ERP, b"PAR1" + b"\0" * 40 + b"PAR1"),
        "failed",
        ("corrupt Parquet: ",),
    ),
    Case(
        "parquet-csv-bytes-under-parquet",
        lambda z: text(z, ERP, delimited(POS, rows_of(POS, "csv", 2))),
        "failed",
        ("corrupt Parquet: missing the PAR1 magic bytes at the start of the file",),
    ),
    Case(
        "parquet-wrong-column-type",
        lambda z: text(
            z,
            ERP,
            parquet(z.scratch, ERP, rows_of(ERP, "type", 3), types={"case_pack_units": "varchar"}),
        ),
        "failed",
        ("column case_pack_units is VARCHAR, the contract expects integer",),
        (3, 0, 0),
    ),
    Case(
        "parquet-unexpected-column",
        lambda z: text(
            z,
            ERP,
            parquet(
                z.scratch,
                ERP,
                [r | {"note": "x"} for r in rows_of(ERP, "note", 3)],
                columns={c.name: c.data_type for c in CONTRACT[ERP].columns} | {"note": "varchar"},
            ),
        ),
        "failed",
        ("unexpected column(s) 'note'",),
        (3, 0, 0),
    ),
    Case(
        "parquet-redelivery-zero-rows",
        lambda z: text(z, ERP, parquet(z.scratch, ERP, []), **REDELIVERY),
        "held",
        (
            "held, not loaded: it has no data rows",
            "erase the 5 rows of the live file",
            "erp/2026-01-06/erp_products_20260105.parquet (load_id 1) stays live",
        ),
    ),
    Case(
        "parquet-negative-case-pack",
        lambda z: good(z, ERP, with_row(ERP, "neg", 3, 3, case_pack_units=-4)),
        "loaded",
        (),
        (3, 2, 1),
        ((3, "case_pack_units", "range", "'-4' is below the contract bound 1"),),
    ),
    Case("parquet-symlink", erp_symlink, "rejected", ("is a symbolic link",)),
]


# ---------------------------------------------------------------- the world before a case


@dataclass(frozen=True)
class Before:
    landing: Path
    warehouse: Path
    live: dict[str, tuple[int, str]]  # extract -> (load_id, source_file) of its live file
    raw: dict[str, list[tuple]]  # extract -> every row of raw (the live file's rows)
    log: list[tuple]
    expected: dict[str, set[tuple]]  # extract -> identities of the live file's rows


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> Before:
    root = tmp_path_factory.mktemp("before")
    zone = Zone(root / "landing", root / "scratch")
    zone.landing.mkdir()
    zone.scratch.mkdir()
    expected = {}
    for extract in EXTRACTS:
        bad = good(zone, extract, rows_of(extract, "live", LIVE_ROWS[extract]), LIVE_DATE)
        assert bad.source_file == live_file(extract)
        expected[extract] = identities(extract, bad.source_file, bad.rows)
    warehouse = root / "warehouse.duckdb"
    report = ingest(zone.landing, warehouse, actions=None)
    assert report.files_loaded == len(EXTRACTS)
    with Reader(warehouse) as read:
        log = read.log()
        live = {e: (log[live_file(e)]["load_id"], live_file(e)) for e in EXTRACTS}
        raw = {e: sorted(read(f"select * from raw.{e}"), key=repr) for e in EXTRACTS}
        assert {e: len(rows) for e, rows in raw.items()} == LIVE_ROWS
        assert {e: raw_identities(read, e) for e in EXTRACTS} == expected
        log_rows = read("select * from raw.load_log order by load_id")
    return Before(zone.landing, warehouse, live, raw, log_rows, expected)


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail, instead of hanging, when a call blocks (a FIFO opened for reading blocks until a
    writer comes: the alarm interrupts the blocking call)."""

    def expire(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s: something blocks")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def everything_in_raw(warehouse: Path) -> dict[str, list[tuple]]:
    with Reader(warehouse) as read:
        return read.everything()


# ---------------------------------------------------------------- the test


def deny_read(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Opening ``path`` fails as for a file of mode 000 read by anyone but root (tests may run
    as root, whom file modes do not stop)."""
    real = load_module._read_bytes

    def read_bytes(candidate: Path) -> tuple[bytes, FileIdentity | None]:
        if Path(candidate) == path:
            raise PermissionError(13, "Permission denied", str(candidate))
        return real(candidate)

    monkeypatch.setattr(load_module, "_read_bytes", read_bytes)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(
    case: Case, before: Before, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing, scratch = tmp_path / "landing", tmp_path / "scratch"
    shutil.copytree(before.landing, landing, symlinks=True)
    scratch.mkdir()
    warehouse, cli_warehouse = tmp_path / "warehouse.duckdb", tmp_path / "cli.duckdb"
    shutil.copyfile(before.warehouse, warehouse)
    shutil.copyfile(before.warehouse, cli_warehouse)
    zone = Zone(landing, scratch)
    expected = {e: set(rows) for e, rows in before.expected.items()}
    bad = case.build(zone)
    # a good file of the same extract arrives with the bad one (same run, same transaction)
    companion = bad.extract or POS
    new = good(zone, companion, rows_of(companion, "new", NEW_ROWS[companion]), NEW_DATE)
    expected[companion] |= identities(companion, new.source_file, new.rows)
    no_actions = tmp_path / "no_such_actions.csv"
    if case.deny_read:
        deny_read(monkeypatch, landing / bad.source_file)

    with time_limit(CASE_SECONDS):
        report = ingest(landing, warehouse, actions=no_actions)
        exit_status = cli_main(["--landing", str(landing), "--warehouse", str(cli_warehouse)])

    read = Reader(warehouse)
    # 1. the bad file: one log row, its status, counts and a message naming it and the problem
    log = {f: r for f, r in read.log().items() if r["load_id"] > len(before.log)}
    assert sorted(log) == sorted([bad.source_file, new.source_file])
    assert read("select count(*) from raw.load_log") == [(len(before.log) + 2,)]
    entry = log[bad.source_file]
    assert entry["status"] == case.status, entry["error_message"]
    assert entry["extract_name"] == bad.extract
    assert [f.status for f in report.files if f.source_file == bad.source_file] == [case.status]
    assert log[new.source_file]["status"] == "loaded", "the good file did not load"
    if case.status in ("loaded", "replaced"):
        assert entry["error_message"] is None
    else:
        assert entry["error_message"].startswith(f"{bad.source_file}: ")
        for word in case.words:
            assert word in entry["error_message"]
    counts = case.counts
    if counts is None:  # a failed text file counts its data lines, header excluded
        data = (landing / bad.source_file).read_bytes()
        counts = (data.count(b"\n") + (not data.endswith(b"\n")) - 1, 0, 0)
    assert (entry["rows_read"], entry["rows_loaded"], entry["rows_quarantined"]) == counts
    if case.status in ("loaded", "replaced"):
        assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_quarantined"]
    recognised = ("held", "replaced", "duplicate", "superseded")  # related to the live file
    related = before.live[bad.extract][0] if case.status in recognised else None
    assert entry["related_load_id"] == related

    # the quarantine: the bad file's rejected rows (only if it loaded), nothing else
    quarantine = read(
        "select source_file, source_row_number, column_name, rule, reason from raw.quarantine",
    )
    loads = case.status in ("loaded", "replaced")
    assert [(q[1], q[2], q[3]) for q in quarantine] == (
        [(n, column, rule) for n, column, rule, _ in case.quarantine] if loads else []
    )
    row_word = "line" if bad.extract == WEB else "row"
    for (source_file, number, *_, reason), (*_, words) in zip(
        quarantine if loads else [], case.quarantine if loads else [], strict=True
    ):
        assert source_file == bad.source_file
        assert reason.startswith(f"{bad.source_file} {row_word} {number} "), reason
        assert words in reason, reason

    # 2./3. every good row of every other file is in raw, and nothing else
    if loads:
        rejected = {n for n, *_ in case.quarantine}
        rows = {n: r for n, r in bad.rows.items() if n not in rejected}
        expected[bad.extract] |= identities(bad.extract, bad.source_file, rows)
        if case.status == "replaced":
            expected[bad.extract] = {
                r for r in expected[bad.extract] if r[0] != before.live[bad.extract][1]
            }
    assert {e: raw_identities(read, e) for e in EXTRACTS} == expected
    # the live files are untouched (exact rows and log rows) unless replaced
    for extract in EXTRACTS:
        load_id, _ = before.live[extract]
        rows = sorted(
            read(f"select * from raw.{extract} where _load_id = ?", [load_id]),
            key=repr,
        )
        if case.status == "replaced" and extract == bad.extract:
            assert rows == []
        else:
            assert rows == before.raw[extract], extract
    old_log = read("select * from raw.load_log where load_id <= ? order by 1", [len(before.log)])
    assert old_log == before.log
    snapshot = read.everything()
    if bad.marker:  # nothing behind a link was read: its content is nowhere in raw
        assert MARKER not in repr(snapshot)
    if case.check:
        case.check(read, bad)
    read.con.close()

    # a second run changes nothing (a held file stays held, a failed one is not retried)
    with time_limit(CASE_SECONDS):
        again = ingest(landing, warehouse, actions=no_actions)
    assert again.files == []
    assert everything_in_raw(warehouse) == snapshot

    # 4. the CLI says whether the run needs attention, and logged the same
    assert exit_status == (1 if case.status in ATTENTION else 0)
    with Reader(cli_warehouse) as read:
        assert read.log()[bad.source_file]["status"] == case.status

    if case.deny_read and case.status == "failed":  # once readable, the file loads
        monkeypatch.undo()
        assert [
            (f.source_file, f.status) for f in ingest(landing, warehouse, actions=no_actions).files
        ] == [(bad.source_file, "loaded")]
        with Reader(warehouse) as read:
            assert raw_identities(read, bad.extract) == expected[bad.extract] | identities(
                bad.extract, bad.source_file, bad.rows
            )


# ---------------------------------------------------------------- release of a held file


def test_held_redelivery_is_released_only_by_its_owner(tmp_path: Path) -> None:
    landing, warehouse, actions = tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "a.csv"
    live = rows_of(POS, "live", 10)
    land(landing, POS, delimited(POS, live), LIVE_DATE)
    ingest(landing, warehouse, actions=actions)
    smaller = rows_of(POS, "smaller", 4)  # loses 60%: held
    path = land(landing, POS, delimited(POS, smaller), **REDELIVERY)
    held_file = path.relative_to(landing).as_posix()
    exception_id = held_exception_id(held_file)
    header = "exception_id,action,reason,actor,action_date\n"
    actions.write_text(
        header
        + f"{held_exception_id(live_file(POS))},release,another file,finance,2026-01-08\n"
        + f"{exception_id},comment,looking into it,finance,2026-01-08\n"
    )

    first = ingest(landing, warehouse, actions=actions)
    with Reader(warehouse) as read:
        snapshot = read.everything()
        ((held_message,),) = read("select error_message from raw.load_log where load_id = 2")
    second = ingest(landing, warehouse, actions=actions)  # no release: nothing changes

    assert [(f.source_file, f.status) for f in first.files] == [(held_file, "held")]
    assert second.files == [] and second.files_skipped == 2
    with Reader(warehouse) as read:
        assert read.everything() == snapshot
        assert raw_identities(read, POS) == identities(
            POS, live_file(POS), dict(enumerate(live, 1))
        )

    today = datetime.now(UTC).date()  # a release counts on or after the day of its hold
    actions.write_text(header + f"{exception_id},release,short day confirmed,finance,{today}\n")
    released = ingest(landing, warehouse, actions=actions)

    assert [(f.source_file, f.status) for f in released.files] == [(held_file, "replaced")]
    read = Reader(warehouse)
    assert read(
        "select load_id, source_file, status, rows_read, rows_loaded, related_load_id, "
        "error_message from raw.load_log order by load_id",
    ) == [
        (1, live_file(POS), "loaded", 10, 10, None, None),
        (2, held_file, "held", 4, 4, 1, held_message),
        (
            3,
            held_file,
            "replaced",
            4,
            4,
            1,
            f"{held_file}: released from hold by its owner (exception {exception_id})",
        ),
    ]
    assert held_message.startswith(f"{held_file}: held, not loaded: it would load 4 rows")
    assert raw_identities(read, POS) == identities(POS, held_file, dict(enumerate(smaller, 1)))
    snapshot = read.everything()
    read.con.close()

    again = ingest(landing, warehouse, actions=actions)
    assert again.files == [] and again.files_skipped == 2
    assert everything_in_raw(warehouse) == snapshot
