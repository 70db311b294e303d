"""A local PostgreSQL server for the served copy: `python -m publishing.pg_cluster start|stop`.

Installs Debian's `postgresql` package when no server binaries are found (root and apt-get
needed; otherwise it says what to install), creates a cluster in a data directory (default
`data/postgres`, `CONCORD_PG_DATA`), starts it on 127.0.0.1 (`CONCORD_PG_PORT`, default 5432)
with trust authentication for local connections only, and creates the `concord` superuser and
database. PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` user,
which must be able to reach the data directory. Prints the DSN to use as CONCORD_PG_DSN.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from publishing import settings

SUPERUSER = "concord"
DATABASE = "concord"


def _bin_dir() -> Path | None:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def install() -> Path:
    """The server binaries' directory, installing Debian's package if they are missing."""
    found = _bin_dir()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(
            "PostgreSQL server binaries not found: install Debian's `postgresql` package "
            "(apt-get install postgresql) or put initdb and pg_ctl on PATH"
        )
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"],
        check=True,
        env=env,
    )
    found = _bin_dir()
    if not found:
        raise RuntimeError("apt-get installed postgresql but initdb is still missing")
    return found


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def data_dir() -> Path:
    value = os.environ.get("CONCORD_PG_DATA", "data/postgres")
    path = Path(value)
    return path if path.is_absolute() else settings.PROJECT_ROOT / path


def port() -> int:
    return int(os.environ.get("CONCORD_PG_PORT", "5432"))


def dsn(port_number: int) -> str:
    return f"host=127.0.0.1 port={port_number} user={SUPERUSER} dbname={DATABASE}"


def start(directory: Path, port_number: int) -> str:
    """Create (if needed) and start the cluster; returns its DSN. Idempotent."""
    bindir = install()
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        directory.chmod(0o700)
        reachable = subprocess.run(
            _as_server_user(["test", "-w", str(directory)]), capture_output=True
        )
        if reachable.returncode != 0:
            raise RuntimeError(
                f"the postgres user cannot reach {directory}: set CONCORD_PG_DATA to a folder "
                "outside root's home (e.g. one `mktemp -d` makes)"
            )
    if not (directory / "PG_VERSION").exists():
        subprocess.run(
            _as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(directory),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            check=True,
            capture_output=True,
        )
    status = subprocess.run(
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(directory), "status"]),
        capture_output=True,
    )
    if status.returncode != 0:
        options = f"-p {port_number} -k {directory} -c listen_addresses=127.0.0.1"
        started = subprocess.run(
            _as_server_user(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(directory),
                    "-o",
                    options,
                    "-l",
                    str(directory / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
        )
        if started.returncode != 0:
            log = (directory / "server.log").read_text()[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{log}")
    _create_database(port_number)
    return dsn(port_number)


def _create_database(port_number: int) -> None:
    import psycopg2

    deadline = time.monotonic() + 30
    while True:
        try:
            con = psycopg2.connect(
                host="127.0.0.1", port=port_number, user=SUPERUSER, dbname="postgres"
            )
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    con.autocommit = True
    with con.cursor() as cursor:
        cursor.execute("select 1 from pg_database where datname = %s", [DATABASE])
        if cursor.fetchone() is None:
            cursor.execute(f"create database {DATABASE}")
    con.close()


def stop(directory: Path) -> None:
    bindir = install()
    if (directory / "PG_VERSION").exists():
        subprocess.run(
            _as_server_user(
                [str(bindir / "pg_ctl"), "-D", str(directory.resolve()), "-m", "fast", "stop"]
            ),
            capture_output=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m publishing.pg_cluster", description=__doc__)
    parser.add_argument("command", choices=["install", "start", "stop"])
    parser.add_argument("--dir", type=Path, default=None, help="data directory (CONCORD_PG_DATA)")
    parser.add_argument("--port", type=int, default=None, help="port (CONCORD_PG_PORT)")
    args = parser.parse_args(argv)
    directory = args.dir or data_dir()
    if args.command == "install":
        print(f"PostgreSQL server binaries: {install()}")
    elif args.command == "start":
        print(f"PostgreSQL is running; CONCORD_PG_DSN='{start(directory, args.port or port())}'")
    else:
        stop(directory)
        print(f"PostgreSQL at {directory} stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
