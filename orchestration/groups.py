"""The asset graph's groups: by source system for landing, raw and staging, then by business
domain. FOLDER_GROUPS is the one place that maps a folder of the dbt project to its group; the
ingestion, stray-file and publishing assets name theirs from GROUPS below.

A folder not in FOLDER_GROUPS (nor under one that is) stops the code location from loading with
a message naming it: a new folder must be given a group here, never make one by accident.
"""

from __future__ import annotations

from functools import cache
from pathlib import PurePosixPath

from ingestion.contract import load_contract
from orchestration.manifest import dbt_manifest

# Every group of the graph, with what it holds (docs: README, "The Dagster asset graph").
GROUPS: dict[str, str] = {
    "pos": "The stores' point of sale: its landing files, raw tables and staging models.",
    "webshop": "The webshop: its landing files, raw tables and staging models.",
    "marketplace": "The marketplace settlements: landing files, raw tables, staging models.",
    "wms": "The warehouse management system: landing files, raw tables, staging models.",
    "erp": "The ERP: master data, purchasing, transfers, journals; landing, raw and staging.",
    "planning": "The demand planning system: landing files, raw tables, staging models.",
    "master_data": "Dimensions and reference data: calendar, FX, products and their item codes, "
    "locations, suppliers, accounts, the seeds.",
    "sales": "Sales lines of every channel, converted and allocated, and their facts.",
    "supply_chain": "Inventory movements and positions, receipts and the moving-average valuation.",
    "kpi": "The KPI marts: net sales, COGS, available inventory, demand forecast and its accuracy.",
    "books": "Posting events, the general ledger and the trial balances.",
    "controls": "Ingestion's load log and quarantine, completeness, reconciliations and the "
    "exception queue.",
    "publishing": "The served copy readers open, and its PostgreSQL copy.",
    "dashboard": "The control tower's pages (dbt exposures): what each reads of the served copy.",
}

# Folder of a dbt resource's file (under models/, or seeds/) -> group, in the
# order the data flows (docs/layers.md).
FOLDER_GROUPS: dict[str, str] = {
    "staging/pos": "pos",
    "staging/webshop": "webshop",
    "staging/marketplace": "marketplace",
    "staging/wms": "wms",
    "staging/erp": "erp",
    "staging/planning": "planning",
    "staging/ingestion": "controls",
    "intermediate/master_data": "master_data",
    "intermediate/currency": "master_data",
    "intermediate/sales": "sales",
    "intermediate/inventory": "supply_chain",
    "intermediate/valuation": "supply_chain",
    "marts/core": "master_data",
    "marts/sales": "sales",
    "marts/supply_chain": "supply_chain",
    "marts/kpi": "kpi",
    "books": "books",
    "controls": "controls",
    "seeds": "master_data",
}


class UnmappedFolder(ValueError):
    """A dbt resource lives in a folder FOLDER_GROUPS does not map."""


def folder_of(original_file_path: str) -> str:
    """The folder of a dbt resource's file, as FOLDER_GROUPS keys it: models/ dropped."""
    parts = PurePosixPath(original_file_path).parent.parts
    return "/".join(parts[1:] if parts and parts[0] == "models" else parts)


def group_for_folder(folder: str) -> str:
    """The group of a folder: its own entry, else its nearest mapped parent's."""
    parts = folder.split("/")
    for end in range(len(parts), 0, -1):
        group = FOLDER_GROUPS.get("/".join(parts[:end]))
        if group:
            return group
    raise UnmappedFolder(
        f"dbt folder {folder!r} has no asset group: add it to FOLDER_GROUPS in "
        "orchestration/groups.py (and the snapshot: see tests/python/test_orchestration.py)"
    )


def system_owners() -> dict[str, list[str]]:
    """Each source system's data owner, from the extract contract (its source's meta owner)."""
    owners: dict[str, list[str]] = {}
    for extract in load_contract().values():
        if extract.owner:
            owners.setdefault(extract.system, [extract.owner])
    return owners


@cache
def dbt_group_owners() -> dict[str, list[str]]:
    """Each dbt group's owner e-mail (models/_groups.yml), from the parsed project."""
    manifest = dbt_manifest()
    owners: dict[str, list[str]] = {}
    for group in manifest.get("groups", {}).values():
        email = (group.get("owner") or {}).get("email")
        owners[group["name"]] = [email] if email else []
    return owners


def integration_owners() -> list[str]:
    """The owners of ingestion's own tables and of publishing: the dbt group integration."""
    return dbt_group_owners().get("integration", [])
