"""tests/spark runs by `make test-spark` only (not `make test`): the shared worlds' helpers of
tests/python are imported from there."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
