"""No engine-only SQL outside dispatched macros (docs/spark.md, "Portable SQL"): the project builds
on DuckDB and on Spark from the same models, so a construct that only one engine runs belongs in
an `adapter.dispatch` macro's engine implementation (default__/duckdb__/spark__/postgres__...).
Reads the project's files only: no build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.python.conftest import PROJECT_ROOT

# construct -> why it is engine-only (the issue 19 trial's findings)
CONSTRUCTS = {
    r"\bvarchar\b(?!\s*\()": "varchar without a length (Spark needs one): write string",
    r"\*\s*(exclude|replace)\s*\(": "* EXCLUDE / * REPLACE (DuckDB only): name the columns",
    r"->>?": "JSON arrows (DuckDB, Postgres): json_extract_text()",
    r"\bjson_each\b|\bjson_array_elements\s*\(": "JSON table functions: json_array_elements()",
    r"::\s*json\b|\bas\s+json\b": "the JSON type (Spark has none): JSON stays text",
    r"\bat\s+time\s+zone\b": "AT TIME ZONE (Spark has none): utc_to_local() / local_to_utc()",
    r"\blist_\w+\s*\(|\barray_\w+\s*\(|\[\s*\]": "lists: the helpers of moving_average.sql",
    r"\bregexp_replace\s*\([^;]*'g'\s*\)": "regexp_replace's 'g' flag: regexp_replace_all()",
    r"\bgetvariable\s*\(|\berror\s*\(": "DuckDB's getvariable() / error()",
    r"\bisodow\b": "extract(isodow ...): iso_day_of_week()",
    r"\b(string_agg|listagg|group_concat)\s*\(": "string aggregation: dbt.listagg()",
    r"\b(arg_max|arg_min|struct_pack|unnest|generate_series|epoch_ms|strftime|strptime)\s*\(": (
        "a DuckDB-only function"
    ),
    r"\bcreate\s+or\s+replace\b|\bdelete\s+from\b|\bupdate\s+\w+(\.\w+)?\s+set\b": (
        "DML and DDL that Parquet tables on Spark do not have"
    ),
    r"\b\w*_date\s*-\s*(\w+\.)?\w*_date\b": "date - date (an interval on Spark): dbt.datediff()",
}

# The engine implementations of a dispatched macro may use their engine's SQL, and so may an
# incremental strategy's get_incremental_<strategy>_sql, which dbt calls on the engines whose
# materialization dispatches by strategy name (Spark's is dbt_spark_get_incremental_sql).
DISPATCHED = re.compile(
    r"^((default|duckdb|spark|postgres|databricks|snowflake|bigquery)__|get_incremental_)"
)
MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\s*\(.*?{%-?\s*endmacro\s*-?%}", re.S)
COMMENTS = re.compile(r"{#.*?#}|--[^\n]*", re.S)
# Jinja expressions and statements are not SQL (a macro call is checked where it is defined)
JINJA = re.compile(r"{{.*?}}|{%.*?%}", re.S)


def sql_of(path: Path) -> str:
    text = COMMENTS.sub("", path.read_text())
    if path.parts[-2] == "macros" or "macros" in path.parts:
        text = MACRO.sub(lambda m: "" if DISPATCHED.match(m.group(1)) else m.group(0), text)
    return JINJA.sub(" ", text)


def checked_files() -> list[Path]:
    roots = [PROJECT_ROOT / "models", PROJECT_ROOT / "macros", PROJECT_ROOT / "tests" / "dbt"]
    return sorted(p for root in roots for p in root.rglob("*.sql"))


def offences(text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for pattern, why in CONSTRUCTS.items():
            if re.search(pattern, line, re.I):
                found.append(f"line {number}: {line.strip()[:100]} ({why})")
    return found


@pytest.mark.parametrize(
    "text, expected",
    [
        ("select cast(x as varchar) from t", 1),
        ("select * exclude (a) from t", 1),
        ("select payload ->> 'id' from t", 1),
        ("select ts at time zone 'UTC' from t", 1),
        ("select list_append(a, 1) from t", 1),
        ("select d.end_date - d.start_date from d", 1),
        ("select cast(x as string), d.business_date - 3 from t", 0),
    ],
)
def test_the_check_finds_each_construct(text: str, expected: int) -> None:
    assert len(offences(text)) == expected, offences(text)


def test_dispatched_implementations_are_exempt_and_others_are_not() -> None:
    macros = "{% macro duckdb__f(x) -%} list_append(x, 1) {%- endmacro %}"
    macros += "\n{% macro g(x) -%} x ->> 'a' {%- endmacro %}"
    text = MACRO.sub(lambda m: "" if DISPATCHED.match(m.group(1)) else m.group(0), macros)
    assert len(offences(JINJA.sub(" ", text))) == 1


def test_no_engine_only_sql_outside_dispatched_macros() -> None:
    problems = [
        f"{path.relative_to(PROJECT_ROOT)} {offence}"
        for path in checked_files()
        for offence in offences(sql_of(path))
    ]
    assert not problems, "engine-only SQL outside a dispatched macro:\n" + "\n".join(problems)


# dbt.listagg(measure, delimiter[, order_by_clause, ...]): the call's arguments up to its ")}}"
LISTAGG = re.compile(r"dbt\.listagg\((.*?)\)\s*-?}}", re.S)


def unordered_lists(text: str) -> list[str]:
    """The dbt.listagg calls without an order: engines (and one engine from one build to the
    next) concatenate in whatever order rows arrive, so the text would differ."""
    return [
        " ".join(call.split())[:100]
        for call in LISTAGG.findall(COMMENTS.sub("", text))
        if not re.search(r"\border\s+by\b", call, re.I)
    ]


def test_the_list_check_finds_an_unordered_list() -> None:
    assert unordered_lists("{{ dbt.listagg('distinct a.x', \"', '\") }}") == [
        "'distinct a.x', \"', '\""
    ]
    assert unordered_lists("{{ dbt.listagg('a.x', \"', '\", 'order by a.x') }}") == []


def test_every_aggregated_list_is_ordered() -> None:
    """A list aggregated without an order differed between DuckDB and Spark once staging became
    tables (supplier invoice numbers of a three-way match: the rows' order had changed)."""
    problems = [
        f"{path.relative_to(PROJECT_ROOT)}: dbt.listagg({call})"
        for path in checked_files()
        for call in unordered_lists(path.read_text())
    ]
    assert not problems, "dbt.listagg without an order by:\n" + "\n".join(problems)
