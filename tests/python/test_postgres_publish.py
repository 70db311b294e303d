"""Publishing to a real PostgreSQL server: a throwaway cluster started by the same helper as
`make postgres` (it fails, never skips, when PostgreSQL cannot be installed or started).

One version schema per publication, switched in one transaction; grants per dbt group and
access tested by logging in as a member of each role; a reader querying during a publish sees
one version or the other, never a mixture, and does not block the publish."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg2
import pytest
from psycopg2 import errors
from test_publish import PASSING, make_build

from publishing import core, pg_cluster, postgres, served

# mart_exceptions is restricted to its group here (protected access) to prove group-only grants;
# every mart of the project is public today.
MANIFEST = {
    "nodes": {
        "model.concord.mart_net_sales": {
            "resource_type": "model",
            "schema": "marts",
            "name": "mart_net_sales",
            "group": "finance",
            "access": "public",
            "config": {"materialized": "table"},
        },
        "model.concord.mart_exceptions": {
            "resource_type": "model",
            "schema": "marts",
            "name": "mart_exceptions",
            "group": "finance",
            "access": "protected",
            "config": {"materialized": "view"},
        },
    }
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict]:
    # Outside pytest's private temporary folder: the server runs as the postgres user.
    directory = Path(tempfile.mkdtemp(prefix="concord-pg-"))
    port = free_port()
    dsn = pg_cluster.start(directory, port)
    try:
        with psycopg2.connect(dsn) as con, con.cursor() as cursor:
            postgres._ensure_roles(cursor)
            for role in core.ROLES:
                cursor.execute(f"create role {role}_reader login in role {role}")
        yield {"dsn": dsn, "port": port}
    finally:
        pg_cluster.stop(directory)
        shutil.rmtree(directory, ignore_errors=True)


def login(cluster: dict, role: str) -> psycopg2.extensions.connection:
    con = psycopg2.connect(
        host="127.0.0.1", port=cluster["port"], user=f"{role}_reader", dbname="concord"
    )
    con.autocommit = True
    return con


def publish_version(tmp_path: Path, net_sales: float) -> Path:
    build = make_build(tmp_path / "warehouse.duckdb", net_sales)
    served_path = tmp_path / "served" / "served.duckdb"
    served.publish(build, PASSING, MANIFEST, served_path, keep=5)
    return served_path


def test_publish_grants_and_denials_per_role(cluster: dict, tmp_path: Path) -> None:
    served_path = publish_version(tmp_path, 100.0)
    result = postgres.publish(cluster["dsn"], served_path, MANIFEST, keep=3)
    assert result.relations == {
        "marts.mart_exceptions": 4,
        "marts.mart_net_sales": 2,
        "marts.publication": 1,
    }
    version = result.schema_version
    for role in core.ROLES:
        with login(cluster, role) as con, con.cursor() as cursor:
            cursor.execute("select max(version_name) from marts.publication")
            assert cursor.fetchone()[0] == version
            cursor.execute("select sum(net_sales) from marts.mart_net_sales")
            assert float(cursor.fetchone()[0]) == 101.0
            if role == "finance":
                cursor.execute("select count(*) from marts.mart_exceptions")
                assert cursor.fetchone()[0] == 4
            else:
                with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
                    cursor.execute("select count(*) from marts.mart_exceptions")
    with psycopg2.connect(cluster["dsn"]) as con, con.cursor() as cursor:
        cursor.execute(
            "select nspname from pg_namespace where nspname not like 'pg_%' "
            "and nspname <> 'information_schema' order by 1"
        )
        schemas = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            "select data_type from information_schema.columns where "
            "table_schema = 'marts' and table_name = 'publication' "
            "and column_name = 'load_ids'"
        )
        assert cursor.fetchone()[0] == "ARRAY"
        cursor.execute("select load_ids, checks_passed from marts.publication")
        assert cursor.fetchone() == ([1, 2], ["not_null_mart_net_sales_sku"])
    assert not {"raw", "staging", "intermediate", "seeds"} & set(schemas)


def test_a_reader_during_a_publish_sees_one_version_and_does_not_block_it(
    cluster: dict, tmp_path: Path
) -> None:
    served_path = publish_version(tmp_path, 100.0)
    postgres.publish(cluster["dsn"], served_path, MANIFEST, keep=3)
    expected = {}
    with psycopg2.connect(cluster["dsn"]) as con, con.cursor() as cursor:
        cursor.execute("select max(version) from marts.publication")
        expected[cursor.fetchone()[0]] = 101.0
    reads: list[tuple] = []
    failures: list[str] = []
    stop = threading.Event()

    def read() -> None:
        with login(cluster, "analyst") as con, con.cursor() as cursor:
            while not stop.is_set():
                try:
                    cursor.execute(
                        "select (select max(version) from marts.publication), "
                        "(select sum(net_sales) from marts.mart_net_sales)"
                    )
                    version, total = cursor.fetchone()
                    reads.append((version, float(total)))
                except psycopg2.Error as error:
                    failures.append(str(error))
                time.sleep(0.01)

    # A second reader holds a transaction open on the served tables for the whole publish.
    holder = login(cluster, "analyst")
    holder.autocommit = False
    with holder.cursor() as cursor:
        cursor.execute("select count(*) from marts.mart_net_sales")
    thread = threading.Thread(target=read)
    thread.start()
    try:
        time.sleep(0.3)
        make_build(tmp_path / "warehouse.duckdb", 300.0)
        served.publish(tmp_path / "warehouse.duckdb", PASSING, MANIFEST, served_path, keep=5)
        started = time.monotonic()
        result = postgres.publish(cluster["dsn"], served_path, MANIFEST, keep=3)
        seconds = time.monotonic() - started
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join(timeout=30)
        holder.rollback()
        holder.close()
    expected[core.parse_version(result.schema_version)] = 301.0
    assert failures == []
    assert {v for v, _ in reads} == set(expected), "the reader saw both versions"
    assert all(expected[v] == total for v, total in reads), "a read mixed versions"
    assert seconds < 10, f"the publish took {seconds:.1f} s beside an open reader"


def test_retention_drops_old_version_schemas(cluster: dict, tmp_path: Path) -> None:
    served_path = publish_version(tmp_path, 100.0)
    for _ in range(4):
        served.publish(tmp_path / "warehouse.duckdb", PASSING, MANIFEST, served_path, keep=5)
        postgres.publish(cluster["dsn"], served_path, MANIFEST, keep=2)
    with psycopg2.connect(cluster["dsn"]) as con, con.cursor() as cursor:
        cursor.execute("select nspname from pg_namespace where nspname ~ '^v[0-9]+_marts$'")
        parked = [r[0] for r in cursor.fetchall()]
    assert len(parked) == 1, parked  # with the served `marts`, two versions


def test_relations_unchanged_since_the_served_version_are_copied_in_the_server(
    cluster: dict, tmp_path: Path
) -> None:
    build = make_build(tmp_path / "warehouse.duckdb", 100.0)
    with duckdb.connect(str(build)) as con:  # rows enough that one change is patched
        con.execute(
            "insert into marts.mart_net_sales select date '2026-01-03', 'SKU' || i, 0 "
            "from range(3, 11) r(i)"
        )
    served_path = tmp_path / "served" / "served.duckdb"
    served.publish(build, PASSING, MANIFEST, served_path, keep=5)
    assert postgres.publish(cluster["dsn"], served_path, MANIFEST, keep=3).copied_in_server == []
    with duckdb.connect(str(build)) as con:
        con.execute("update marts.mart_net_sales set net_sales = 250 where sku = 'SKU1'")
    second = served.publish(build, PASSING, MANIFEST, served_path, keep=5)
    assert {n: c.action for n, c in second.changes.items()} == {
        "marts.mart_exceptions": "kept",
        "marts.mart_net_sales": "patched",
    }
    result = postgres.publish(cluster["dsn"], served_path, MANIFEST, keep=3)
    assert result.copied_in_server == ["mart_exceptions"]
    assert result.relations["marts.mart_exceptions"] == 4
    for role in ("finance", "analyst"):  # the grants of the copied relation are the version's
        with login(cluster, role) as con, con.cursor() as cursor:
            cursor.execute("select max(version), count(*) from marts.publication")
            assert cursor.fetchone() == (2, 2)
            cursor.execute("select sum(net_sales) from marts.mart_net_sales")
            assert float(cursor.fetchone()[0]) == 251.0
            if role == "finance":
                cursor.execute("select severity, status from marts.mart_exceptions order by 1, 2")
                assert len(cursor.fetchall()) == 4
            else:
                with pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
                    cursor.execute("select count(*) from marts.mart_exceptions")
    # A version written from one PostgreSQL never served: everything is loaded from DuckDB.
    served.publish(build, PASSING, MANIFEST, served_path, keep=5)
    served.publish(build, PASSING, MANIFEST, served_path, keep=5)
    assert postgres.publish(cluster["dsn"], served_path, MANIFEST, keep=3).copied_in_server == []
    # Another served copy whose version 5 was written from its own version 4, while PostgreSQL
    # serves the first copy's version 4: same number, another publication: nothing is lent.
    other = make_build(tmp_path / "other.duckdb", 7.0)
    other_served = tmp_path / "other" / "served.duckdb"
    for _ in range(5):
        last = served.publish(other, PASSING, MANIFEST, other_served, keep=5)
    assert (last.version, last.written_as) == (5, "by difference from v000004")
    assert postgres.publish(cluster["dsn"], other_served, MANIFEST, keep=3).copied_in_server == []
    with login(cluster, "finance") as con, con.cursor() as cursor:
        cursor.execute("select sum(net_sales) from marts.mart_net_sales")
        assert float(cursor.fetchone()[0]) == 8.0


def test_pg_types_follow_duckdb_types() -> None:
    assert postgres.pg_type("DECIMAL(18,2)") == "numeric(18, 2)"
    assert postgres.pg_type("VARCHAR[]") == "text[]"
    assert postgres.pg_type("DATE[]") == "date[]"
    assert postgres.pg_type("TIMESTAMP") == "timestamp"
    assert os.path.basename(postgres.version_schema("v000003")) == "v000003_marts"
