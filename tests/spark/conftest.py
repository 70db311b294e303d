"""tests/spark runs by `make test-spark` only (not `make test`). It reuses the shared worlds'
helpers of tests/python/conftest.py (loaded here under another name, without its fixtures and
hooks) and the KPI marts' truth helpers of tests/python/test_kpi_marts.py and the close world of
tests/python/test_period_close.py (which import BuiltWorld and copy_project from `conftest`: this
module re-exports them)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# Spark redacts a configuration value containing "secret" (the shared worlds' salt does), so
# this test's builds, on both engines, hash with a salt of its own (docs/spark.md).
os.environ["CONCORD_PII_SALT"] = "concord-spark-equality-test-salt"

PYTHON_TESTS = Path(__file__).resolve().parents[1] / "python"
_spec = importlib.util.spec_from_file_location("concord_worlds", PYTHON_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_worlds = importlib.util.module_from_spec(_spec)
sys.modules["concord_worlds"] = _worlds
_spec.loader.exec_module(_worlds)
sys.path.insert(0, str(PYTHON_TESTS))

PROJECT_ROOT = _worlds.PROJECT_ROOT
BuiltWorld = _worlds.BuiltWorld
dbt = _worlds.dbt
copy_project = _worlds.copy_project
