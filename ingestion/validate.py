"""Row validation against the contract, generated as DuckDB SQL.

Every data row of a file becomes one row of the temporary stage table ``_ingest_stage``:
``file_key`` (the file's load id), ``row_number``, ``raw_text``, ``problem`` (NULL for a good row,
else a struct rule / column_name / bad_value / detail) and the contract columns, typed.

Checks, in this order, the first failing one wins (one quarantine row per rejected row):

1. Structure. CSV/TSV: no carriage return at the end of the line (``line_terminator``; a file
   whose header ends with one fails as a whole), balanced quoting (``quoting``) and exactly one
   field per contract column (``field_count``); a quote inside an unquoted field is plain text.
   JSON lines: the line is valid JSON (``json``), is an object (``json``) and has no key outside
   the contract (``unexpected_key``).
2. Each column in contract order: not null unless nullable (``not_null``; an empty CSV/TSV field,
   a JSON null or a missing JSON key is null), JSON value kind (a number for integer and decimal
   columns, a string for text, dates and timestamps, true/false for booleans, an object or array
   for json columns; rule ``type:<data_type>``), the text form of the contract type
   (``type:<data_type>``: integers ``[+-]digits``; decimals with '.' and at most the contract's
   scale of decimal places; dates ``YYYY-MM-DD``; ``utc_timestamp`` columns
   ``YYYY-MM-DDTHH:MM:SSZ``; ``local_timestamp`` columns ``YYYY-MM-DD HH:MM:SS``; booleans
   ``true``/``false``; json columns valid JSON, rule ``json``), accepted values
   (``accepted_values``), and for json columns with declared ``fields``: each element (of an
   array) or the object itself is an object, has no undeclared key (``unexpected_key``) and each
   present, non-null field has its declared type (``type:<data_type>``; fields may be absent).

Parquet carries native types: each file's schema is checked as a whole first (the contract's
column names, in any order, with types that can hold the contract type, see
``parquet_type_problem``; a mismatch fails the file), then rows are checked for nulls, values that
change when cast to the contract type (``type:<data_type>``) and accepted values. The raw text of a
Parquet row is its JSON rendering.
"""

from __future__ import annotations

import re

from ingestion.contract import Column, Extract

STAGE_TABLE = "_ingest_stage"
CONTENT_TABLE = "_ingest_content"  # file_key BIGINT, content (large) string: text formats

DECIMAL_RE = re.compile(r"decimal\((\d+),\s*(\d+)\)")
INTEGER_TYPES = {
    "tinyint",
    "smallint",
    "integer",
    "bigint",
    "hugeint",
    "utinyint",
    "usmallint",
    "uinteger",
    "ubigint",
}
JSON_NUMBER_TYPES = ("BIGINT", "UBIGINT", "DOUBLE")
JSON_KIND_NAMES = {
    "VARCHAR": "string",
    "BIGINT": "number",
    "UBIGINT": "number",
    "DOUBLE": "number",
    "BOOLEAN": "boolean",
    "ARRAY": "array",
    "OBJECT": "object",
    "NULL": "null",
}


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_type(data_type: str) -> str:
    """DuckDB type of a contract data type (json is DuckDB's JSON type)."""
    return data_type.upper()


def rule_for(column: Column | str) -> str:
    data_type = column if isinstance(column, str) else column.data_type
    return "json" if data_type == "json" else f"type:{data_type}"


def _decimal(data_type: str) -> tuple[int, int] | None:
    match = DECIMAL_RE.fullmatch(data_type)
    return (int(match.group(1)), int(match.group(2))) if match else None


def expectation(data_type: str, value_format: str | None = None) -> str:
    """What a bad value is not, for messages: "'x7' is not an integer"."""
    decimal = _decimal(data_type)
    if decimal:
        return f"is not a decimal number with '.' and at most {decimal[1]} decimal places"
    if data_type in INTEGER_TYPES:
        return f"is not an {data_type}" if data_type == "integer" else f"is not a {data_type}"
    if data_type == "timestamp" and value_format == "utc_timestamp":
        return "is not a UTC timestamp YYYY-MM-DDTHH:MM:SSZ"
    if data_type == "timestamp" and value_format == "local_timestamp":
        return "is not a local timestamp YYYY-MM-DD HH:MM:SS"
    return {
        "date": "is not a date YYYY-MM-DD",
        "timestamp": "is not a timestamp",
        "boolean": "is not a boolean (true or false)",
        "json": "is not valid JSON",
    }.get(data_type, f"is not a valid {data_type}")


