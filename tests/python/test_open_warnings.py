"""The open-warnings memory after tests were grouped (orchestration/open_warnings.py,
carry_over): a remembered per-column test the manifest no longer has hands its warning on to
its model's grouped tests of its kind, so the next build tests them over every row, and is
forgotten, as is a remembered test that matches nothing."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from orchestration import open_warnings

NOW = {
    "test.concord.relationships_fct_sales_lines.a1": ("relationships_columns", "fct_sales_lines"),
    "test.concord.relationships_fct_sales_lines_to_dim_date.a2": (
        "relationships_columns",
        "fct_sales_lines",
    ),
    "test.concord.relationships_fct_sales_lines_warn.a3": (
        "relationships_columns",
        "fct_sales_lines",
    ),
    "test.concord.expressions_are_true_fct_sales_lines.b1": (
        "expressions_are_true",
        "fct_sales_lines",
    ),
    "test.concord.relationships_dim_channel.c1": ("relationships_columns", "dim_channel"),
    "test.concord.expressions_are_true_dim_channel.c2": ("expressions_are_true", "dim_channel"),
    "test.concord.not_null_dim_channel.c3": ("not_null_columns", "dim_channel"),
    "test.concord.unique_dim_channel_channel.c4": ("unique", "dim_channel"),
}
MANIFEST = {
    "nodes": {
        **{
            test: {"test_metadata": {"name": kind}, "attached_node": f"model.concord.{model}"}
            for test, (kind, model) in NOW.items()
        },
        "model.concord.fct_sales_lines": {"resource_type": "model", "name": "fct_sales_lines"},
        "model.concord.dim_channel": {"resource_type": "model", "name": "dim_channel"},
    }
}
REMEMBERED = {
    # per-column tests since grouped: a warning on fct_sales_lines' channel, a failed rule
    "test.concord.relationships_fct_sales_lines_channel__channel__ref_dim_channel_.f1": "warn",
    "test.concord.expression_is_true_dim_channel_fee_rate_0.f2": "fail",
    "test.concord.not_null_dim_channel_channel.f3": "pass",
    # a singular test since removed, still warning
    "test.concord.assert_gone.f4": "warn",
    # tests the manifest has
    "test.concord.relationships_fct_sales_lines_warn.a3": "error",
    "test.concord.unique_dim_channel_channel.c4": "warn",
    "test.concord.relationships_dim_channel.c1": "pass",
}


def test_a_grouped_tests_warning_is_carried_to_its_models_grouped_tests_then_forgotten(
    tmp_path: Path,
) -> None:
    memory = tmp_path / "warehouse.test_results.json"
    memory.write_text(json.dumps(REMEMBERED))
    open_warnings.carry_over(memory, MANIFEST)
    assert open_warnings.last_results(memory) == {
        # the model's relationships tests, all of them (which reference warned is not known)
        "test.concord.relationships_fct_sales_lines.a1": "warn",
        "test.concord.relationships_fct_sales_lines_to_dim_date.a2": "warn",
        "test.concord.relationships_fct_sales_lines_warn.a3": "error",  # its own, not passing
        "test.concord.expressions_are_true_dim_channel.c2": "fail",
        "test.concord.unique_dim_channel_channel.c4": "warn",
        "test.concord.relationships_dim_channel.c1": "pass",
    }
    open_warnings.carry_over(memory, MANIFEST)  # nothing left to carry: the same
    assert len(open_warnings.last_results(memory)) == 6
    # the grouped test's pass (over every row, as it did not pass) clears the carried warning
    run_results = tmp_path / "run_results.json"
    run_results.write_text(
        json.dumps(
            {
                "results": [
                    {"unique_id": test, "status": "pass"}
                    for test in open_warnings.not_passing(memory)
                ]
            }
        )
    )
    open_warnings.remember(memory, run_results)
    assert open_warnings.not_passing(memory) == set()


def test_a_manifest_without_tests_changes_nothing(tmp_path: Path) -> None:
    memory = tmp_path / "warehouse.test_results.json"
    memory.write_text(json.dumps(REMEMBERED))
    open_warnings.carry_over(memory, {"nodes": {}})
    assert open_warnings.last_results(memory) == REMEMBERED
    open_warnings.carry_over(tmp_path / "none.json", MANIFEST)  # no memory yet: none made
    assert not (tmp_path / "none.json").exists()


def _carried(tmp_path: Path, remembered: dict[str, str], manifest: dict) -> dict[str, str]:
    memory = tmp_path / "warehouse.test_results.json"
    memory.write_text(json.dumps(remembered))
    open_warnings.carry_over(memory, manifest)
    return open_warnings.last_results(memory)


def test_an_edited_test_keeps_its_memory_under_its_new_id(tmp_path: Path) -> None:
    """dbt's id of a test is `test.<package>.<name>.<hash of its arguments>`: an edited
    argument changes the hash only. The id's name is the test's full name however long (dbt
    shortens a long generated name with an md5 in its alias and file name only), so a long
    generated name whose arguments differ only in characters it cleans ('a-b', 'a b') is
    matched by it too. An edited grouped test may have split (a reference given
    `severity: warn` moves to `relationships_<model>_warn`), and which reference warned is not
    known: a result that did not pass goes to the model's other tests of the kind too."""
    long_name = "accepted_values_fct_sales_lines_restatement_role__booked__reversal_a_b"
    assert len(long_name) >= 64  # dbt's alias of it is shortened and hashed
    manifest = {
        "nodes": {**MANIFEST["nodes"], f"test.concord.{long_name}.n2": {"resource_type": "test"}}
    }
    remembered = {
        # the grouped tests before an edit of their lists: other hashes, the same names
        "test.concord.relationships_fct_sales_lines.e1": "warn",
        "test.concord.expressions_are_true_dim_channel.e2": "pass",
        f"test.concord.{long_name}.e3": "fail",
        # a test the manifest has keeps its own result
        "test.concord.relationships_dim_channel.c1": "pass",
    }
    assert _carried(tmp_path, remembered, manifest) == {
        "test.concord.relationships_fct_sales_lines.a1": "warn",
        # the model's other tests of the kind: a split-off reference may have warned
        "test.concord.relationships_fct_sales_lines_to_dim_date.a2": "warn",
        "test.concord.relationships_fct_sales_lines_warn.a3": "warn",
        "test.concord.expressions_are_true_dim_channel.c2": "pass",  # a pass is kept too
        f"test.concord.{long_name}.n2": "fail",
        "test.concord.relationships_dim_channel.c1": "pass",
    }


