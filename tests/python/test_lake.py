"""The raw lake (ingestion/lake.py): DuckDB's raw tables as Parquet, partitioned by extract and
business date, equal row for row to raw, kept in line by an idempotent sync."""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import BuiltWorld
from test_ingestion import delimited, land, pos_sale

import ingestion.lake as lake_module
from ingestion.__main__ import main as cli_main
from ingestion.contract import PROJECT_ROOT, load_contract
from ingestion.contract_docs import render_lake
from ingestion.lake import LakeMismatchError, LakeTable, lake_row_breaks, lake_type, sync_lake
from ingestion.load import ingest

CONTRACT = load_contract()
PART = re.compile(r"part-(\d+)\.parquet")
# The only types the lake may hold (any engine reads them), and what each raw type becomes.
ENGINE_NEUTRAL = re.compile(
    r"DECIMAL\(\d+,\d+\)|DATE|TIMESTAMP WITH TIME ZONE|BIGINT|INTEGER|VARCHAR|BOOLEAN|DOUBLE"
)
LAKE_TYPE_OF_RAW = {"JSON": "VARCHAR", "TIMESTAMP": "TIMESTAMP WITH TIME ZONE"}


def _read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    return con


def _plain(value: object) -> object:
    """A lake value as raw holds it: a UTC instant as its naive UTC reading."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        assert value.utcoffset() == timedelta(0), value
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _lake_rows(con: duckdb.DuckDBPyConnection, files: str) -> tuple[list[str], list[tuple]]:
    """Columns and rows of lake files, with hive partition columns and the file name."""
    relation = con.execute(
        f"select * from read_parquet('{files}', hive_partitioning = true, filename = true)"
    )
    columns = [d[0] for d in relation.description]
    return columns, [tuple(_plain(v) for v in row) for row in relation.fetchall()]


def _raw(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[tuple]]:
    relation = con.execute(f'select * from raw."{table}"')
    return [d[0] for d in relation.description], relation.fetchall()


def _raw_types(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()


def _part_files(lake: Path) -> dict[Path, tuple[int, int]]:
    """Every part file: (inode, modification time in ns), to see what a sync rewrote."""
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in lake.rglob("part-*.parquet")}


# ---------------------------------------------------------------- the shared defective world


def test_lake_holds_raw_row_for_row_by_extract_and_business_date(
    defective_world: BuiltWorld,
) -> None:
    lake = defective_world.root / "lake" / "raw"
    with _read_only(defective_world.warehouse) as con:
        live = {
            (extract, day): load_id
            for extract, day, load_id in con.execute(
                "select extract_name, business_date, max(load_id) from raw.load_log "
                "where status in ('loaded', 'replaced') group by all"
            ).fetchall()
        }
        checked = 0
        for name in sorted(CONTRACT):
            raw_columns, raw_rows = _raw(con, name)
            partitions = sorted((lake / name).glob("business_date=*"))
            # one partition per live file of the extract, one part file in each, named after it
            assert {p.name.removeprefix("business_date=") for p in partitions} == {
                day.isoformat() for extract, day in live if extract == name
            }, name
            for partition in partitions:
                files = [f.name for f in partition.iterdir()]
                day = date.fromisoformat(partition.name.removeprefix("business_date="))
                assert files == [f"part-{live[(name, day)]}.parquet"], partition
            if not partitions:
                assert raw_rows == [], name
                continue
            columns, rows = _lake_rows(con, str(lake / name / "*" / "*.parquet"))
            assert columns == [*raw_columns, "filename", "business_date"], name
            by_day: dict[date, Counter] = {}
            for *values, filename, business_date in rows:
                row = dict(zip(raw_columns, values, strict=True))
                assert business_date == row["_business_date"], (name, filename)
                assert PART.search(filename).group(1) == str(row["_load_id"]), filename
                by_day.setdefault(business_date, Counter())[tuple(values)] += 1
            raw_by_day: dict[date, Counter] = {}
            for values in raw_rows:
                raw_by_day.setdefault(values[raw_columns.index("_business_date")], Counter())[
                    values
                ] += 1
            assert by_day == raw_by_day, name
            checked += len(raw_rows)
        assert (
            checked
            == con.execute(
                "select sum(rows_loaded) from raw.load_log where load_id in (select unnest(?))",
                [list(live.values())],
            ).fetchone()[0]
        )


def test_lake_quarantine_and_load_log_equal_raw(defective_world: BuiltWorld) -> None:
    lake = defective_world.root / "lake" / "raw"
    with _read_only(defective_world.warehouse) as con:
        raw_columns, raw_rows = _raw(con, "quarantine")
        assert raw_rows, "the defective world quarantines rows"
        dates = dict(con.execute("select load_id, business_date from raw.load_log").fetchall())
        columns, rows = _lake_rows(con, str(lake / "quarantine" / "*" / "*" / "*.parquet"))
        assert columns[: len(raw_columns)] == raw_columns
        assert sorted(columns[len(raw_columns) :]) == ["business_date", "extract", "filename"]
        for values in rows:
            row = dict(zip(columns, values, strict=True))
            filename, extract, business_date = (
                row["filename"],
                row["extract"],
                row["business_date"],
            )
            assert (extract, business_date) == (row["extract_name"], dates[row["load_id"]])
            assert PART.search(filename).group(1) == str(row["load_id"])
        assert Counter(tuple(r[: len(raw_columns)]) for r in rows) == Counter(raw_rows)

        log_columns, log_rows = _raw(con, "load_log")
        relation = con.execute(f"select * from '{lake / 'load_log' / 'load_log.parquet'}'")
        assert [d[0] for d in relation.description] == log_columns
        assert [tuple(_plain(v) for v in r) for r in relation.fetchall()] == sorted(log_rows)


def test_lake_types_are_engine_neutral_and_read_back(defective_world: BuiltWorld) -> None:
    lake = defective_world.root / "lake" / "raw"
    with _read_only(defective_world.warehouse) as con:
        tables = {name: f"{name}/*/*.parquet" for name in CONTRACT}
        tables |= {"quarantine": "quarantine/*/*/*.parquet", "load_log": "load_log/*.parquet"}
        json_or_timestamp = 0
        for table, files in tables.items():
            if not list(lake.glob(files)):
                continue
            lake_types = con.execute(
                f"describe select * from read_parquet('{lake / files}', hive_partitioning = true)"
            ).fetchall()
            partition_columns = {"extract": "VARCHAR", "business_date": "DATE"}
            expected = [
                (name, LAKE_TYPE_OF_RAW.get(data_type, data_type))
                for name, data_type in _raw_types(con, table)
            ]
            json_or_timestamp += sum(t in LAKE_TYPE_OF_RAW for _, t in _raw_types(con, table))
            found = [(r[0], r[1]) for r in lake_types]
            assert found[: len(expected)] == expected, table
            assert all(partition_columns.get(n) == t for n, t in found[len(expected) :]), table
            for name, data_type in found:
                assert ENGINE_NEUTRAL.fullmatch(data_type), (table, name, data_type)
        assert json_or_timestamp, "the world has JSON and timestamp columns to convert"


# ---------------------------------------------------------------- the sync, on small landing zones


def _pos_day(landing: Path, day: date, lines: int, sequence: int = 1, **row: str) -> Path:
    """A POS file of a day (each day's receipts its own: the same content under two dates would
    be a duplicate)."""
    row = {"receipt_number": f"NY01-{day:%Y%m%d}-S00001"} | row
    return land(
        landing,
        "pos_sales",
        delimited("pos_sales", [pos_sale(i, **row) for i in range(1, lines + 1)]),
        day,
        sequence=sequence,
    )


def _pos_lake_rows(lake: Path) -> Counter:
    """The lake's POS rows as raw holds them (no partition column, timestamps naive UTC)."""
    with duckdb.connect() as con:
        rows = con.execute(
            f"select * from read_parquet('{lake}/raw/pos_sales/*/*.parquet', "
            "hive_partitioning = false)"
        ).fetchall()
    return Counter(tuple(_plain(v) for v in row) for row in rows)