def json_kinds(data_type: str) -> tuple[str, ...]:
    """The JSON value kinds (DuckDB json_type names) a contract type accepts in JSON lines."""
    if data_type in INTEGER_TYPES or _decimal(data_type):
        return JSON_NUMBER_TYPES
    if data_type == "boolean":
        return ("BOOLEAN",)
    if data_type == "json":
        return ("OBJECT", "ARRAY")
    return ("VARCHAR",)


def _kind_name(kind: str) -> str:
    """SQL: the JSON name ('string', 'number', ...) of a DuckDB json_type result."""
    whens = " ".join(f"when {lit(k)} then {lit(v)}" for k, v in JSON_KIND_NAMES.items())
    return f"(case {kind} {whens} else lower({kind}) end)"


def _kinds_text(kinds: tuple[str, ...]) -> str:
    """'a number', 'a string', 'true or false', 'an object or array'."""
    if "OBJECT" in kinds:
        return "an object or array"
    if "BOOLEAN" in kinds:
        return "true or false"
    return "a number" if "DOUBLE" in kinds else "a string"


def cast_text(data_type: str, value_format: str | None, text: str) -> str:
    """SQL for the typed value of a non-null text, NULL when the text is not of the type."""
    decimal = _decimal(data_type)
    if decimal:
        precision, scale = decimal
        digits = f"[0-9]{{1,{precision - scale}}}"
        pattern = f"[+-]?{digits}" + (f"([.][0-9]{{1,{scale}}})?" if scale else "")
        return (
            f"case when regexp_full_match({text}, {lit(pattern)}) "
            f"then try_cast({text} as decimal({precision},{scale})) end"
        )
    if data_type in INTEGER_TYPES:
        return (
            f"case when regexp_full_match({text}, '[+-]?[0-9]+') "
            f"then try_cast({text} as {data_type}) end"
        )
    if data_type == "date":
        return (
            f"case when regexp_full_match({text}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
            f"then cast(try_strptime({text}, '%Y-%m-%d') as date) end"
        )
    if data_type == "timestamp" and value_format in ("utc_timestamp", "local_timestamp"):
        sep, zone, fmt = (
            ("T", "Z", "%Y-%m-%dT%H:%M:%SZ")
            if value_format == "utc_timestamp"
            else (" ", "", "%Y-%m-%d %H:%M:%S")
        )
        pattern = f"[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{sep}[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}{zone}"
        return (
            f"case when regexp_full_match({text}, {lit(pattern)}) "
            f"then try_strptime({text}, {lit(fmt)}) end"
        )
    if data_type == "boolean":
        return f"case {text} when 'true' then true when 'false' then false end"
    if data_type == "json":
        return f"case when json_valid({text}) then cast({text} as json) end"
    if data_type == "varchar":
        return text
    return f"try_cast({text} as {duckdb_type(data_type)})"


def _show(expr: str, limit: int = 80) -> str:
    """SQL rendering a value for a message: quoted and clipped."""
    clipped = (
        f"case when length({expr}) > {limit} then left({expr}, {limit}) || '...' else {expr} end"
    )
    return f"('''' || {clipped} || '''')"


def _problem(rule: str, column: str | None, bad_value: str, detail: str) -> str:
    """SQL struct of one problem; rule, bad_value and detail are SQL, column a column name."""
    return _problem_sql(rule, lit(column) if column is not None else "null", bad_value, detail)


def _problem_sql(rule: str, column: str, bad_value: str, detail: str) -> str:
    return (
        f"{{'rule': {rule}, 'column_name': cast({column} as varchar), "
        f"'bad_value': cast({bad_value} as varchar), 'detail': {detail}}}"
    )


PROBLEM_TYPE = "struct(rule varchar, column_name varchar, bad_value varchar, detail varchar)"


