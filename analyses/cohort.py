"""Cohorts: a cohort file (cli.md) turned into parameterised SQL on the loaded database.

A ``CohortSpec`` holds filters on ``analysis_patients`` columns: a list keeps rows whose value is
in it, ``{"min": a, "max": b}`` keeps an inclusive range. Values are always bound as parameters;
only column names, checked against the table's columns, appear in the SQL text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError

__all__ = [
    "CohortSpec",
    "analysis_columns",
    "attrition",
    "cohort_patients_sql",
    "connect_readonly",
    "load_analysis_frame",
    "read_frame",
]

_RANGE_KEYS = {"min", "max"}


@dataclass(frozen=True)
class CohortSpec:
    """Filters on ``analysis_patients``, applied in the order given.

    ``filters`` maps a column to a tuple of allowed values or to a ``(min, max)`` range given as a
    dict with keys ``min`` and/or ``max``. Build one with ``CohortSpec.from_dict`` or
    ``from_file``; ``CohortSpec()`` is the whole registry.
    """

    filters: tuple[tuple[str, tuple[Any, ...] | dict[str, Any]], ...] = field(default=())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "cohort") -> CohortSpec:
        if not isinstance(data, Mapping) or set(data) - {"filters", "name", "description"}:
            raise UserError(f"{source} must be a JSON object with a 'filters' object (see cli.md).")
        filters = data.get("filters", {})
        if not isinstance(filters, Mapping):
            raise UserError(f"{source}: 'filters' must be an object mapping columns to values.")
        items: list[tuple[str, tuple[Any, ...] | dict[str, Any]]] = []
        for column, value in filters.items():
            if isinstance(value, list):
                for v in value:
                    if not isinstance(v, str | int | float | bool) or v is None:
                        raise UserError(
                            f"{source}: filter {column!r} has the value {v!r}, "
                            "which is not a text, number or true/false."
                        )
                items.append((column, tuple(value)))
            elif isinstance(value, Mapping):
                if not value or set(value) - _RANGE_KEYS:
                    raise UserError(f'{source}: filter {column!r} must be a list or {{"min": ..., "max": ...}}.')
                for k, v in value.items():
                    if not isinstance(v, int | float | str) or isinstance(v, bool):
                        raise UserError(
                            f"{source}: filter {column!r} has {k} {v!r}, which is not a number or ISO date."
                        )
                items.append((column, dict(value)))
            else:
                raise UserError(
                    f"{source}: filter {column!r} must be a list of values or a min/max range, not {value!r}."
                )
        return cls(tuple(items))

    @classmethod
    def from_file(cls, path: str | Path) -> CohortSpec:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise UserError(f"cohort file {path} does not exist.") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserError(f"cohort file {path} is not valid JSON ({exc}).") from exc
        return cls.from_dict(data, source=f"cohort file {path}")

    def to_dict(self) -> dict[str, Any]:
        return {"filters": {c: (list(v) if isinstance(v, tuple) else dict(v)) for c, v in self.filters}}

    def where(self, columns: Mapping[str, str], alias: str = "ap") -> list[tuple[str, str, list[Any]]]:
        """One ``(column, SQL condition, parameters)`` per filter; ``columns`` maps names to DuckDB types."""
        clauses: list[tuple[str, str, list[Any]]] = []
        for column, value in self.filters:
            if column not in columns:
                raise UserError(
                    f"the cohort filters on {column!r}, which is not a column of analysis_patients "
                    f"(columns: {', '.join(sorted(columns))})."
                )
            ref = f'{alias}."{column}"'
            kind = columns[column]
            if isinstance(value, tuple):
                _check_list_types(column, kind, value)
                if not value:
                    clauses.append((column, "false", []))
                else:
                    clauses.append((column, f"{ref} IN ({', '.join('?' * len(value))})", list(value)))
            else:
                conds, params = [], []
                for key, op in (("min", ">="), ("max", "<=")):
                    if key in value:
                        conds.append(f"{ref} {op} ?")
                        params.append(_range_value(column, kind, value[key]))
                clauses.append((column, " AND ".join(conds), params))
        return clauses


def _check_list_types(column: str, kind: str, values: tuple[Any, ...]) -> None:
    for v in values:
        ok = (
            (kind == "BOOLEAN" and isinstance(v, bool))
            or (kind == "VARCHAR" and isinstance(v, str))
            or (
                kind in {"INTEGER", "BIGINT", "DOUBLE", "TINYINT"}
                and isinstance(v, int | float)
                and not isinstance(v, bool)
            )
            or (kind == "DATE" and isinstance(v, str))
        )
        if not ok:
            raise UserError(
                f"the cohort filter {column!r} has the value {v!r}, but {column} holds {kind.lower()} values."
            )


def _range_value(column: str, kind: str, v: Any) -> Any:
    if kind == "DATE":
        try:
            return date.fromisoformat(str(v))
        except ValueError as exc:
            raise UserError(f"the cohort filter {column!r} needs ISO dates (YYYY-MM-DD), not {v!r}.") from exc
    if kind in {"INTEGER", "BIGINT", "DOUBLE", "TINYINT"} and isinstance(v, int | float) and not isinstance(v, bool):
        return v
    raise UserError(f"the cohort filter {column!r} is a range, but {column} holds {kind.lower()} values.")


def connect_readonly(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open a loaded database read-only, or raise ``UserError`` saying what is wrong."""
    path = Path(db_path)
    if not path.is_file():
        raise UserError(f"{path} does not exist; create it with 'ayaall load EXTRACT_DIR --db {path}'.")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise UserError(f"{path} could not be opened as a DuckDB database ({exc}).") from exc
    con.execute("SET enable_progress_bar = false")  # it would write into the JSON on stdout
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if not {"analysis_patients", "time_to_event"} <= tables:
        con.close()
        raise UserError(f"{path} has no analysis tables; it was not written by 'ayaall load'.")
    return con