def test_sync_rewrites_only_what_changed(tmp_path: Path) -> None:
    landing, warehouse, lake = tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "lake"
    days = [date(2026, 1, 5) + timedelta(days=i) for i in range(3)]
    for day in days:
        _pos_day(landing, day, 3)
    first = ingest(landing, warehouse, lake_dir=lake, actions=None)
    assert first.lake is not None and not first.lake.breaks
    assert first.lake.files_written == 3 and first.lake.rows_written == 9
    before = _part_files(lake)
    old_part = next(p for p in before if "2026-01-06" in str(p))

    # a corrected re-delivery of one day: its partition gets the new part file, the old one goes;
    # the old file's rows move to the replaced rows, which get a part file of their own
    with duckdb.connect(str(warehouse), read_only=True) as con:
        old_rows = con.execute(
            "select * exclude (_load_id, _loaded_at) from raw.pos_sales "
            "where _business_date = ? order by _source_row_number",
            [days[1]],
        ).fetchall()
    _pos_day(landing, days[1], 4, sequence=2, quantity="3")
    second = ingest(landing, warehouse, lake_dir=lake, actions=None)
    assert [f.status for f in second.files] == ["replaced"]
    after = _part_files(lake)
    assert not old_part.exists()
    new_part = old_part.parent / f"part-{second.files[0].load_id}.parquet"
    kept = (
        lake
        / "raw"
        / "replaced_rows"
        / "extract=pos_sales"
        / "business_date=2026-01-06"
        / old_part.name
    )
    assert set(after) == set(before) - {old_part} | {new_part, kept}
    assert {p: after[p] for p in before if p != old_part} == {
        p: s for p, s in before.items() if p != old_part
    }
    assert (second.lake.files_written, second.lake.files_removed) == (2, 1)
    assert sorted(p.name for p in old_part.parent.iterdir()) == [new_part.name]
    # the replaced rows give back the old file's rows, value for value, through the contract
    contract = load_contract()["pos_sales"]
    values = ", ".join(
        f"cast(row_values ->> '{c.name}' as {c.data_type}) as {c.name}" for c in contract.columns
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kept_rows = con.execute(
            f"select {values}, source_system, source_file, source_row_number, business_date "
            "from raw.replaced_rows order by source_row_number"
        ).fetchall()
        (replaced_by,) = con.execute(
            "select distinct replaced_by_load_id from raw.replaced_rows"
        ).fetchone()
        lake_kept = con.execute(f"select count(*) from read_parquet('{kept}')").fetchone()[0]
    assert kept_rows == old_rows and len(old_rows) == 3 == lake_kept
    assert replaced_by == second.files[0].load_id

    # the same landing zone again: nothing written, nothing touched
    third = ingest(landing, warehouse, lake_dir=lake, actions=None)
    assert (third.lake.files_written, third.lake.files_removed, third.lake.breaks) == (0, 0, {})
    assert _part_files(lake) == after

    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw = Counter(con.execute("select * from raw.pos_sales").fetchall())
    assert _pos_lake_rows(lake) == raw
    assert sum(raw.values()) == 3 + 4 + 3


def test_sync_repairs_a_lake_left_behind(tmp_path: Path) -> None:
    landing, warehouse, lake = tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "lake"
    for i in range(3):
        _pos_day(landing, date(2026, 1, 5) + timedelta(days=i), 2)
    # a crash between the DuckDB commit and the lake write: the run loaded, the lake has nothing
    ingest(landing, warehouse, actions=None)
    with duckdb.connect(str(warehouse)) as con:
        repaired = sync_lake(con, lake)
        assert (repaired.files_written, repaired.breaks) == (3, {})
        raw = Counter(con.execute("select * from raw.pos_sales").fetchall())
        assert _pos_lake_rows(lake) == raw

        # a part file lost, a temporary file of an interrupted write left over
        lost = sorted(lake.rglob("part-*.parquet"))[1]
        lost.unlink()
        leftover = lost.parent / ".part-99.parquet.tmp"
        leftover.write_bytes(b"half a file")
        with duckdb.connect() as reader:
            assert _count(reader, lake) == sum(raw.values()) - 2
        assert lake_row_breaks(con, lake)["pos_sales"] == (sum(raw.values()), sum(raw.values()) - 2)
        # a sync of other extracts (an ingestion of another system) neither sees nor repairs it
        other = sync_lake(con, lake, {"erp_products"})
        assert (other.files_written, other.files_removed, other.breaks) == (0, 0, {})
        assert not lost.exists() and leftover.exists()
        restored = sync_lake(con, lake, {"pos_sales"})
        assert (restored.files_written, restored.files_removed) == (1, 1)
        assert lost.exists() and not leftover.exists()
        assert _pos_lake_rows(lake) == raw


def test_a_footer_is_read_once_until_its_part_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing, warehouse, lake = tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "lake"
    for i in range(3):
        _pos_day(landing, date(2026, 1, 5) + timedelta(days=i), 2)
    ingest(landing, warehouse, lake_dir=lake, actions=None)
    read: list[Path] = []
    footer = lake_module.part_rows
    monkeypatch.setattr(lake_module, "part_rows", lambda path: read.append(path) or footer(path))
    parts = sorted(lake.glob("raw/pos_sales/*/part-*.parquet"))
    with duckdb.connect(str(warehouse)) as con:
        # the sync counted them: only the load log, rewritten by every sync, is read again
        assert lake_row_breaks(con, lake) == {}
        assert [p.name for p in read] == ["load_log.parquet"]

        # a part file replaced by one of a row less: read again, the break found
        shorter = tmp_path / "shorter.parquet"
        with duckdb.connect() as other:
            other.execute(
                f"copy (select * from read_parquet('{parts[0]}') limit 1) to '{shorter}' "
                "(format parquet)"
            )
        os.replace(shorter, parts[0])
        read.clear()
        assert lake_row_breaks(con, lake)["pos_sales"] == (6, 5)
        assert read == [parts[0], lake / "raw" / "load_log" / "load_log.parquet"]

        # rewritten in place with its size and modification time kept: its change time differs
        before = parts[1].stat()
        parts[1].write_bytes(parts[1].read_bytes())
        os.utime(parts[1], ns=(before.st_atime_ns, before.st_mtime_ns))
        read.clear()
        assert lake_row_breaks(con, lake)["pos_sales"] == (6, 5)
        assert parts[1] in read and parts[2] not in read

        # an unreadable record: every footer is read again
        (lake / lake_module.PART_ROWS).write_text("{half a record")
        read.clear()
        assert lake_row_breaks(con, lake)["pos_sales"] == (6, 5)
        assert set(parts) <= set(read)


def _count(con: duckdb.DuckDBPyConnection, lake: Path) -> int:
    return con.execute(
        f"select count(*) from read_parquet('{lake}/raw/pos_sales/*/part-*.parquet')"
    ).fetchone()[0]


def test_a_lake_of_another_warehouse_is_refused(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    first, second = tmp_path / "a", tmp_path / "b"
    _pos_day(first, date(2026, 1, 5), 2)
    _pos_day(second, date(2026, 1, 6), 2)
    ingest(first, tmp_path / "a.duckdb", lake_dir=lake, actions=None)
    with pytest.raises(LakeMismatchError, match=r"written from another warehouse: its load 1"):
        ingest(second, tmp_path / "b.duckdb", lake_dir=lake, actions=None)
    # what the second warehouse loaded stays loaded; its own lake is written
    report = ingest(second, tmp_path / "b.duckdb", lake_dir=tmp_path / "lake_b", actions=None)
    assert report.lake.files_written == 1 and not report.lake.breaks


def test_a_delivery_of_no_rows_has_an_empty_part_file(tmp_path: Path) -> None:
    landing, warehouse, lake = tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "lake"
    _pos_day(landing, date(2026, 1, 5), 0)
    # a row every check rejects: quarantined, in the quarantine partition of its file
    _pos_day(landing, date(2026, 1, 6), 1, quantity="two")
    report = ingest(landing, warehouse, lake_dir=lake, actions=None)
    assert [f.rows_loaded for f in report.files] == [0, 0]
    assert report.lake.files_written == 3 and not report.lake.breaks
    empty = lake / "raw" / "pos_sales" / "business_date=2026-01-05"
    assert [p.name for p in empty.iterdir()] == [f"part-{report.files[0].load_id}.parquet"]
    quarantined = lake / "raw" / "quarantine" / "extract=pos_sales" / "business_date=2026-01-06"
    assert [p.name for p in quarantined.iterdir()] == [f"part-{report.files[1].load_id}.parquet"]
    with duckdb.connect() as con:
        assert _count(con, lake) == 0


def test_cli_writes_the_lake_beside_the_warehouse_or_where_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = tmp_path / "landing"
    _pos_day(landing, date(2026, 1, 5), 2)
    monkeypatch.delenv("CONCORD_LAKE_DIR", raising=False)
    warehouse = tmp_path / "one" / "w.duckdb"
    assert cli_main(["--landing", str(landing), "--warehouse", str(warehouse)]) == 0
    assert f"lake {tmp_path / 'one' / 'lake'}: 1 part files written (2 rows)" in (
        capsys.readouterr().out
    )
    monkeypatch.setenv("CONCORD_LAKE_DIR", str(tmp_path / "elsewhere"))
    assert cli_main(["--landing", str(landing), "--warehouse", str(tmp_path / "w2.duckdb")]) == 0
    assert (tmp_path / "elsewhere" / "raw" / "pos_sales").is_dir()
    shutil.rmtree(tmp_path / "elsewhere" / "raw" / "pos_sales")
    # a run with nothing new to load still repairs the lake
    assert cli_main(["--landing", str(landing), "--warehouse", str(tmp_path / "w2.duckdb")]) == 0
    assert "1 part files written (2 rows)" in capsys.readouterr().out


def test_a_corrupt_lake_part_file_is_named_as_a_lake_failure_after_the_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lake's row check reads each part file's footer: a truncated part file fails naming
    the file, and the CLI reports the lake (the load committed), not that it could not start."""
    landing, warehouse, lake = tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "lake"
    monkeypatch.delenv("CONCORD_LAKE_DIR", raising=False)
    _pos_day(landing, date(2026, 1, 5), 1)
    ingest(landing, warehouse, lake_dir=lake)
    (part,) = lake.glob("raw/pos_sales/*/part-*.parquet")
    part.write_bytes(part.read_bytes()[:50])
    _pos_day(landing, date(2026, 1, 6), 1)
    args = ["--landing", str(landing), "--warehouse", str(warehouse), "--lake", str(lake)]
    assert cli_main(args) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"ingestion: loaded, but cannot write the lake {lake}: ")
    assert str(part) in error
    with _read_only(warehouse) as con:
        assert con.execute("select count(*) from raw.pos_sales").fetchone() == (2,)


def test_the_lake_page_is_generated_from_the_contract() -> None:
    page = PROJECT_ROOT / "docs" / "raw_lake.md"
    assert page.read_text() == render_lake(), (
        f"run: python -m ingestion.contract_docs --lake > {page}"
    )


def test_a_type_no_engine_shares_is_refused_by_name() -> None:
    assert lake_type("decimal(18, 2)") == "DECIMAL(18,2)"
    for bad in ("HUGEINT", "UUID", "INTERVAL", "UBIGINT", "MAP(VARCHAR, INTEGER)"):
        table = LakeTable("pos_sales", (("amount", bad),), "extract")
        with pytest.raises(ValueError, match=rf"raw.pos_sales.amount: raw type {re.escape(bad)} "):
            table.select_list()