def stage_table_ddl(extract: Extract) -> str:
    columns = ", ".join(f"{ident(c.name)} {duckdb_type(c.data_type)}" for c in extract.columns)
    return (
        f"create or replace temp table {STAGE_TABLE} (file_key bigint, row_number bigint, "
        f"raw_text varchar, problem {PROBLEM_TYPE}, {columns})"
    )


def _nested_ctes(column: Column, index: int, source: str) -> tuple[str, str]:
    """CTEs finding the first problem inside json column ``c<index>`` of ``source`` whose
    ``fields`` are declared: (SQL of the CTEs, name of the CTE with file_key, row_number, and
    the problem struct ``n<index>``). Elements are unnested once and their fields extracted once
    (a per-element lambda re-parses each element for every field and is several times slower)."""
    fields = column.fields or {}
    names = "[" + ", ".join(lit(f) for f in fields) + "]"
    paths = "[" + ", ".join(lit(f"$.{f}") for f in fields) + "]"
    head = lit(f"column {column.name}: ")
    value = f"c{index}"
    whens = [
        "when kind <> 'OBJECT' then "
        + _problem("'json'", column.name, "e", f"{head} || place || 'is not a JSON object'"),
        "when len(extra_keys) > 0 then "
        + _problem(
            "'unexpected_key'",
            column.name,
            "extra_keys[1]",
            f"{head} || place || 'has unexpected key ' || {_show('extra_keys[1]')}",
        ),
    ]
    for position, (name, data_type) in enumerate(fields.items(), start=1):
        field_json, kind = f"fv[{position}]", f"json_type(fv[{position}])"
        text = f"(fv[{position}] ->> '$')"
        kinds = ", ".join(lit(k) for k in json_kinds(data_type))
        prefix = f"{head} || place || {lit(f'field {name}: ')}"
        whens.append(
            f"when {kind} <> 'NULL' and {kind} not in ({kinds}) then "
            + _problem(
                lit(rule_for(data_type)),
                column.name,
                field_json,
                f"{prefix} || {_show(f'cast({field_json} as varchar)')} || ' is a JSON ' || "
                f"{_kind_name(kind)} || ', expected {_kinds_text(json_kinds(data_type))}'",
            )
        )
        if data_type not in ("varchar", "json"):
            whens.append(
                f"when {kind} <> 'NULL' and ({cast_text(data_type, None, text)}) is null then "
                + _problem(
                    lit(rule_for(data_type)),
                    column.name,
                    text,
                    f"{prefix} || {_show(text)} || {lit(' ' + expectation(data_type))}",
                )
            )
    ctes = f"""
    elements{index} as (
        select file_key, row_number, is_array, unnest(elements) as e,
               generate_subscripts(elements, 1) as element_number
        from (
            select file_key, row_number, json_type({value}) = 'ARRAY' as is_array,
                   case when json_type({value}) = 'ARRAY' then json_extract({value}, '$[*]')
                        else [{value}] end as elements
            from {source} where {value} is not null
        )
    ),
    element_fields{index} as (
        select file_key, row_number, element_number, e, json_type(e) as kind,
               case when is_array then 'element ' || element_number || ' ' else '' end as place,
               case when json_type(e) = 'OBJECT' then list_filter(json_keys(e),
                   lambda k: not list_contains({names}, k)) end as extra_keys,
               case when json_type(e) = 'OBJECT' then json_extract(e, {paths}) end as fv
        from elements{index}
    ),
    element_problems{index} as (
        select file_key, row_number, element_number, case {" ".join(whens)} end as problem
        from element_fields{index}
    ),
    nested{index} as (
        select file_key, row_number, arg_min(problem, element_number) as n{index}
        from element_problems{index} where problem is not null
        group by file_key, row_number
    ),"""
    return ctes, f"nested{index}"


