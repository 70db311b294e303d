"""Publishing as assets: the served DuckDB copy downstream of every mart, and optionally the
PostgreSQL copy downstream of it.

`publication` depends on every model of the `marts` schema. When a dbt test at error severity
fails, the dbt build step fails and Dagster does not run its downstream steps, so nothing is
published; the asset also audits the build's run_results.json itself (publishing.core.gate), so
a run that skipped the dbt step can never publish an unaudited build.
"""

from typing import Any

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration import groups, settings
from orchestration.dbt import concord_dbt_assets
from orchestration.manifest import dbt_manifest
from orchestration.progress import note
from orchestration.resources import ServedCopy, Warehouse
from publishing import core, served
from publishing import settings as publishing_settings

PUBLICATION_KEY = dg.AssetKey(["publication"])
POSTGRES_KEY = dg.AssetKey(["publication_postgres"])


def mart_keys() -> list[dg.AssetKey]:
    manifest = dbt_manifest()
    return [
        get_asset_key_for_model([concord_dbt_assets], relation.name)
        for relation in core.publishable_relations(manifest)
    ]


def publication_metadata(result: served.PublishResult) -> dict[str, Any]:
    publication = result.publication
    return {
        "version": result.name,
        "version_number": dg.MetadataValue.int(result.version),
        "path": dg.MetadataValue.path(str(result.path)),
        "relations": dg.MetadataValue.int(len(result.relations)),
        "rows": dg.MetadataValue.int(sum(result.relations.values())),
        "relation_rows": dg.MetadataValue.json(result.relations),
        "bytes_written": dg.MetadataValue.int(result.bytes_written),
        "seconds": dg.MetadataValue.float(round(result.seconds, 3)),
        "checks_passed": dg.MetadataValue.int(len(result.gate.passed)),
        "checks_warned": dg.MetadataValue.int(len(result.gate.warned)),
        "checks_failed": dg.MetadataValue.int(len(result.gate.failed)),
        "warned_checks": dg.MetadataValue.json(list(result.gate.warned)),
        "open_exceptions": dg.MetadataValue.int(int(publication.get("open_exceptions") or 0)),
        "business_dates": f"{publication.get('first_business_date')}.."
        f"{publication.get('last_business_date')}",
        "incomplete_dates": dg.MetadataValue.json(
            [str(d) for d in publication.get("incomplete_dates") or []]
        ),
        "versions_deleted": dg.MetadataValue.json([core.version_name(v) for v in result.deleted]),
        "written_as": result.written_as,
        "relation_changes": dg.MetadataValue.json(
            {name: change.as_dict() for name, change in result.changes.items()}
        ),
    }


@dg.asset(
    key=PUBLICATION_KEY,
    deps=mart_keys(),
    pool=settings.WAREHOUSE_POOL,
    group_name="publishing",
    owners=groups.integration_owners(),
    kinds={"duckdb"},
    description="The served copy readers open (CONCORD_SERVED_WAREHOUSE): a new immutable "
    "version of the public relations, switched in atomically once the build's blocking checks "
    "passed.",
)
def publication(
    context: dg.AssetExecutionContext, warehouse: Warehouse, served_copy: ServedCopy
) -> dg.MaterializeResult:
    try:
        result = served.publish(
            build=warehouse.file,
            manifest=dbt_manifest(),
            served=served_copy.file,
            keep=served_copy.keep_versions,
        )
    except served.PublishBlocked as blocked:
        raise dg.Failure(
            description=str(blocked),
            metadata={"failed_checks": dg.MetadataValue.json(list(blocked.gate.failed))},
        ) from blocked
    note(
        context,
        f"publish: {result.name} ({len(result.relations)} relations, "
        f"{result.bytes_written:,} bytes, {result.seconds:.1f} s; {result.summary()})",
    )
    return dg.MaterializeResult(metadata=publication_metadata(result))


@dg.asset(
    key=POSTGRES_KEY,
    deps=[PUBLICATION_KEY],
    group_name="publishing",
    owners=groups.integration_owners(),
    kinds={"postgres"},
    description="The served version loaded into PostgreSQL (CONCORD_PG_DSN) for BI tools: one "
    "schema per version, switched in one transaction, with grants per dbt group and access.",
)
def publication_postgres(
    context: dg.AssetExecutionContext, served_copy: ServedCopy
) -> dg.MaterializeResult:
    from publishing import postgres

    dsn = publishing_settings.postgres_dsn()  # a secret: from the environment, never shown
    if not dsn:
        raise dg.Failure("CONCORD_PG_DSN is not set")
    result = postgres.publish(dsn, served_copy.file)
    return dg.MaterializeResult(
        metadata={
            "version": result.schema_version,
            "relations": dg.MetadataValue.int(len(result.relations)),
            "rows": dg.MetadataValue.int(sum(result.relations.values())),
            "seconds": dg.MetadataValue.float(round(result.seconds, 3)),
        }
    )


def publishing_assets() -> list[dg.AssetsDefinition]:
    """The PostgreSQL copy only when a server is configured."""
    if publishing_settings.postgres_dsn():
        return [publication, publication_postgres]
    return [publication]
