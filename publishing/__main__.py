"""python -m publishing publish | versions | rollback VERSION | postgres

* `publish`: audit the last dbt build (its run_results.json, by default the one the pipeline left
  beside the build warehouse) and, if no blocking check failed, publish a new version (by
  difference from the served version; `--full` writes every relation anew).
* `versions`: the kept versions, the served one marked.
* `rollback VERSION`: serve an earlier kept version (`12` or `v000012`).
* `postgres`: load the served version into PostgreSQL (`CONCORD_PG_DSN`) and switch to it.
Exit codes: 0 done, 2 nothing published because the build's checks blocked it, 1 other errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from publishing import core, served, settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m publishing", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish", help="audit the last build and publish a new version")
    pub.add_argument("--warehouse", type=Path, help="build warehouse (CONCORD_WAREHOUSE)")
    pub.add_argument(
        "--run-results",
        type=Path,
        help="run_results.json of the dbt build (default: beside the build warehouse)",
    )
    pub.add_argument("--manifest", type=Path, help="dbt manifest (default: target/manifest.json)")
    pub.add_argument("--keep", type=int, help="versions to keep (CONCORD_SERVED_KEEP)")
    pub.add_argument(
        "--full",
        action="store_true",
        help="write every relation anew instead of by difference from the served version",
    )
    sub.add_parser("versions", help="list the kept versions")
    back = sub.add_parser("rollback", help="serve an earlier kept version")
    back.add_argument("version", help="e.g. 12 or v000012")
    sub.add_parser("postgres", help="load the served version into PostgreSQL and switch to it")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "publish":
        warehouse = args.warehouse or settings.build_warehouse_path()
        try:
            result = served.publish(
                build=warehouse,
                run_results=served.load_json(
                    args.run_results or settings.build_results_path(warehouse)
                ),
                manifest=served.load_json(args.manifest or settings.manifest_path()),
                keep=args.keep,
                full=args.full,
            )
        except served.PublishBlocked as blocked:
            print(f"{blocked}; the served copy still shows the previous version", file=sys.stderr)
            return 2
        print(
            f"published {result.name}: {len(result.relations)} relations, "
            f"{sum(result.relations.values())} rows, {result.bytes_written} bytes in "
            f"{result.seconds:.2f} s; checks passed {len(result.gate.passed)}, warned "
            f"{len(result.gate.warned)}; served at {settings.served_path()}; {result.summary()}"
        )
        return 0
    if args.command == "versions":
        kept = served.list_versions()
        if not kept:
            print(f"no versions under {settings.versions_dir()}")
        for v in kept:
            first, last = v.business_dates
            print(
                f"{'*' if v.current else ' '} {core.version_name(v.number)}  "
                f"published {v.published_at or '?'}  dates {first or '?'}..{last or '?'}  "
                f"{v.bytes} bytes"
            )
        return 0
    if args.command == "rollback":
        number = core.parse_version(args.version) or (
            int(args.version) if args.version.isdigit() else None
        )
        if number is None:
            print(f"not a version: {args.version!r} (e.g. 12 or v000012)", file=sys.stderr)
            return 1
        try:
            path = served.rollback(number)
        except (FileNotFoundError, RuntimeError) as error:
            print(error, file=sys.stderr)
            return 1
        print(f"serving {core.version_name(number)} ({path})")
        return 0
    if args.command == "postgres":
        from publishing import postgres

        dsn = settings.postgres_dsn()
        if not dsn:
            print("CONCORD_PG_DSN is not set", file=sys.stderr)
            return 1
        result = postgres.publish(dsn, settings.served_path())
        print(f"PostgreSQL serves {result.schema_version}: {len(result.relations)} relations")
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