def _column_checks(
    column: Column,
    t: str,
    c: str,
    j: str | None,
    jt: str | None,
    nested: str | None,
    null_word: str = "empty",
) -> list[str]:
    """CASE branches for one column: t text (NULL = null), c typed value; j/jt the JSON value and
    its kind for JSON lines; nested the nested-fields problem column."""
    name = column.name
    branches = []
    if j is not None and jt is not None:
        kinds = json_kinds(column.data_type)
        kinds_sql = ", ".join(lit(k) for k in kinds)
        branches.append(
            f"when {jt} <> 'NULL' and {jt} not in ({kinds_sql}) then "
            + _problem(
                lit(rule_for(column)),
                name,
                j,
                f"{lit(f'column {name}: ')} || {_show(f'cast({j} as varchar)')} || "
                f"' is a JSON ' || {_kind_name(jt)} || "
                f"{lit(f', expected {_kinds_text(kinds)}')}",
            )
        )
    if not column.nullable:
        if j is not None:
            missing = lit(f"column {name}: key is missing but the column is not nullable")
            null = lit(f"column {name}: null but the column is not nullable")
            detail = f"case when {j} is null then {missing} else {null} end"
        else:
            detail = lit(f"column {name}: {null_word} but the column is not nullable")
        branches.append(f"when {t} is null then " + _problem("'not_null'", name, "null", detail))
    branches.append(
        f"when {t} is not null and {c} is null then "
        + _problem(
            lit(rule_for(column)),
            name,
            t,
            f"{lit(f'column {name}: ')} || {_show(t)} || "
            f"{lit(' ' + expectation(column.data_type, column.value_format))}",
        )
    )
    branches.extend(_rule_checks(column, t, c))
    if column.accepted_values:
        values = ", ".join(lit(v) for v in column.accepted_values)
        branches.append(
            f"when {t} not in ({values}) then "
            + _problem(
                "'accepted_values'",
                name,
                t,
                f"{lit(f'column {name}: ')} || {_show(t)} || "
                f"{lit(' is not one of: ' + ', '.join(column.accepted_values))}",
            )
        )
    if nested is not None:
        branches.append(f"when {nested} is not null then {nested}")
    return branches


# Control characters a text value may not hold: C0 codes but the tab, and DEL (a NUL byte, a
# bell or an escape sequence in a code or name is a broken export, never data).
CONTROL_CHARACTERS_RE = "[\\x00-\\x08\\x0A-\\x1F\\x7F]"


def _rule_checks(column: Column, t: str, c: str) -> list[str]:
    """CASE branches of the contract's value rules: bounds of numbers (rule ``range``), the
    longest text (``max_length``) and no control characters in text (``control_characters``)."""
    name = column.name
    branches = []
    for bound, op, word in ((column.min_value, "<", "below"), (column.max_value, ">", "above")):
        if bound is not None:
            branches.append(
                f"when {c} {op} {bound} then "
                + _problem(
                    "'range'",
                    name,
                    t,
                    f"{lit(f'column {name}: ')} || {_show(t)} || "
                    f"{lit(f' is {word} the contract bound {bound}')}",
                )
            )
    limit = column.length_limit
    if limit is not None:
        branches.append(
            f"when length({t}) > {limit} then "
            + _problem(
                "'max_length'",
                name,
                t,
                f"{lit(f'column {name}: a value of ')} || length({t}) || "
                f"{lit(f' characters, the contract allows at most {limit}: ')} || {_show(t, 40)}",
            )
        )
    if column.data_type == "varchar":
        branches.append(
            f"when regexp_matches({t}, {lit(CONTROL_CHARACTERS_RE)}) then "
            + _problem(
                "'control_characters'",
                name,
                t,
                f"{lit(f'column {name}: ')} || {_show(f'cast(to_json({t}) as varchar)')} || "
                "' holds a control character (code ' || "
                f"ord(regexp_extract({t}, {lit(CONTROL_CHARACTERS_RE)})) || ')'",
            )
        )
    return branches


def _typed_select(extract: Extract) -> str:
    return ", ".join(f"c{i} as {ident(col.name)}" for i, col in enumerate(extract.columns))


