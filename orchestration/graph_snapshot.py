"""The asset graph as a committed snapshot: every asset's key, group, owners and kinds, and
the names of its checks. tests/python/test_orchestration.py compares the loaded code location
with tests/python/snapshots/asset_graph.json, so that a key, group, owner or check that changes
by accident fails a test. After an intended change, refresh the snapshot and review its diff:

    python -m orchestration.graph_snapshot
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration import settings

SNAPSHOT_PATH = settings.PROJECT_ROOT / "tests" / "python" / "snapshots" / "asset_graph.json"
REFRESH_COMMAND = "python -m orchestration.graph_snapshot"
# Present only when CONCORD_PG_DSN is set (orchestration/publish.py): not part of the snapshot.
CONFIGURED_KEYS = {dg.AssetKey(["publication_postgres"])}


def snapshot(defs: dg.Definitions) -> dict[str, dict[str, Any]]:
    graph = defs.resolve_asset_graph()
    checks: dict[dg.AssetKey, list[str]] = {}
    for check in graph.asset_check_keys:
        checks.setdefault(check.asset_key, []).append(check.name)
    out = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        if key in CONFIGURED_KEYS:
            continue
        node = graph.get(key)
        out[key.to_user_string()] = {
            "group": node.group_name,
            "owners": sorted(node.owners),
            "kinds": sorted(node.kinds),
            "checks": sorted(checks.get(key, [])),
        }
    return out


def differences(expected: dict, actual: dict) -> list[str]:
    """One line per asset added, removed or changed (and what changed), sorted."""
    lines = [f"added asset {k}" for k in sorted(set(actual) - set(expected))]
    lines += [f"removed asset {k}" for k in sorted(set(expected) - set(actual))]
    for key in sorted(set(expected) & set(actual)):
        for field in ("group", "owners", "kinds"):
            if expected[key][field] != actual[key][field]:
                lines.append(f"{key}: {field} {expected[key][field]!r} -> {actual[key][field]!r}")
        was, now = set(expected[key]["checks"]), set(actual[key]["checks"])
        lines += [f"{key}: added check {c}" for c in sorted(now - was)]
        lines += [f"{key}: removed check {c}" for c in sorted(was - now)]
    return lines


def write(path: Path = SNAPSHOT_PATH) -> None:
    from orchestration.definitions import defs

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot(defs), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    write()
    print(f"wrote {SNAPSHOT_PATH.relative_to(settings.PROJECT_ROOT)}", file=sys.stderr)