def _model(name: str, *columns: str) -> tuple[str, dict]:
    return f"model.concord.{name}", {
        "resource_type": "model",
        "name": name,
        "columns": {c: {"name": c} for c in columns},
    }


def _grouped(kind: str, model: str) -> dict:
    return {"test_metadata": {"name": kind}, "attached_node": f"model.concord.{model}"}


PREFIXED = {
    "nodes": dict(
        [
            _model("dim_product", "sku", "price_band"),
            _model("dim_product_price", "sku", "valid_from_date"),
        ]
    )
    | {
        "test.concord.relationships_dim_product.p1": _grouped(
            "relationships_columns", "dim_product"
        ),
        "test.concord.relationships_dim_product_price.q1": _grouped(
            "relationships_columns", "dim_product_price"
        ),
        "test.concord.not_null_dim_product.p2": _grouped("not_null_columns", "dim_product"),
        "test.concord.not_null_dim_product_price.q2": _grouped(
            "not_null_columns", "dim_product_price"
        ),
        "test.concord.expressions_are_true_dim_product.p3": _grouped(
            "expressions_are_true", "dim_product"
        ),
        "test.concord.expressions_are_true_dim_product_price.q3": _grouped(
            "expressions_are_true", "dim_product_price"
        ),
    },
    # a test disabled in its YAML: dbt keeps it, with the node it is attached to
    "disabled": {
        "test.concord.expression_is_true_dim_product_price_sku_is_not_null.o4": [
            _grouped("expression_is_true", "dim_product")
        ]
    },
}