def stage_text_sql(extract: Extract) -> str:
    """INSERT into the stage table every data line of the files in the content table."""
    fmt = extract.file_format
    header_lines = 0 if fmt == "jsonl" else 1
    d = "\t" if fmt == "tsv" else ","
    # a text file's fields per row: as many as its header names (all the contract's columns, or
    # fewer when it leaves out trailing optional ones, which then read as null)
    header_fields = f"len(string_split(parts[1], {lit(d)}))" if header_lines else "0"
    lines = f"""
    lines as materialized (
        select file_key, line_no - {header_lines} as row_number, line, header_fields
        from (
            select file_key, generate_subscripts(parts, 1) as line_no, unnest(parts) as line,
                   len(parts) as n_parts, {header_fields} as header_fields
            from (select file_key, string_split(content, chr(10)) as parts from {CONTENT_TABLE})
        )
        where line_no > {header_lines} and line_no < n_parts
    )"""
    columns = extract.columns
    n = len(columns)
    if fmt in ("csv", "tsv"):
        field_re = lit(f'{d}("(?:[^"]|"")*"|[^{d}]*)')
        body = f"""
    quoted as (
        select file_key, row_number, line, header_fields,
               regexp_extract_all({lit(d)} || line, {field_re}, 1) as raw_fields
        from lines where contains(line, '"')
    ),
    fields as (
        select file_key, row_number, line, header_fields, false as bad_quoting,
               string_split(line, {lit(d)}) as f
        from lines where not contains(line, '"')
        union all
        select file_key, row_number, line, header_fields,
               list_sum(list_transform(raw_fields, lambda f: length(f))) + len(raw_fields)
                   <> length(line) + 1
               or list_bool_or(list_transform(raw_fields, lambda f:
                   starts_with(f, '"') and not regexp_full_match(f, '"(?:[^"]|"")*"')))
               as bad_quoting,
               list_transform(raw_fields, lambda f:
                   case when starts_with(f, '"') then replace(f[2:-2], '""', '"') else f end) as f
        from quoted
    ),
    texts as (
        select file_key, row_number, line as raw_text, bad_quoting, len(f) as n_fields,
               header_fields,
               {", ".join(f"nullif(f[{i + 1}], '') as t{i}" for i in range(n))}
        from fields
    ),"""
        structural = [
            "when suffix(raw_text, chr(13)) then "
            + _problem(
                "'line_terminator'",
                None,
                "null",
                "'ends with a carriage return (\\r); the contract expects LF (\\n) line ends'",
            ),
            "when bad_quoting then "
            + _problem(
                "'quoting'",
                None,
                "null",
                "'has malformed quoting (a field opens a quote it "
                "does not close, or text follows a closing quote)'",
            ),
            f"when n_fields <> least(greatest(header_fields, {extract.required_column_count}), {n})"
            " then "
            + _problem(
                "'field_count'",
                None,
                "n_fields",
                f"'has ' || n_fields || ' fields, the contract expects ' || "
                f"least(greatest(header_fields, {extract.required_column_count}), {n})",
            ),
        ]
        json_cols = {}
    else:  # jsonl
        names = "[" + ", ".join(lit(c.name) for c in columns) + "]"
        paths = "[" + ", ".join(lit(f"$.{c.name}") for c in columns) + "]"
        text_cols = []
        for i, col in enumerate(columns):
            j = f"j[{i + 1}]"
            if col.data_type == "json":
                text_cols.append(
                    f"{j} as j{i}, json_type({j}) as jt{i}, "
                    f"case when json_type({j}) <> 'NULL' then cast({j} as varchar) end as t{i}"
                )
            else:
                text_cols.append(f"{j} as j{i}, json_type({j}) as jt{i}, {j} ->> '$' as t{i}")
        body = f"""
    parsed as (
        select file_key, row_number, line, json_valid(line) as is_json from lines
    ),
    objects as (
        select *, case when is_json then json_type(line) end as top_kind from parsed
    ),
    values_ as (
        select *,
               case when top_kind = 'OBJECT' then json_extract(line, {paths}) end as j,
               case when top_kind = 'OBJECT' then list_filter(json_keys(line),
                   lambda k: not list_contains({names}, k)) end as extra_keys
        from objects
    ),
    texts as (
        select file_key, row_number, line as raw_text, is_json, top_kind, extra_keys,
               {", ".join(text_cols)}
        from values_
    ),"""
        structural = [
            "when not is_json then " + _problem("'json'", None, "null", "'is not valid JSON'"),
            "when top_kind <> 'OBJECT' then "
            + _problem(
                "'json'",
                None,
                "null",
                f"'is a JSON ' || {_kind_name('top_kind')} || ', not an object'",
            ),
            "when len(extra_keys) > 0 then "
            + _problem_sql(
                "'unexpected_key'",
                "extra_keys[1]",
                "extra_keys[1]",
                f"'has unexpected key ' || {_show('extra_keys[1]')}",
            ),
        ]
        json_cols = {i: (f"j{i}", f"jt{i}") for i in range(n)}
    casts = []
    nested_ctes, nested_joins = [], []
    for i, col in enumerate(columns):
        if fmt == "jsonl" and col.data_type == "json":
            casts.append(f"case when jt{i} in ('OBJECT', 'ARRAY') then j{i} end as c{i}")
        else:
            casts.append(f"{cast_text(col.data_type, col.value_format, f't{i}')} as c{i}")
        if col.data_type == "json" and col.fields:
            ctes, name = _nested_ctes(col, i, "casts")
            nested_ctes.append(ctes)
            nested_joins.append(f"left join {name} using (file_key, row_number)")
    checks = list(structural)
    for i, col in enumerate(columns):
        j, jt = json_cols.get(i, (None, None))
        nested = f"n{i}" if col.data_type == "json" and col.fields else None
        checks.extend(_column_checks(col, f"t{i}", f"c{i}", j, jt, nested))
    return f"""
    insert into {STAGE_TABLE}
    with {lines},{body}
    casts as {"materialized " if nested_ctes else ""}(
        select *, {", ".join(casts)} from texts
    ),{"".join(nested_ctes)}
    checked as (
        select file_key, row_number, raw_text,
               case {" ".join(checks)} end as problem,
               {", ".join(f"c{i}" for i in range(n))}
        from casts {" ".join(nested_joins)}
    )
    select file_key, row_number, raw_text, problem, {_typed_select(extract)}
    from checked
    """


