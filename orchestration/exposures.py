"""The dbt exposures (models/exposures.yml: the control tower's pages) as Dagster assets, so
lineage ends at the reader in Dagster as in the dbt docs: each page depends on the publication
it reads and on the marts its exposure names, owned by the exposure's owner. They are never
materialized: the dashboard reads the served copy when someone opens a page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.dbt import concord_dbt_assets
from orchestration.manifest import dbt_manifest
from orchestration.publish import PUBLICATION_KEY


def exposure_specs(manifest: Mapping[str, Any] | None = None) -> list[dg.AssetSpec]:
    if manifest is None:
        manifest = dbt_manifest()
    specs = []
    for exposure in sorted(manifest.get("exposures", {}).values(), key=lambda e: e["name"]):
        models = [
            manifest["nodes"][node]["name"]
            for node in exposure.get("depends_on", {}).get("nodes", [])
            if node.startswith("model.")
        ]
        owner = exposure.get("owner") or {}
        specs.append(
            dg.AssetSpec(
                key=dg.AssetKey(["dashboard", exposure["name"]]),
                deps=[
                    PUBLICATION_KEY,
                    *(get_asset_key_for_model([concord_dbt_assets], m) for m in models),
                ],
                description=exposure.get("description"),
                group_name="dashboard",
                kinds={"streamlit"},
                owners=[owner["email"]] if owner.get("email") else [],
                metadata={
                    "url": dg.MetadataValue.url(exposure["url"]) if exposure.get("url") else "",
                    "metrics": [m[-1] for m in exposure.get("metrics", []) if m],
                    "dbt_exposure": exposure["unique_id"],
                },
            )
        )
    return specs
