"""The pure part of publishing: what is published, whether a build may be, which versions stay,
and who may read what. No I/O here; every function has a unit test."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PUBLISHED_SCHEMA = "marts"
ROLES = ("finance", "merchandising", "supply_chain", "integration", "analyst")
# Column names that would carry personal data in clear. The marts hold only the salted hash of
# a customer's e-mail (docs/decisions.md, "Publishing: what is served"); a relation with any of
# these columns is refused rather than published.
PERSONAL_COLUMNS = frozenset({"email", "e_mail", "full_name", "customer_name", "phone"})
_VERSION = re.compile(r"^v(\d{6,})$")


@dataclass(frozen=True)
class Relation:
    """A relation the served copy holds, with the dbt group and access that decide its grants."""

    schema: str
    name: str
    group: str | None
    access: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Gate:
    """What a build's checks decided: errors block; warnings travel with the publication."""

    passed: tuple[str, ...] = ()
    warned: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default=())

    @property
    def blocked(self) -> bool:
        return bool(self.failed or self.reasons)

    def explain(self) -> str:
        parts = list(self.reasons)
        if self.failed:
            shown = ", ".join(self.failed[:10])
            more = f" and {len(self.failed) - 10} more" if len(self.failed) > 10 else ""
            parts.append(f"{len(self.failed)} blocking failure(s): {shown}{more}")
        return "; ".join(parts) or "passed"


def version_name(number: int) -> str:
    return f"v{number:06d}"


def parse_version(name: str) -> int | None:
    """`v000012` or `v000012.duckdb` -> 12; anything else -> None."""
    match = _VERSION.match(name.removesuffix(".duckdb"))
    return int(match.group(1)) if match else None


def next_version(existing: Iterable[int]) -> int:
    """Versions only grow, also after a rollback: the next is one more than any ever kept."""
    return max(existing, default=0) + 1


def to_delete(versions: Iterable[int], keep: int, current: int | None) -> list[int]:
    """Retention: keep the `keep` newest versions and always the one served; delete the rest."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    ordered = sorted(set(versions), reverse=True)
    kept = set(ordered[:keep])
    if current is not None and current not in kept and current in ordered:
        # The served version (after a rollback) takes the place of the oldest kept one.
        kept.discard(min(kept))
        kept.add(current)
    return sorted(v for v in ordered if v not in kept)


def check_name(unique_id: str) -> str:
    """`test.concord.not_null_mart_net_sales_sku.1a2b3c` -> `not_null_mart_net_sales_sku`."""
    parts = unique_id.split(".")
    return parts[2] if len(parts) >= 3 else unique_id


def gate(run_results: Mapping[str, Any] | None) -> Gate:
    """Decide from a dbt build's run_results.json. A data test that passed, warned or failed
    (dbt reports `fail` only at error severity, `warn` at warning severity); a model, seed or
    snapshot that errored or was skipped, and a test that could not run, block. So does a
    missing or non-build result: nothing is published that was not audited."""
    if not run_results:
        return Gate(reasons=("no dbt build results: the build did not finish",))
    which = (run_results.get("args") or {}).get("which")
    if which != "build":
        return Gate(reasons=(f"the results are of `dbt {which}`, not of `dbt build`",))
    results = run_results.get("results") or []
    if not results:
        return Gate(reasons=("the dbt build ran nothing",))
    passed: list[str] = []
    warned: list[str] = []
    failed: list[str] = []
    for result in results:
        unique_id = result.get("unique_id", "")
        kind = unique_id.split(".")[0]
        status = result.get("status")
        name = check_name(unique_id) if kind == "test" else unique_id
        if kind == "test" and status == "pass":
            passed.append(name)
        elif kind == "test" and status == "warn":
            warned.append(name)
        elif kind == "unit_test" and status == "pass":
            continue
        elif kind != "test" and status in ("success", "pass", "no-op"):
            continue
        else:
            failed.append(f"{name} ({status})")
    return Gate(tuple(sorted(passed)), tuple(sorted(warned)), tuple(sorted(failed)))


def publishable_relations(manifest: Mapping[str, Any]) -> list[Relation]:
    """The dbt models built in the `marts` schema (dimensions, facts, KPI marts, postings, books,
    reconciliations, exceptions, completeness and integration health, the semantic layer's
    inputs). Raw, staging, intermediate, seeds and snapshots are never published."""
    out = []
    for node in manifest.get("nodes", {}).values():
        config = node.get("config") or {}
        if node.get("resource_type") != "model" or node.get("schema") != PUBLISHED_SCHEMA:
            continue
        if not config.get("enabled", True) or config.get("materialized") == "ephemeral":
            continue
        out.append(
            Relation(
                schema=PUBLISHED_SCHEMA,
                name=node.get("alias") or node["name"],
                group=node.get("group") or config.get("group"),
                access=node.get("access") or config.get("access") or "protected",
            )
        )
    return sorted(out, key=lambda r: r.name)


def roles_for(relation: Relation) -> tuple[str, ...]:
    """Who may read a relation: public access, every role (the analysts included); protected or
    private, only the role of its dbt group. A relation without a group is public only if dbt
    says so."""
    if relation.access == "public":
        return ROLES
    if relation.group in ROLES:
        return (relation.group,)
    return ()


def personal_columns(columns: Iterable[str]) -> list[str]:
    return sorted(c for c in columns if c.lower() in PERSONAL_COLUMNS)