def parquet_type_problem(column: Column, parquet_type: str) -> str | None:
    """Why a Parquet column's DuckDB type cannot hold the contract type (None when it can)."""
    have = parquet_type.lower()
    want = column.data_type
    if want == "varchar":
        ok = have == "varchar"
    elif want == "json":
        ok = have in ("varchar", "json")
    elif want in INTEGER_TYPES:
        ok = have in INTEGER_TYPES
    elif _decimal(want):
        ok = have in INTEGER_TYPES or have.startswith("decimal") or have in ("double", "float")
    elif want == "date":
        ok = have == "date"
    elif want == "timestamp":
        ok = have in ("timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns")
    elif want == "boolean":
        ok = have == "boolean"
    else:
        ok = have == want.lower()
    if ok:
        return None
    return f"column {column.name} is {parquet_type}, the contract expects {want}"


def stage_parquet_sql(extract: Extract, table: str, file_key: int) -> str:
    """INSERT into the stage table the rows of one Parquet file read into ``table``
    (with a ``file_row_number`` column)."""
    casts, checks = [], []
    for i, col in enumerate(extract.columns):
        src = ident(col.name)
        if col.data_type == "json":
            cast = f"case when json_valid(cast({src} as varchar)) then cast({src} as json) end"
        elif _decimal(col.data_type):
            # a value that changes when cast (more decimal places, out of range) is rejected
            cast = (
                f"case when try_cast({src} as {duckdb_type(col.data_type)}) = {src} "
                f"then try_cast({src} as {duckdb_type(col.data_type)}) end"
            )
        else:
            cast = f"try_cast({src} as {duckdb_type(col.data_type)})"
        casts.append(f"{cast} as c{i}, cast({src} as varchar) as t{i}")
        checks.extend(_column_checks(col, f"t{i}", f"c{i}", None, None, None, "null"))
    row_json = (
        "to_json(struct_pack("
        + ", ".join(f"{ident(c.name)} := {ident(c.name)}" for c in extract.columns)
        + "))"
    )
    return f"""
    insert into {STAGE_TABLE}
    with casts as (
        select file_row_number, cast({row_json} as varchar) as raw_text, {", ".join(casts)}
        from {table}
    )
    select {file_key} as file_key, file_row_number + 1 as row_number, raw_text,
           case {" ".join(checks)} end as problem,
           {_typed_select(extract)}
    from casts
    """
