"""The salt that hashes personal data, and the dbt-duckdb plugin that hands it to the warehouse.

The salt never appears in SQL: dbt renders ``getvariable('concord_pii_salt')`` (macro
``hash_pii``) and this plugin sets that DuckDB variable on every connection dbt opens, so no
compiled model, log or artifact under ``target/`` holds it. ``CONCORD_PII_SALT`` is required
for any landing zone but the default simulated world (``data/landing``), which alone may use
the documented development salt.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ingestion.contract import PROJECT_ROOT

DEV_SALT = "concord-dev-salt-not-secret"
DEFAULT_LANDING_DIR = "data/landing"
VARIABLE = "concord_pii_salt"


class PiiSaltMissing(RuntimeError):
    """CONCORD_PII_SALT is required here and not set."""


def _is_default_landing(value: str) -> bool:
    path = Path(value)
    path = path if path.is_absolute() else PROJECT_ROOT / path
    return path.resolve() == (PROJECT_ROOT / DEFAULT_LANDING_DIR).resolve()


def pii_salt(environ: Mapping[str, str] = os.environ) -> str:
    """The salt for this environment; refuses a missing salt outside the default world."""
    salt = environ.get("CONCORD_PII_SALT", "")
    if salt:
        return salt
    landing = environ.get("CONCORD_LANDING_DIR", DEFAULT_LANDING_DIR)
    if _is_default_landing(landing):
        return DEV_SALT
    raise PiiSaltMissing(
        f"CONCORD_PII_SALT is not set: the landing zone {landing} is not the default "
        "simulated world, so personal data needs a secret salt of its own "
        "(export CONCORD_PII_SALT=...; keep it out of the repository)"
    )


try:  # the plugin only when dbt-duckdb is importable (it is in the pinned stack)
    from dbt.adapters.duckdb.plugins import BasePlugin
except ImportError:  # pragma: no cover - ingestion without dbt
    BasePlugin = object  # type: ignore[assignment,misc]


class Plugin(BasePlugin):  # type: ignore[misc,valid-type]
    """dbt-duckdb plugin (profiles.yml: ``plugins: [{module: ingestion.pii}]``): sets the salt
    as a DuckDB variable on each connection and cursor dbt uses."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.salt = pii_salt()

    def _set(self, connection: Any) -> None:
        connection.execute(f"set variable {VARIABLE} = ?", [self.salt])

    def configure_connection(self, conn: Any) -> None:
        self._set(conn)

    def configure_cursor(self, cursor: Any) -> None:
        self._set(cursor)
