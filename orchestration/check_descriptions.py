"""A sentence a person understands for every dbt test Dagster shows as an asset check: the
test's own description where it has one, else the leading comment of a singular test (what a
returned row means), else a sentence built from a generic test's arguments."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_REF = re.compile(r"""ref\(\s*['"]([^'"]+)['"]""")


def _ref_name(text: str) -> str:
    found = _REF.search(text or "")
    return found.group(1) if found else str(text)


def _listed(values: Any) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _and_listed(values: Any) -> str:
    """`a`, `b` and `c`."""
    names = [f"`{v}`" for v in values]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _column(kwargs: Mapping[str, Any]) -> str:
    name = kwargs.get("column_name")
    return f"`{name}`" if name else "the row"


def _related(column: str, field: Any, to: Any) -> str:
    """`every `sku` exists as `sku` in dim_product`."""
    return f"every {column} exists as `{field}` in {_ref_name(to or '')}"


def _holds(rule: Any) -> str:
    """An expressions_are_true rule's own description, else "`<expression>` holds on every
    row."."""
    if isinstance(rule, Mapping) and (rule.get("description") or "").strip():
        return " ".join(str(rule["description"]).split())
    expression = rule.get("expression") if isinstance(rule, Mapping) else rule
    return f"`{' '.join(str(expression).split())}` holds on every row."


# Generic test name -> its sentence from the test's arguments (tests/dbt/generic and dbt's own).
SENTENCES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "not_null": lambda k: f"{_column(k)} is never null.",
    "not_null_columns": lambda k: (
        f"{_and_listed(k.get('column_names', []))} "
        f"{'are' if len(k.get('column_names', [])) > 1 else 'is'} never null."
    ),
    "unique": lambda k: f"{_column(k)} is unique: no two rows share a value.",
    "accepted_values": lambda k: f"{_column(k)} is one of: {_listed(k.get('values', []))}.",
    "relationships": lambda k: f"{_related(_column(k), k.get('field'), k.get('to'))}.",
    "relationships_columns": lambda k: (
        "; ".join(
            _related(f"`{r.get('column')}`", r.get("field"), r.get("to"))
            for r in k.get("relationships", [])
        )
        + "."
    ),
    "expression_is_true": lambda k: _holds({"expression": k.get("expression")}),
    "expressions_are_true": lambda k: " ".join(_holds(e) for e in k.get("expressions", [])),
    "unique_combination_of_columns": lambda k: (
        f"one row per ({_listed(k.get('combination_of_columns', []))})."
    ),
    "validity_ranges_do_not_overlap": lambda k: (
        f"validity ranges do not overlap within each ({_listed(k.get('partition_by', []))})."
    ),
    "reconciliation_within_tolerance": lambda k: (
        f"no comparison breaks its tolerance at {k.get('severity_level')} severity (seed "
        "reconciliation_policy)."
    ),
}


def leading_comment(sql: str) -> str:
    """The comment lines that open a singular test's SQL (Jinja lines skipped), as one text."""
    lines = []
    for line in (sql or "").splitlines():
        stripped = line.strip()
        if stripped.startswith(("{{", "{%", "{#")) or not stripped and not lines:
            continue
        if stripped.startswith("--") and not stripped.startswith("-- depends_on"):
            lines.append(stripped[2:].strip())
            continue
        if stripped.startswith("-- depends_on"):
            continue
        break
    return " ".join(lines)


def describe(test: Mapping[str, Any]) -> str:
    """The description of a dbt test node of the manifest."""
    own = (test.get("description") or "").strip()
    if own:
        return own
    metadata = test.get("test_metadata") or {}
    severity = str((test.get("config") or {}).get("severity") or "error").lower()
    where = (test.get("config") or {}).get("where")
    if metadata:
        build = SENTENCES.get(metadata.get("name"))
        kwargs = metadata.get("kwargs") or {}
        if build is None:
            text = f"dbt test {metadata.get('name')} on {_column(kwargs)}."
        else:
            text = build(kwargs)
    else:
        text = leading_comment(test.get("raw_code", "")) or (
            str(test["name"]).removeprefix("assert_").replace("_", " ").capitalize() + "."
        )
    if where and "{" not in str(where):
        text += f" Rows tested: where `{where}`."
    if severity == "warn":
        text += " A warning, not blocking."
    return text
