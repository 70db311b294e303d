"""The model folders are in the order the data flows (docs/layers.md): a model reads only from
its own layer or the layers before it, staging reads only its extracts (source()) and the
documented lookups, and only staging reads a raw extract (the other layers may read the
ingestion control tables). Checked on the manifest of the clean world's build, every edge."""

from __future__ import annotations

import json
import re

import pytest
from conftest import PROJECT_ROOT, BuiltWorld

# The layers in the order the data flows: (name, folder). A folder's subfolders belong to it.
LAYERS = [
    ("staging", "models/staging/"),
    ("master data", "models/intermediate/master_data/"),
    ("currency", "models/intermediate/currency/"),
    ("dimensions", "models/marts/core/"),
    ("sales chain", "models/intermediate/sales/"),
    ("inventory ledger", "models/intermediate/inventory/"),
    ("valuation", "models/intermediate/valuation/"),
    ("sales facts", "models/marts/sales/"),
    ("supply chain facts", "models/marts/supply_chain/"),
    ("KPI marts", "models/marts/kpi/"),
    ("postings", "models/books/postings/"),
    ("ledger", "models/books/ledger/"),
    ("reconciliations", "models/controls/reconciliations/"),
    ("exceptions", "models/controls/exceptions/"),
]
# What a staging model may read besides its own extracts, and why.
STAGING_LOOKUPS = {
    "stg_erp__locations": "a location's time zone gives a record its business date",
    "stg_webshop__order_events": "an order's lines and refunds take the order's state",
}
# Outside staging, source() reaches only the ingestion control tables.
CONTROL_SOURCE = "ingestion"


def layer_of(node: dict) -> str | None:
    path = node.get("original_file_path", "")
    for name, folder in LAYERS:
        if path.startswith(folder):
            return name
    return None


@pytest.fixture(scope="module")
def manifest(clean_world: BuiltWorld) -> dict:
    return json.loads((clean_world.warehouse.parent / "target" / "manifest.json").read_text())


def models_and_snapshots(manifest: dict) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "snapshot")]


def test_every_model_is_in_a_layer(manifest: dict) -> None:
    outside = sorted(
        f"{n['original_file_path']}" for n in models_and_snapshots(manifest) if layer_of(n) is None
    )
    assert not outside, f"models in no layer folder of docs/layers.md: {outside}"


def test_no_model_reads_from_a_later_layer(manifest: dict) -> None:
    order = {name: i for i, (name, _) in enumerate(LAYERS)}
    nodes = manifest["nodes"]
    against = []
    for node in models_and_snapshots(manifest):
        mine = layer_of(node)
        for parent_id in node["depends_on"]["nodes"]:
            parent = nodes.get(parent_id)
            if parent is None or parent["resource_type"] not in ("model", "snapshot"):
                continue
            theirs = layer_of(parent)
            if theirs is not None and mine is not None and order[theirs] > order[mine]:
                against.append(f"{node['name']} ({mine}) reads {parent['name']} ({theirs})")
    assert not against, "refs against the layer order (docs/layers.md):\n" + "\n".join(against)


def test_staging_reads_only_its_extracts_and_the_documented_lookups(manifest: dict) -> None:
    nodes = manifest["nodes"]
    found = []
    for node in models_and_snapshots(manifest):
        if layer_of(node) != "staging":
            continue
        for parent_id in node["depends_on"]["nodes"]:
            if parent_id.startswith("source."):
                continue
            name = nodes[parent_id]["name"]
            if name not in STAGING_LOOKUPS:
                found.append(f"{node['name']} reads {name}")
    assert not found, "staging reads beyond source() and the documented lookups:\n" + "\n".join(
        found
    )


def test_only_staging_reads_raw_extracts(manifest: dict) -> None:
    found = []
    for node in models_and_snapshots(manifest):
        if layer_of(node) == "staging":
            continue
        for parent_id in node["depends_on"]["nodes"]:
            if parent_id.startswith("source."):
                source = manifest["sources"][parent_id]
                if source["source_name"] != CONTROL_SOURCE:
                    found.append(f"{node['name']} reads {source['source_name']}.{source['name']}")
    assert not found, "raw extracts read outside staging:\n" + "\n".join(found)


def test_the_layer_document_lists_the_layers_in_this_order() -> None:
    """docs/layers.md is the rule a person reads: its table names each folder, in this order."""
    text = (PROJECT_ROOT / "docs" / "layers.md").read_text()
    listed = re.findall(r"^\| \d+ \| [^|]+ \| `([^`]+)` \|", text, re.M)
    assert listed == [folder for _, folder in LAYERS]
    for lookup in STAGING_LOOKUPS:
        assert f"`{lookup}`" in text, f"docs/layers.md does not name the lookup {lookup}"


def test_every_layer_folder_exists() -> None:
    missing = [folder for _, folder in LAYERS if not (PROJECT_ROOT / folder).is_dir()]
    assert not missing, f"layer folders that do not exist: {missing}"


def test_nothing_outside_the_layers_is_a_model_folder() -> None:
    """A new folder under models/ must be given a place in the order (or belong to one)."""
    folders = {
        str(p.relative_to(PROJECT_ROOT)) + "/"
        for p in (PROJECT_ROOT / "models").rglob("*")
        if p.is_dir() and any(p.glob("*.sql"))
    }
    unplaced = sorted(f for f in folders if not any(f.startswith(x) for _, x in LAYERS))
    assert not unplaced, f"model folders in no layer: {unplaced}"
