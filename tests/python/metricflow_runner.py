"""MetricFlow queries in one process, run by test_semantic_layer.py:
`python metricflow_runner.py REQUEST OUT`.

REQUEST is a JSON file: the project directory, the semantic manifest that `dbt build` wrote for
the world (its target path) and a list of queries, each `{"metrics": [...], "group_by": [...],
"where": [...]}` or `{"saved_query": name}`. The warehouse is CONCORD_WAREHOUSE, read through
the project's dbt profile, as `mf query` reads it. The engine starts once (the slow part of
`mf`) and answers every query; OUT receives, per query, the column names, the rows (decimals as
strings, dates in ISO form) and the seconds the query took. Its own process, so that the dbt
adapter's connection to the warehouse ends with it."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
import time
from pathlib import Path

from dbt.adapters.factory import get_adapter_by_type
from dbt_metricflow.cli.dbt_connectors.adapter_backed_client import AdapterBackedSqlClient
from dbt_metricflow.cli.dbt_connectors.dbt_config_accessor import dbtProjectMetadata
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow_semantics.model.dbt_manifest_parser import (
    parse_manifest_from_dbt_generated_manifest,
)
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup


def plain(value: object) -> object:
    """A JSON value that keeps the figure exact: decimals as strings, dates in ISO form."""
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def main(request_path: Path, out: Path) -> None:
    request = json.loads(request_path.read_text())
    project = Path(request["project_dir"])
    started = time.perf_counter()
    metadata = dbtProjectMetadata.load_from_paths(
        profiles_path=project / "profiles", project_path=project
    )
    manifest = parse_manifest_from_dbt_generated_manifest(
        Path(request["semantic_manifest"]).read_text()
    )
    engine = MetricFlowEngine(
        semantic_manifest_lookup=SemanticManifestLookup(manifest),
        sql_client=AdapterBackedSqlClient(get_adapter_by_type(metadata.profile.credentials.type)),
    )
    start_up = time.perf_counter() - started
    answers = []
    for query in request["queries"]:
        started = time.perf_counter()
        result = engine.query(
            MetricFlowQueryRequest.create(
                saved_query_name=query.get("saved_query"),
                metric_names=query.get("metrics"),
                group_by_names=query.get("group_by"),
                where_constraints=query.get("where"),
            )
        )
        table = result.result_df
        answers.append(
            {
                "columns": list(table.column_names),
                "rows": [[plain(value) for value in row] for row in table.rows],
                "seconds": time.perf_counter() - started,
            }
        )
    out.write_text(json.dumps({"start_up_seconds": start_up, "answers": answers}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