def analysis_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Columns of ``analysis_patients`` and their DuckDB types, a coded (ENUM) column as VARCHAR.

    The loader stores coded columns as ENUMs of their codes (``etl/enums.py``); what they hold, and
    how they filter and sort, is text.
    """
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'analysis_patients' ORDER BY ordinal_position"
    ).fetchall()
    return {name: "VARCHAR" if dtype.startswith("ENUM(") else dtype for name, dtype in rows}


def read_frame(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """The rows of ``sql`` as a DataFrame, coded (ENUM) columns as text: what every analysis reads.

    DuckDB hands an ENUM column to pandas as a Categorical, which behaves differently from text
    (grouping lists unobserved categories, ``unique`` and ``astype`` change); the loader stores coded
    columns as ENUMs only to store them cheaply (``etl/enums.py``). So each Categorical column becomes
    what a VARCHAR column gives: an object column of ``str``, ``None`` where missing.
    """
    frame = con.execute(sql, list(params)).df()
    for i, dtype in enumerate(frame.dtypes):
        if isinstance(dtype, pd.CategoricalDtype):
            cat = frame.iloc[:, i].array
            # code -1 (missing) picks the None placed after the categories
            lookup = np.empty(len(cat.categories) + 1, dtype=object)
            lookup[:-1] = cat.categories.to_numpy(dtype=object)
            frame.isetitem(i, lookup[cat.codes])
    return frame


def attrition(con: duckdb.DuckDBPyConnection, cohort: CohortSpec) -> pd.DataFrame:
    """Patients removed at each step, in order: the registry, each exclusion rule, each filter.

    Returns a DataFrame with columns ``step`` (registry / exclusion / filter), ``label``,
    ``removed`` and ``remaining``.
    """
    columns = analysis_columns(con)
    (total,) = con.execute("SELECT count(*) FROM analysis_patients").fetchone()  # type: ignore[misc]
    rows = [{"step": "registry", "label": "patients in the registry", "removed": 0, "remaining": int(total)}]
    remaining = int(total)
    exclusions = con.execute(
        "SELECT x.reason, count(*) FROM analysis_patients ap "
        "JOIN (SELECT patient_id, arg_min(reason, priority) AS reason, min(priority) AS priority "
        "      FROM int_exclusions GROUP BY patient_id) x USING (patient_id) "
        "GROUP BY x.reason ORDER BY min(x.priority)"
    ).fetchall()
    for reason, n in exclusions:
        remaining -= int(n)
        rows.append({"step": "exclusion", "label": f"excluded: {reason}", "removed": int(n), "remaining": remaining})
    conds, params = ["ap.excluded_reason IS NULL"], []
    for column, cond, p in cohort.where(columns):
        conds.append(cond)
        params += p
        (n,) = con.execute(f"SELECT count(*) FROM analysis_patients ap WHERE {' AND '.join(conds)}", params).fetchone()  # type: ignore[misc]
        rows.append(
            {"step": "filter", "label": _describe(column, cohort), "removed": remaining - int(n), "remaining": int(n)}
        )
        remaining = int(n)
    return pd.DataFrame(rows, columns=["step", "label", "removed", "remaining"])


def _describe(column: str, cohort: CohortSpec) -> str:
    value = dict(cohort.filters)[column]
    if isinstance(value, tuple):
        return f"{column} in {', '.join(map(str, value))}"
    parts = [f"≥ {value['min']}" if "min" in value else "", f"≤ {value['max']}" if "max" in value else ""]
    return f"{column} {' and '.join(p for p in parts if p)}"


def cohort_patients_sql(
    con: duckdb.DuckDBPyConnection, cohort: CohortSpec, columns: Mapping[str, str] | None = None
) -> tuple[str, list[Any]]:
    """SQL condition on alias ``ap`` selecting the cohort's included patients, with its parameters.

    ``columns`` are ``analysis_columns(con)`` when the caller has them already.
    """
    conds, params = ["ap.excluded_reason IS NULL"], []
    for _column, cond, p in cohort.where(analysis_columns(con) if columns is None else columns):
        conds.append(cond)
        params += p
    return " AND ".join(conds), params


def load_analysis_frame(
    db_path: str | Path | duckdb.DuckDBPyConnection,
    cohort: CohortSpec,
    endpoint: str,
    origin: str,
    columns: Sequence[str] = (),
    *,
    identifiers: bool = True,
) -> pd.DataFrame:
    """The cohort's rows of one endpoint: patient_id, time_days, event_code, event_desc + ``columns``.

    ``db_path`` may be an open connection (the dashboard keeps one); ``columns`` are
    ``analysis_patients`` columns to join (grouping variables, covariates). With ``identifiers`` False
    the text columns patient_id and event_desc are left out (half the load time at 100,000 rows, for
    analyses that need neither); rows are in patient_id order either way.
    """
    try:
        endpoint_spec(endpoint, origin)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from exc
    con = db_path if isinstance(db_path, duckdb.DuckDBPyConnection) else connect_readonly(db_path)
    try:
        known = analysis_columns(con)
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise UserError(
                f"{', '.join(repr(c) for c in unknown)} {'is' if len(unknown) == 1 else 'are'} not "
                f"{'a column' if len(unknown) == 1 else 'columns'} of analysis_patients "
                f"(columns: {', '.join(known)})."
            )
        where, params = cohort_patients_sql(con, cohort, known)
        extra = "".join(f', ap."{c}"' for c in dict.fromkeys(columns) if c != "patient_id" or not identifiers)
        fields = "t.patient_id, t.time_days, t.event_code, t.event_desc" if identifiers else "t.time_days, t.event_code"
        sql = (
            f"SELECT {fields}" + extra + " "
            "FROM time_to_event t JOIN analysis_patients ap USING (patient_id) "
            f"WHERE t.endpoint = ? AND t.origin = ? AND {where} ORDER BY t.patient_id"
        )
        return read_frame(con, sql, [endpoint, origin, *params])
    finally:
        if not isinstance(db_path, duckdb.DuckDBPyConnection):
            con.close()
