"""Staged layer: type, decode and validate one raw table, row by row, from the contract.

The SQL is generated from ``ayaall.contract`` (the contract is data; writing 8 near-identical SQL
files by hand would let them drift from it). For each table, in three named steps:

1. ``chk_<table>``: every value trimmed, parsed by its kind and decoded; the first failing
   required value gives the row's quarantine column and reason; every other problem a warning.
2. duplicate keys among the rows that passed: exact copies keep the first row and quarantine the
   others; rows that disagree are all quarantined (the loader cannot know which one is right).
3. orphans: a row whose parent row (its patient, or for a response its treatment line) was not
   loaded is quarantined.

What passes becomes ``stg_<table>`` (typed, with source file and line); what fails goes to
``quarantine``; warnings on kept rows go to ``data_quality_issues``. Rows are conserved: every raw
row ends in exactly one of ``stg_<table>`` and ``quarantine``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ayaall.contract import ColumnSpec, Kind, TableSpec

__all__ = ["StageCounts", "stage_table"]

_WS = "' ' || chr(9) || chr(13) || chr(10)"


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
        return f"CASE WHEN regexp_full_match({t}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') THEN try_cast({t} AS DATE) END"
    if c.kind is Kind.INTEGER:
        lo = f" AND try_cast({t} AS DOUBLE) >= {c.minimum}" if c.minimum is not None else ""
        return (
            f"CASE WHEN regexp_full_match({t}, '[+-]?\\d{{1,15}}(\\.0+)?'){lo} "
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
    codes = ", ".join(_lit(x) for x in c.codes)
    mapped = "WHEN rmap.regimen IS NOT NULL THEN rmap.regimen " if _maps_regimen(table, c) else ""
    unknown = _lit(c.unknown_code_value) if c.unknown_code_value else "NULL"
    return f"CASE WHEN {t} IS NULL THEN NULL WHEN upper({t}) IN ({codes}) THEN upper({t}) {mapped}ELSE {unknown} END"


def _maps_regimen(table: TableSpec, c: ColumnSpec) -> bool:
    return table.name == "treatment_lines" and c.name == "regimen"


def _valid(c: ColumnSpec, table: TableSpec) -> str:
    """SQL boolean: the present value is usable as it stands (a known or mapped code, a parse)."""
    if c.kind is Kind.CODE:
        codes = ", ".join(_lit(x) for x in c.codes)
        mapped = " OR rmap.regimen IS NOT NULL" if _maps_regimen(table, c) else ""
        return f"(upper({_t(c)}) IN ({codes}){mapped})"
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


def _chk_sql(table: TableSpec, present: tuple[str, ...]) -> str:
    trims = []
    for c in table.columns:
        src = f"raw.{_q(c.name)}" if c.name in present else "NULL"
        trims.append(f"nullif(trim(CAST({src} AS VARCHAR), {_WS}), '') AS {_t(c)}")
    join = ""
    if any(_maps_regimen(table, c) for c in table.columns):
        join = (
            "LEFT JOIN (SELECT lower(local_name) AS local_key, regimen FROM stg_regimen_map) rmap "
            f"ON rmap.local_key = lower(trimmed.{_t(table.column('regimen'))})"
        )
    extra = [c for c in present if c not in table.column_names]
    raw_cols = ", ".join(f"raw.{_q(c)} AS {_q('raw$' + c)}" for c in (*table.column_names, *extra) if c in present)
    values = ", ".join(f"{_parse(c, table)} AS {_v(c)}" for c in table.columns)
    fails_col, fails_msg, warns = [], [], []
    for c in table.columns:
        unusable = f"{_t(c)} IS NOT NULL AND NOT {_valid(c, table)}"
        if c.required:
            fails_col.append(f"WHEN {_t(c)} IS NULL THEN {_lit(c.name)}")
            fails_msg.append(f"WHEN {_t(c)} IS NULL THEN {_lit(c.name + ' is empty; it is a required value')}")
        if c.required and not (c.kind is Kind.CODE and c.unknown_code_value):
            fails_col.append(f"WHEN {unusable} THEN {_lit(c.name)}")
            fails_msg.append(f"WHEN {unusable} THEN {_lit(c.name + ' ')} || {_show(c)} || {_lit(' ' + _problem(c))}")
        else:
            became = (
                f"loaded as {c.unknown_code_value}"
                if c.kind is Kind.CODE and c.unknown_code_value
                else "loaded as missing"
            )
            warns.append(
                f"CASE WHEN {unusable} THEN {_lit(c.name + ' ')} || {_show(c)} || "
                f"{_lit(' ' + _problem(c) + '; ' + became)} END"
                f" AS {_q('w$' + c.name)}"
            )
    q_col = f"CASE {' '.join(fails_col)} END" if fails_col else "NULL"
    q_msg = f"CASE {' '.join(fails_msg)} END" if fails_msg else "NULL"
    warn_sql = (", " + ", ".join(warns)) if warns else ""
    return (
        f"CREATE OR REPLACE TEMP TABLE chk_{table.name} AS "
        f"WITH trimmed AS (SELECT raw.source_file, raw.source_line, {raw_cols}, {', '.join(trims)} "
        f"FROM raw_{table.name} raw) "
        f"SELECT trimmed.*, {values}, {q_col} AS q_column, {q_msg} AS q_reason{warn_sql} "
        f"FROM trimmed {join}"
    )


def _key_text(table: TableSpec, alias: str) -> str:
    """SQL text like ``patient_id=P1, line_no=2`` for the key of the row ``alias``."""
    parts = [f"{_lit(k + '=')} || CAST({alias}.{_v(table.column(k))} AS VARCHAR)" for k in table.key]
    return " || ', ' || ".join(parts)


def _rejects_sql(table: TableSpec) -> str:
    """SQL for ``rej_<table>``: the line, column and reason of every row that cannot be loaded.

    Rejects are few, so only they are materialised: rows failing a value check, duplicated keys
    (found by grouping on the key alone; values are hashed only within duplicated groups) and
    orphans (an anti-join with the parent's staged table).
    """
    name = table.name
    keys = ", ".join(_v(table.column(k)) for k in table.key)
    c_keys = ", ".join(f"c.{_v(table.column(k))}" for k in table.key)
    values = ", ".join(f"c.{_v(c)}" for c in table.columns)
    key_on = " AND ".join(f"{{a}}.{_v(table.column(k))} = {{b}}.{_v(table.column(k))}" for k in table.key)
    dup_col = _lit(table.key[0]) if len(table.key) == 1 else _lit(",".join(table.key))
    sql = (
        f"CREATE OR REPLACE TEMP TABLE rej_{name} AS "
        f"WITH dupkeys AS (SELECT {keys} FROM chk_{name} WHERE q_reason IS NULL GROUP BY {keys} HAVING count(*) > 1), "
        f"dups AS (SELECT c.source_line, {c_keys}, hash({values}) AS row_hash FROM chk_{name} c "
        f"SEMI JOIN dupkeys d ON {key_on.format(a='c', b='d')} WHERE c.q_reason IS NULL), "
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
        f"SELECT source_line, q_column AS final_column, q_reason AS final_reason FROM chk_{name} "
        "WHERE q_reason IS NOT NULL",
        "SELECT * FROM dup_rejects",
    ]
    if table.parent:
        on = " AND ".join(f"c.{_v(table.column(k))} = p.{_q(k)}" for k in table.parent_key)
        parent_cols = ", ".join(_q(k) for k in table.parent_key)
        if table.parent == "patients":
            reason = "'patient_id ' || c.v_patient_id || ' is not in patients (or its row there was quarantined)'"
        else:
            reason = (
                "'no loaded treatment line ' || c.v_line_no || ' for patient ' || c.v_patient_id || "
                f"' in {table.parent}'"
            )
        parts.append(
            f"SELECT c.source_line, {_lit(table.parent_key[-1])}, {reason} FROM chk_{name} c "
            f"ANTI JOIN (SELECT DISTINCT {parent_cols} FROM stg_{table.parent}) p ON {on} "
            "WHERE c.q_reason IS NULL AND c.source_line NOT IN (SELECT source_line FROM dup_rejects)"
        )
    return sql + " " + " UNION ALL ".join(parts)


def stage_table(con: duckdb.DuckDBPyConnection, table: TableSpec, present: tuple[str, ...]) -> StageCounts:
    """Validate ``raw_<table>`` into ``stg_<table>``, ``quarantine`` and ``data_quality_issues``."""
    name = table.name
    con.execute(_chk_sql(table, present))
    con.execute(_rejects_sql(table))
    typed = ", ".join(f"{_v(c)} AS {_q(c.name)}" for c in table.columns)
    con.execute(
        f"CREATE TABLE stg_{name} AS SELECT {typed}, source_file, source_line "
        f"FROM chk_{name} ANTI JOIN rej_{name} USING (source_line) ORDER BY source_line"
    )
    raw_struct = ", ".join(
        f"{_q(c)} := c.{_q('raw$' + c)}"
        for c in (*table.column_names, *[p for p in present if p not in table.column_names])
        if c in present
    )
    con.execute(
        "INSERT INTO quarantine SELECT ?, c.source_file, c.source_line, r.final_column, r.final_reason, "
        f"CAST(to_json(struct_pack({raw_struct})) AS VARCHAR) FROM chk_{name} c JOIN rej_{name} r USING (source_line) "
        "ORDER BY c.source_line",
        [name],
    )
    warned = [c for c in table.columns if not (c.required and not (c.kind is Kind.CODE and c.unknown_code_value))]
    if warned:
        # One pass over the checked rows: a row with any warning fans out to one row per warned column.
        pid = "c.v_patient_id" if "patient_id" in table.column_names else "NULL"
        values = ", ".join(
            f"({i}, {_lit(c.name)}, c.{_t(c)}, c.{_q('w$' + c.name)})" for i, c in enumerate(warned)
        )
        any_warning = "coalesce(" + ", ".join(f"c.{_q('w$' + c.name)}" for c in warned) + ", NULL)"
        con.execute(
            f"INSERT INTO data_quality_issues SELECT ?, c.source_file, c.source_line, {pid}, w.column_name, "
            f"w.raw_value, w.issue FROM (SELECT * FROM chk_{name} c WHERE {any_warning} IS NOT NULL "
            f"AND c.source_line NOT IN (SELECT source_line FROM rej_{name})) c "
            f"CROSS JOIN LATERAL (VALUES {values}) AS w(ord, column_name, raw_value, issue) "
            "WHERE w.issue IS NOT NULL ORDER BY c.source_line, w.ord",
            [name],
        )
    (loaded,) = con.execute(f"SELECT count(*) FROM stg_{name}").fetchone()  # type: ignore[misc]
    (quarantined,) = con.execute("SELECT count(*) FROM quarantine WHERE table_name = ?", [name]).fetchone()  # type: ignore[misc]
    (warnings,) = con.execute("SELECT count(*) FROM data_quality_issues WHERE table_name = ?", [name]).fetchone()  # type: ignore[misc]
    for t in (f"chk_{name}", f"rej_{name}"):
        con.execute(f"DROP TABLE {t}")
    return StageCounts(name, int(loaded), int(quarantined), int(warnings))
