"""Figures from the semantic layer: MetricFlow compiles each query once to SQL, which runs on the
served copy.

MetricFlow reads the semantic manifest that `dbt parse` writes (target/semantic_manifest.json,
or CONCORD_SEMANTIC_MANIFEST). Its relations name the build warehouse's catalog
("warehouse"."marts"."mart_net_sales"); the served copy holds the same relations in the schema
`marts` of a catalog named after its version file, so the relations are rewritten to
schema-qualified names ("marts"."mart_net_sales") before the engine is built. MetricFlow only
compiles (explain): no query goes through dbt's adapter, and the SQL is the SQL `mf query`
would run, so a tile and `mf query` never disagree. The engine starts once per process
(~1-2 s) and each distinct query compiles once (a few hundred ms), then it is a DuckDB query.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MANIFEST_ENV = "CONCORD_SEMANTIC_MANIFEST"


def manifest_path() -> Path:
    configured = os.environ.get(MANIFEST_ENV)
    return Path(configured) if configured else PROJECT_ROOT / "target" / "semantic_manifest.json"


def served_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The semantic manifest with every relation (semantic models and time spines) named by
    schema and table only, as the served copy holds them."""
    out = json.loads(json.dumps(manifest))
    relations = [m["node_relation"] for m in out.get("semantic_models", [])]
    config = out.get("project_configuration") or {}
    relations += [s["node_relation"] for s in config.get("time_spines", [])]
    relations += [t for t in config.get("time_spine_table_configurations", []) if "location" in t]
    for relation in relations:
        if "alias" not in relation:
            continue
        relation["database"] = None
        relation["relation_name"] = f'"{relation["schema_name"]}"."{relation["alias"]}"'
    return out


@dataclass(frozen=True)
class Query:
    """One MetricFlow request, as `mf query --metrics ... --group-by ... --where ...`."""

    metrics: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ()


class SemanticLayer:
    """Compiles MetricFlow queries to SQL (cached per query) and runs them on a connection."""

    def __init__(self, path: Path | None = None) -> None:
        path = path or manifest_path()
        if not path.is_file():
            raise FileNotFoundError(
                f"no semantic manifest at {path}: run `dbt parse` (make dashboard does) or set "
                f"{MANIFEST_ENV}"
            )
        # Imported here: MetricFlow takes a second to import, and only this class needs it.
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.dbt_manifest_parser import (
            parse_manifest_from_dbt_generated_manifest,
        )
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        manifest = served_manifest(json.loads(path.read_text()))
        parsed = parse_manifest_from_dbt_generated_manifest(json.dumps(manifest))
        self.metrics = {m.name: m for m in parsed.metrics}
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(parsed),
            sql_client=_CompileOnlyClient(),
        )
        self._sql: dict[Query, str] = {}
        self._lock = threading.Lock()

    def label(self, metric: str) -> str:
        return self.metrics[metric].label or metric

    def sql(self, query: Query) -> str:
        """The SQL MetricFlow writes for a query (what `mf query --explain` shows)."""
        with self._lock:
            if query not in self._sql:
                from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

                request = MetricFlowQueryRequest.create(
                    metric_names=list(query.metrics),
                    group_by_names=list(query.group_by) or None,
                    where_constraints=list(query.where) or None,
                    order_by_names=list(query.order_by) or None,
                )
                statement = self._engine.explain(request).sql_statement
                if statement.bind_parameter_set.param_items:
                    raise ValueError(f"{query}: compiled SQL with bind parameters is not supported")
                self._sql[query] = statement.sql
            return self._sql[query]

    def frame(self, con: duckdb.DuckDBPyConnection, query: Query) -> pd.DataFrame:
        return con.execute(self.sql(query)).df()


class _CompileOnlyClient:
    """A MetricFlow SQL client that renders DuckDB SQL and runs nothing: the dashboard runs the
    SQL itself, on the served copy."""

    def __init__(self) -> None:
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self):  # noqa: ANN201 - MetricFlow's SqlEngine enum
        from metricflow.protocols.sql_client import SqlEngine

        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self):  # noqa: ANN201
        return self._renderer

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("the dashboard's MetricFlow client compiles SQL and runs none")

    query = execute = dry_run = _refuse

    def close(self) -> None:
        return None

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def where_in(reference: str, values: Sequence[str]) -> str:
    """A MetricFlow where clause: `{{ Entity('channel') }} in ('store', 'webshop')`."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{{{{ {reference} }}}} in ({quoted})"
