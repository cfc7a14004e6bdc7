"""Staged layer: type, decode and validate one raw table, row by row, from the contract.

The SQL is generated from ``ayaall.contract`` (the contract is data; writing 8 near-identical SQL
files by hand would let them drift from it). For each table, in named steps:

1. ``stg_<table>``, in one pass over ``raw_<table>``: every value trimmed, parsed by its kind and
   decoded, and a ``"flagged$"`` column marking the rows where a required value failed (the first
   failing one gives the row's quarantine column and reason) or a value was replaced (a warning).
   Each check is computed once, in that statement.
2. ``flagged_<table>``: only the flagged rows (few) are checked again, for their messages; the flag
   column is then dropped and rows whose required values failed are taken out of ``stg_<table>``.
3. duplicate keys among the rows staged: exact copies keep the first row and quarantine the
   others; rows that disagree are all quarantined (the loader cannot know which one is right).
4. orphans: a row whose parent row (its patient, or for a response its treatment line) was not
   loaded is quarantined. Duplicates and orphans are then taken out of ``stg_<table>``.

A row whose every value is its own column's name repeats the header (two exports joined into one
file) and is quarantined with that reason before any value check. A date with a time of day (a
Parquet timestamp not at midnight, ``etl.raw``) is unusable and said to be so.

What passes stays in ``stg_<table>`` (typed, with source file and line, in file order); what fails
goes to ``quarantine``; warnings on kept rows go to ``data_quality_issues``. Rows are conserved:
every raw row ends in exactly one of ``stg_<table>`` and ``quarantine``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ayaall.contract import ColumnSpec, Kind, TableSpec

__all__ = ["StageCounts", "stage_table"]

_WS = "' ' || chr(9) || chr(13) || chr(10)"
_ISO_DATE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_HEADER_ROW = "the row repeats the header (two exports joined into one file?); it holds no data"
_TIME_OF_DAY = (
    "is a date with a time of day, which is taken as a date only at midnight (another time often means "
    "that the dates were shifted between time zones); write the dates without a time"
)


@dataclass(frozen=True)
class StageCounts:
    table: str
    rows_loaded: int
    rows_quarantined: int
    warnings: int


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _t(c: ColumnSpec) -> str:
    return f"t_{c.name}"


def _v(c: ColumnSpec) -> str:
    return f"v_{c.name}"


def _show(c: ColumnSpec) -> str:
    """SQL for the raw value as shown in a message: quoted, cut at 60 characters."""
    return f"'''' || left({_t(c)}, 60) || ''''"


def _parse(c: ColumnSpec, table: TableSpec) -> str:
    """SQL expression giving the typed, decoded value of column ``c`` (NULL when unusable)."""
    t = _t(c)
    if c.kind is Kind.TEXT:
        return t
    if c.kind is Kind.DATE:
        # Exactly YYYY-MM-DD in ASCII digits (a GLOB costs a fraction of a regular expression), and a
        # real date.
        return f"CASE WHEN {t} GLOB '{_ISO_DATE}' THEN try_cast({t} AS DATE) END"
    if c.kind is Kind.INTEGER:
        # A whole number: optional sign, up to 15 digits, optionally ".0...". One or two plain
        # digits (every line number) are recognised by a GLOB before the regular expression runs.
        lo = f" AND try_cast({t} AS DOUBLE) >= {c.minimum}" if c.minimum is not None else ""
        return (
            f"CASE WHEN ({t} GLOB '[0-9]' OR {t} GLOB '[0-9][0-9]' "
            f"OR regexp_full_match({t}, '[+-]?\\d{{1,15}}(\\.0+)?')){lo} "
            f"THEN CAST(CAST({t} AS DOUBLE) AS BIGINT) END"
        )
    if c.kind is Kind.NUMBER:
        d = f"try_cast({t} AS DOUBLE)"
        bounds = "".join(
            [
                f" AND {d} >= {c.minimum}" if c.minimum is not None else "",
                f" AND {d} <= {c.maximum}" if c.maximum is not None else "",
            ]
        )
        return f"CASE WHEN isfinite({d}){bounds} THEN {d} END"
    # CODE: the canonical code, a local name mapped by regimen_map, else the unknown value.
    mapped = "rmap.regimen, " if _maps_regimen(table, c) else ""
    unknown = f"CAST({_lit(c.unknown_code_value)} AS {_enum(c)})" if c.unknown_code_value else "NULL"
    return f"CASE WHEN {t} IS NOT NULL THEN coalesce({_k(c)}, {mapped}{unknown}) END"


def _enum(c: ColumnSpec) -> str:
    """The ENUM type of the code column ``c`` (``etl.enums``)."""
    return f"{c.name}_code"


def _k(c: ColumnSpec) -> str:
    return f"k_{c.name}"


def _known_sql(c: ColumnSpec) -> str:
    """SQL for ``k_<col>``: the (present) value of the code column ``c`` as its code, in any case; NULL
    when it is none of the codes.

    One cast to the column's ENUM type, which looks the text up among the codes (rather than an
    ``IN (...)`` list, which DuckDB may plan as a join that breaks the rows' order before the sort
    in ``_staged_sql``).
    """
    return f"try_cast(upper({_t(c)}) AS {_enum(c)})"


def _maps_regimen(table: TableSpec, c: ColumnSpec) -> bool:
    return table.name == "treatment_lines" and c.name == "regimen"


def _valid(c: ColumnSpec, table: TableSpec) -> str:
    """SQL boolean: the present value is usable as it stands (a known or mapped code, a parse)."""
    if c.kind is Kind.CODE:
        mapped = " OR rmap.regimen IS NOT NULL" if _maps_regimen(table, c) else ""
        return f"({_k(c)} IS NOT NULL{mapped})"
    return f"({_v(c)} IS NOT NULL)"


def _problem(c: ColumnSpec) -> str:
    """Words for an unusable value of ``c``."""
    if c.kind is Kind.DATE:
        return "is not an ISO date (YYYY-MM-DD)"
    if c.kind is Kind.INTEGER:
        return "is not a whole number of at least 1" if c.minimum == 1 else "is not a whole number"
    if c.kind is Kind.NUMBER:
        if c.minimum is not None and c.maximum is not None:
            return f"is not a number from {c.minimum:g} to {c.maximum:g}"
        if c.minimum is not None:
            return f"is not a number of at least {c.minimum:g}"
        return "is not a number"
    shown = ", ".join(c.codes) if len(c.codes) <= 8 else ", ".join(c.codes[:8]) + ", ..."
    return f"is not one of the codes {shown}"


def _trim(src: str) -> str:
    """SQL for the value with blanks (space, tab, CR, LF) cut from both ends, NULL when nothing is left.

    Cutting a set of characters costs a scan of each value, and almost no value needs it: only one
    whose first or last character sorts before ``'!'`` (the blanks and other control characters, or
    an empty text) is cut; any other value is returned as it is, which is what cutting would give.
    The value itself sorts before ``'!'`` exactly when its first character does (or it is empty),
    so that test needs no substring.
    """
    return f"nullif(CASE WHEN {src} < '!' OR {src}[-1] < '!' THEN trim({src}, {_WS}) ELSE {src} END, '')"


def _checked_sql(table: TableSpec, present: tuple[str, ...], only_lines: str | None = None) -> str:
    """SQL (a query) checking the rows of ``raw_<table>``: their trimmed, typed values and problems.

    Every row, or with ``only_lines`` (a query giving ``source_line`` values) only those rows.

    Columns: ``source_file``, ``source_line``, ``t_<col>`` (trimmed text), ``v_<col>`` (typed,
    decoded value), ``q_column`` and ``q_reason`` (the first failing required value, NULL when the
    row passes) and ``"w$<col>"`` (the warning on an unusable optional value).
    """
    trims = []
    for c in table.columns:
        src = f"CAST(raw.{_q(c.name)} AS VARCHAR)" if c.name in present else "CAST(NULL AS VARCHAR)"
        trims.append(f"{_trim(src)} AS {_t(c)}")
    join = ""
    if any(_maps_regimen(table, c) for c in table.columns):
        # A code is taken before a mapping (``_parse``), so only a value that is not a code is looked
        # up among the local names; the others join on NULL, which matches nothing.
        regimen = table.column("regimen")
        join = (
            "LEFT JOIN (SELECT lower(local_name) AS local_key, regimen FROM stg_regimen_map) rmap "
            f"ON rmap.local_key = CASE WHEN trimmed.{_k(regimen)} IS NULL THEN lower(trimmed.{_t(regimen)}) END"
        )
    values = ", ".join(f"{_parse(c, table)} AS {_v(c)}" for c in table.columns)
    fails_col, fails_msg, warns = [], [], []
    for c in table.columns:
        unusable = f"{_t(c)} IS NOT NULL AND NOT {_valid(c, table)}"
        if c.required:
            fails_col.append(f"WHEN {_t(c)} IS NULL THEN {_lit(c.name)}")
            fails_msg.append(f"WHEN {_t(c)} IS NULL THEN {_lit(c.name + ' is empty; it is a required value')}")
        if _quarantines_unusable(c):
            fails_col.append(f"WHEN {unusable} THEN {_lit(c.name)}")
            fails_msg.append(f"WHEN {unusable} THEN {_lit(c.name + ' ')} || {_show(c)} || {_problem_sql(c)}")
        else:
            became = (
                f"loaded as {c.unknown_code_value}"
                if c.kind is Kind.CODE and c.unknown_code_value
                else "loaded as missing"
            )
            warns.append(
                f"CASE WHEN {unusable} THEN {_lit(c.name + ' ')} || {_show(c)} || "
                f"{_problem_sql(c)} || {_lit('; ' + became)} END"
                f" AS {_q('w$' + c.name)}"
            )
    # A row that repeats the header (two exports joined into one file) is taken out first, with that
    # reason and no column; its values would otherwise fail as values (or make a patient "patient_id").
    header = _repeats_header(table, present)
    fails_col.insert(0, f"WHEN {header} THEN ''")
    fails_msg.insert(0, f"WHEN {header} THEN {_lit(_HEADER_ROW)}")
    q_col = f"CASE {' '.join(fails_col)} END" if fails_col else "CAST(NULL AS VARCHAR)"
    q_msg = f"CASE {' '.join(fails_msg)} END" if fails_msg else "CAST(NULL AS VARCHAR)"
    warn_sql = (", " + ", ".join(warns)) if warns else ""
    known = "".join(f", {_known_sql(c)} AS {_k(c)}" for c in table.columns if c.kind is Kind.CODE)
    return (
        f"WITH trimmed AS (SELECT raw.source_file, raw.source_line, {', '.join(trims)} "
        f"FROM raw_{table.name} raw{f' SEMI JOIN ({only_lines}) flagged USING (source_line)' if only_lines else ''}), "
        f"coded AS (SELECT *{known} FROM trimmed) "
        f"SELECT trimmed.*, {values}, {q_col} AS q_column, {q_msg} AS q_reason{warn_sql} "
        f"FROM coded AS trimmed {join}"
    )


def _repeats_header(table: TableSpec, present: tuple[str, ...]) -> str:
    """SQL boolean: every column of the row holds its own name (in any case). The length of the
    first is compared first, which rules out almost every row at the cost of reading a length."""
    cols = [c for c in table.columns if c.name in present]
    checks = [f"length({_t(cols[0])}) = {len(cols[0].name)}"]
    checks += [f"lower({_t(c)}) = {_lit(c.name)}" for c in cols]
    return "(" + " AND ".join(checks) + ")"


def _problem_sql(c: ColumnSpec) -> str:
    """SQL text for what is wrong with an unusable value of ``c``, with a leading space."""
    if c.kind is Kind.DATE:
        return (
            f"CASE WHEN {_t(c)} GLOB '{_ISO_DATE} [0-9]*' THEN {_lit(' ' + _TIME_OF_DAY)} "
            f"ELSE {_lit(' ' + _problem(c))} END"
        )
    return _lit(" " + _problem(c))


def _quarantines_unusable(c: ColumnSpec) -> bool:
    """Whether an unusable value of ``c`` sends its row to quarantine (else it is a warning)."""
    return c.required and not (c.kind is Kind.CODE and c.unknown_code_value)


def _warned(table: TableSpec) -> list[ColumnSpec]:
    return [c for c in table.columns if not _quarantines_unusable(c)]


def _any_problem(table: TableSpec) -> str:
    """SQL boolean over a checked row: a required value failed or a value was replaced (a warning)."""
    return " OR ".join(["q_column IS NOT NULL", *(f"{_q('w$' + c.name)} IS NOT NULL" for c in _warned(table))])


def _staged_sql(table: TableSpec, present: tuple[str, ...]) -> str:
    """SQL for ``stg_<table>``: every row typed, with ``"flagged$"`` true where something is wrong.

    The sort costs little: the rows arrive in (or very near) ``source_line`` order already.
    """
    typed = ", ".join(f"{_v(c)} AS {_q(c.name)}" for c in table.columns)
    return (
        f"CREATE TABLE stg_{table.name} AS SELECT {typed}, source_file, source_line, "
        f'{_any_problem(table)} AS "flagged$" '
        f"FROM ({_checked_sql(table, present)}) checked ORDER BY source_line"
    )


def _flagged_sql(table: TableSpec, present: tuple[str, ...]) -> str:
    """SQL for ``flagged_<table>``: the flagged rows (they are few), checked again for their messages."""
    warned = _warned(table)
    pid = "v_patient_id" if "patient_id" in table.column_names else "CAST(NULL AS VARCHAR)"
    kept = "".join(f", {_t(c)}, {_q('w$' + c.name)}" for c in warned)
    lines = f'SELECT source_line FROM stg_{table.name} WHERE "flagged$"'
    return (
        f"CREATE OR REPLACE TEMP TABLE flagged_{table.name} AS "
        f"SELECT source_file, source_line, {pid} AS patient_id, q_column, q_reason{kept} "
        f"FROM ({_checked_sql(table, present, lines)}) checked ORDER BY source_line"
    )


def _key_text(table: TableSpec, alias: str) -> str:
    """SQL text like ``patient_id=P1, line_no=2`` for the key of the row ``alias``."""
    parts = [f"{_lit(k + '=')} || CAST({alias}.{_q(k)} AS VARCHAR)" for k in table.key]
    return " || ', ' || ".join(parts)


def _rejects_sql(table: TableSpec) -> str:
    """SQL for ``rej_<table>``: the line, column and reason of every row that cannot be loaded.

    Rejects are few, so only they are materialised: rows failing a value check (from
    ``flagged_<table>``), then, among the rows staged, duplicated keys (found by grouping on the key
    alone; values are hashed only within duplicated groups) and orphans (an anti-join with the
    parent's staged table).
    """
    name = table.name
    keys = ", ".join(_q(k) for k in table.key)
    s_keys = ", ".join(f"s.{_q(k)}" for k in table.key)
    values = ", ".join(f"s.{_q(c.name)}" for c in table.columns)
    key_on = " AND ".join(f"{{a}}.{_q(k)} = {{b}}.{_q(k)}" for k in table.key)
    dup_col = _lit(table.key[0]) if len(table.key) == 1 else _lit(",".join(table.key))
    sql = (
        f"CREATE OR REPLACE TEMP TABLE rej_{name} AS "
        f"WITH dupkeys AS (SELECT {keys} FROM stg_{name} GROUP BY {keys} HAVING count(*) > 1), "
        f"dups AS (SELECT s.source_line, {s_keys}, hash({values}) AS row_hash FROM stg_{name} s "
        f"SEMI JOIN dupkeys d ON {key_on.format(a='s', b='d')}), "
        f"groups AS (SELECT {keys}, min(row_hash) <> max(row_hash) AS conflicting, min(source_line) AS first_line, "
        "string_agg(CAST(source_line AS VARCHAR), ', ' ORDER BY source_line) AS lines FROM dups "
        f"GROUP BY {keys}), "
        f"dup_rejects AS (SELECT x.source_line, {dup_col} AS final_column, "
        "CASE WHEN g.conflicting THEN 'conflicting rows for ' || "
        f"{_key_text(table, 'x')} || ' (lines ' || g.lines || '); none was loaded, keep one in the extract' "
        "ELSE 'exact duplicate of line ' || g.first_line || ' (' || "
        f"{_key_text(table, 'x')} || '), which was loaded' END AS final_reason "
        f"FROM dups x JOIN groups g ON {key_on.format(a='x', b='g')} "
        "WHERE g.conflicting OR x.source_line <> g.first_line)"
    )
    parts = [
        f"SELECT source_line, nullif(q_column, '') AS final_column, q_reason AS final_reason FROM flagged_{name} "
        "WHERE q_column IS NOT NULL",
        "SELECT * FROM dup_rejects",
    ]
    if table.parent:
        on = " AND ".join(f"s.{_q(k)} = p.{_q(k)}" for k in table.parent_key)
        if table.parent == "patients":
            reason = "'patient_id ' || s.patient_id || ' is not in patients (or its row there was quarantined)'"
        else:
            reason = (
                f"'no loaded treatment line ' || s.line_no || ' for patient ' || s.patient_id || ' in {table.parent}'"
            )
        parts.append(
            f"SELECT s.source_line, {_lit(table.parent_key[-1])}, {reason} FROM stg_{name} s "
            f"ANTI JOIN stg_{table.parent} p ON {on} "
            "WHERE s.source_line NOT IN (SELECT source_line FROM dup_rejects)"
        )
    return sql + " " + " UNION ALL ".join(parts)


def stage_table(con: duckdb.DuckDBPyConnection, table: TableSpec, present: tuple[str, ...]) -> StageCounts:
    """Validate ``raw_<table>`` into ``stg_<table>``, ``quarantine`` and ``data_quality_issues``."""
    name = table.name
    con.execute(_staged_sql(table, present))
    con.execute(_flagged_sql(table, present))
    con.execute(f'ALTER TABLE stg_{name} DROP COLUMN "flagged$"')
    (failed,) = con.execute(f"SELECT count(*) FROM flagged_{name} WHERE q_column IS NOT NULL").fetchone()  # type: ignore[misc]
    if failed:
        con.execute(
            f"DELETE FROM stg_{name} WHERE source_line IN "
            f"(SELECT source_line FROM flagged_{name} WHERE q_column IS NOT NULL)"
        )
    con.execute(_rejects_sql(table))
    (rejected,) = con.execute(f"SELECT count(*) FROM rej_{name}").fetchone()  # type: ignore[misc]
    if rejected > failed:  # duplicates and orphans
        con.execute(f"DELETE FROM stg_{name} WHERE source_line IN (SELECT source_line FROM rej_{name})")
    extra = [p for p in present if p not in table.column_names]
    raw_struct = ", ".join(f"{_q(c)} := raw.{_q(c)}" for c in (*table.column_names, *extra) if c in present)
    con.execute(
        "INSERT INTO quarantine SELECT ?, raw.source_file, raw.source_line, r.final_column, r.final_reason, "
        f"CAST(to_json(struct_pack({raw_struct})) AS VARCHAR) FROM raw_{name} raw JOIN rej_{name} r "
        "USING (source_line) ORDER BY raw.source_line",
        [name],
    )
    warned = _warned(table)
    if warned:
        # One pass over the flagged rows: a row with any warning fans out to one row per warned column.
        values = ", ".join(f"({i}, {_lit(c.name)}, c.{_t(c)}, c.{_q('w$' + c.name)})" for i, c in enumerate(warned))
        con.execute(
            "INSERT INTO data_quality_issues SELECT ?, c.source_file, c.source_line, c.patient_id, w.column_name, "
            f"w.raw_value, w.issue FROM (SELECT * FROM flagged_{name} c "
            f"WHERE c.source_line NOT IN (SELECT source_line FROM rej_{name})) c "
            f"CROSS JOIN LATERAL (VALUES {values}) AS w(ord, column_name, raw_value, issue) "
            "WHERE w.issue IS NOT NULL ORDER BY c.source_line, w.ord",
            [name],
        )
    (loaded,) = con.execute(f"SELECT count(*) FROM stg_{name}").fetchone()  # type: ignore[misc]
    (quarantined,) = con.execute("SELECT count(*) FROM quarantine WHERE table_name = ?", [name]).fetchone()  # type: ignore[misc]
    (warnings,) = con.execute("SELECT count(*) FROM data_quality_issues WHERE table_name = ?", [name]).fetchone()  # type: ignore[misc]
    for t in (f"flagged_{name}", f"rej_{name}"):
        con.execute(f"DROP TABLE {t}")
    return StageCounts(name, int(loaded), int(quarantined), int(warnings))