def test_a_test_of_a_model_whose_name_begins_anothers_goes_to_its_own_model(
    tmp_path: Path,
) -> None:
    """dim_product is the start of dim_product_price: an old test of one model is carried to
    that model's tests alone."""
    remembered = {
        # dim_product_price's sku -> dim_product: the longest model name
        "test.concord.relationships_dim_product_price_sku__sku__ref_dim_product_.o1": "warn",
        # dim_product's column price_band: dim_product_price has no column band
        "test.concord.not_null_dim_product_price_band.o2": "fail",
        # a rule of dim_product_price
        "test.concord.expression_is_true_dim_product_price_valid_from_date_is_not_null.o3": "warn",
        # the manifest says which model it was on: dim_product, though the name reads as
        # dim_product_price's column sku
        "test.concord.expression_is_true_dim_product_price_sku_is_not_null.o4": "error",
    }
    assert _carried(tmp_path, remembered, PREFIXED) == {
        "test.concord.relationships_dim_product_price.q1": "warn",
        "test.concord.not_null_dim_product.p2": "fail",
        "test.concord.expressions_are_true_dim_product_price.q3": "warn",
        "test.concord.expressions_are_true_dim_product.p3": "error",
    }


def test_an_edited_tests_warning_is_kept_when_its_new_id_has_a_result(tmp_path: Path) -> None:
    """The project edited under a running build: the build's results, stored by `remember`,
    have the new id's pass over the rows it rewrote, beside the old id's warning on older
    rows. The warning is moved to the new id all the same, so the next build tests it over
    every row; a pass moved there keeps the new id's own result."""
    remembered = {
        "test.concord.relationships_dim_product.e1": "warn",
        "test.concord.relationships_dim_product.p1": "pass",
        "test.concord.not_null_dim_product.e2": "pass",
        "test.concord.not_null_dim_product.p2": "fail",
    }
    assert _carried(tmp_path, remembered, PREFIXED) == {
        "test.concord.relationships_dim_product.p1": "warn",
        "test.concord.not_null_dim_product.p2": "fail",
    }


RENAMED = {
    "nodes": {u: n for u, n in PREFIXED["nodes"].items() if not u.endswith(("q1", "q2", "q3"))}
    | {
        # dim_product_price's grouped tests renamed: every reference given `severity: warn`,
        # one moved to a test of its parent, every rule and required column given a severity
        "test.concord.relationships_dim_product_price_warn.r1": _grouped(
            "relationships_columns", "dim_product_price"
        ),
        "test.concord.relationships_dim_product_price_to_dim_date.r2": _grouped(
            "relationships_columns", "dim_product_price"
        ),
        "test.concord.not_null_dim_product_price_warn.r3": _grouped(
            "not_null_columns", "dim_product_price"
        ),
        "test.concord.expressions_are_true_dim_product_price_warn.r4": _grouped(
            "expressions_are_true", "dim_product_price"
        ),
    }
}


def test_a_renamed_grouped_tests_warning_goes_to_its_models_tests_of_the_kind(
    tmp_path: Path,
) -> None:
    """A grouped test gone under its name (`<prefix>_<model>`, the prefix its kind's) hands its
    warning to its model's tests of its kind: the model named exactly, not one whose name
    begins it and continues with a column (dim_product's `price_band`: `price`...)."""
    remembered = {
        "test.concord.relationships_dim_product_price.q1": "warn",
        "test.concord.not_null_dim_product_price.q2": "fail",
        "test.concord.expressions_are_true_dim_product_price.q3": "error",
    }
    assert _carried(tmp_path, remembered, RENAMED) == {
        "test.concord.relationships_dim_product_price_warn.r1": "warn",
        "test.concord.relationships_dim_product_price_to_dim_date.r2": "warn",
        "test.concord.not_null_dim_product_price_warn.r3": "fail",
        "test.concord.expressions_are_true_dim_product_price_warn.r4": "error",
    }


def test_the_projects_grouped_tests_are_named_by_their_kind_and_model() -> None:
    """`model_of` reads a renamed grouped test's model from its name: the project names each
    `<GROUPED_NAME[kind]>_<model>`, a second test of the model with a suffix after `_`."""
    root = Path(__file__).resolve().parents[2]
    kinds = set()
    for path in sorted(
        p for d in ("models", "seeds", "snapshots") for p in root.glob(f"{d}/**/*.yml")
    ):
        for nodes in (yaml.safe_load(path.read_text()) or {}).values():
            for node in nodes if isinstance(nodes, list) else []:
                for test in node.get("data_tests") or []:
                    for kind, prefix in open_warnings.GROUPED_NAME.items():
                        if isinstance(test, dict) and kind in test:
                            name = test[kind]["name"]
                            model = f"{prefix}_{node['name']}"
                            assert name == model or name.startswith(f"{model}_"), (path, name)
                            kinds.add(kind)
    assert kinds == set(open_warnings.GROUPED_NAME)
