"""Reading the loaded database: a read-only connection, cohorts as SQL, and the frames the analyses take.

Everything that reads ``analysis_patients`` and ``time_to_event`` for an analysis goes through here:
the connection (:func:`connect_readonly`), the cohort's condition (:func:`cohort_patients_sql`), the
attrition (:func:`attrition`), and the frames of one endpoint (:func:`load_analysis_frame`), of one
endpoint with days to an exposure (:func:`exposure_frame`) and of one line's responses
(:func:`response_frame`). Frames hold coded (ENUM) columns as text (:func:`read_frame`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ayaall.cohort import CohortSpec
from ayaall.contract import REMISSION_RESPONSES
from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from ayaall.exposures import EXPOSURES
from ayaall.records import KEY_SPACE, RECORD_KEY, RECORD_KEYS_TABLE

__all__ = [
    "analysis_columns",
    "attrition",
    "coded_levels",
    "cohort_patients_sql",
    "connect_readonly",
    "exposure_frame",
    "key_join",
    "load_analysis_frame",
    "load_toxicity_frame",
    "read_frame",
    "response_frame",
]

_REMISSION = REMISSION_RESPONSES


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


def coded_levels(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """The levels of each coded (ENUM) column of ``analysis_patients``, as the loaded database has them: for
    ``age_group`` the bands of its load (``ayaall load --age-bands``) and UNK, in band order; ``era`` the
    load's eras (``--era-bands``)."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'analysis_patients' AND data_type LIKE 'ENUM(%'"
    ).fetchall()
    out = {name: tuple(v.replace("''", "'") for v in _ENUM_VALUE.findall(dtype[5:-1])) for name, dtype in rows}
    if "age_group" in out:
        bands = [r[0] for r in con.execute("SELECT label FROM age_bands ORDER BY sort_order").fetchall()]
        out["age_group"] = (*bands, *[v for v in out["age_group"] if v not in bands])
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "era_bands" in tables:  # text, not an ENUM; its levels are the load's eras, in order
        out["era"] = tuple(r[0] for r in con.execute("SELECT label FROM era_bands ORDER BY sort_order").fetchall())
    return out


_ENUM_VALUE = re.compile(r"'((?:[^']|'')*)'")


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


def attrition(con: duckdb.DuckDBPyConnection, cohort: CohortSpec, *, keys: bool = False) -> pd.DataFrame:
    """Patients removed at each step, in order: the registry, each exclusion rule, each filter.

    Returns a DataFrame with columns ``step`` (registry / exclusion / filter), ``label``,
    ``removed`` and ``remaining``; with ``keys`` also ``removed_key`` and ``remaining_key``, the cell keys
    (``disclosure.cellkey``: record keys summed modulo 2**32) of the patients removed and remaining, None
    without record keys.
    """
    columns = analysis_columns(con)
    key_term, key_sql = key_join(con, keys)
    key_sum = f"sum({RECORD_KEY})" if key_term else "NULL"

    def cell(where: str, params: Sequence[Any] = ()) -> tuple[int, int | None]:
        row = con.execute(
            f"SELECT count(*), {key_sum} FROM (SELECT ap.patient_id{key_term} FROM analysis_patients ap"
            f"{key_sql} WHERE {where})",
            list(params),
        ).fetchone()
        n, total = row  # type: ignore[misc]
        return int(n), (None if total is None else int(total) % KEY_SPACE)

    def difference(a: int | None, b: int | None) -> int | None:
        return None if a is None or b is None else (a - b) % KEY_SPACE

    total, total_key = cell("TRUE")
    rows = [
        {
            "step": "registry",
            "label": "patients in the registry",
            "removed": 0,
            "remaining": total,
            "removed_key": 0,
            "remaining_key": total_key,
        }
    ]
    remaining, remaining_key = total, total_key
    exclusions = con.execute(
        "SELECT x.reason, min(x.priority) FROM analysis_patients ap "
        "JOIN (SELECT patient_id, arg_min(reason, priority) AS reason, min(priority) AS priority "
        "      FROM int_exclusions GROUP BY patient_id) x USING (patient_id) "
        "GROUP BY x.reason ORDER BY min(x.priority)"
    ).fetchall()
    for reason, _priority in exclusions:
        removed, removed_key = cell(
            "ap.patient_id IN (SELECT patient_id FROM int_exclusions GROUP BY patient_id "
            "HAVING arg_min(reason, priority) = ?)",
            [reason],
        )
        remaining -= removed
        remaining_key = difference(remaining_key, removed_key)
        rows.append(
            {
                "step": "exclusion",
                "label": f"excluded: {reason}",
                "removed": removed,
                "remaining": remaining,
                "removed_key": removed_key,
                "remaining_key": remaining_key,
            }
        )
    conds, params = ["ap.excluded_reason IS NULL"], []
    for column, cond, p in cohort.where(columns):
        conds.append(cond)
        params += p
        n, key = cell(" AND ".join(conds), params)
        rows.append(
            {
                "step": "filter",
                "label": _describe(column, cohort),
                "removed": remaining - n,
                "remaining": n,
                "removed_key": difference(remaining_key, key),
                "remaining_key": key,
            }
        )
        remaining, remaining_key = n, key
    out = pd.DataFrame(rows, columns=["step", "label", "removed", "remaining", "removed_key", "remaining_key"])
    for col in ("removed_key", "remaining_key"):  # whole numbers or None, never floats
        out[col] = pd.Series([r[col] for r in rows], index=out.index, dtype=object)
    return out if keys else out.drop(columns=["removed_key", "remaining_key"])


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
    listed = [(c, v) for c, v in cohort.filters if isinstance(v, tuple) and v]
    if listed:  # a level this database does not have (an age band of another load) is an error, not 0 patients
        levels = coded_levels(con)
        for column, values in listed:
            unknown = [v for v in values if column in levels and v not in levels[column]]
            if unknown:
                raise UserError(
                    f"the cohort's {column} filter names {unknown[0]!r}, which is not a level of this database "
                    f"({', '.join(levels[column])}); choose from these."
                )
    for _column, cond, p in cohort.where(analysis_columns(con) if columns is None else columns):
        conds.append(cond)
        params += p
    return " AND ".join(conds), params


def key_join(con: duckdb.DuckDBPyConnection, keys: bool) -> tuple[str, str]:
    """The select term and join giving each ``ap`` row its record key (``ayaall.records``), or nothing.

    A database without ``record_keys`` (written before record keys, or built by hand) gives a missing key,
    which ``disclosure`` reads as no perturbation."""
    if not keys:
        return "", ""
    (present,) = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [RECORD_KEYS_TABLE]
    ).fetchone()  # type: ignore[misc]
    if not present:
        return f", CAST(NULL AS UINTEGER) AS {RECORD_KEY}", ""
    return f", rk.{RECORD_KEY}", f" LEFT JOIN {RECORD_KEYS_TABLE} rk ON rk.patient_id = ap.patient_id"


def load_analysis_frame(
    db_path: str | Path | duckdb.DuckDBPyConnection,
    cohort: CohortSpec,
    endpoint: str,
    origin: str,
    columns: Sequence[str] = (),
    *,
    identifiers: bool = True,
    keys: bool = False,
) -> pd.DataFrame:
    """The cohort's rows of one endpoint: patient_id, time_days, event_code, event_desc + ``columns``.

    ``db_path`` may be an open connection (the dashboard keeps one); ``columns`` are
    ``analysis_patients`` columns to join (grouping variables, covariates). With ``identifiers`` False
    the text columns patient_id and event_desc are left out (half the load time at 100,000 rows, for
    analyses that need neither); rows are in patient_id order either way. ``keys`` adds each patient's
    record key (:func:`key_join`), for ``disclosure``.
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
        key_term, key_sql = key_join(con, keys)
        sql = (
            f"SELECT {fields}" + extra + key_term + " "
            f"FROM time_to_event t JOIN analysis_patients ap USING (patient_id){key_sql} "
            f"WHERE t.endpoint = ? AND t.origin = ? AND {where} ORDER BY t.patient_id"
        )
        return read_frame(con, sql, [endpoint, origin, *params])
    finally:
        if not isinstance(db_path, duckdb.DuckDBPyConnection):
            con.close()


# Every dated occurrence of an exposure observed by the data cut-off (as analysis_patients' first dates
# hct1_date and car_t1_date are taken), and the staged table it is read from: the exposure of an analysis is
# the first one on or after its time zero.
_EXPOSURE_DATES: dict[str, tuple[str, str]] = {
    "hct": (
        "stg_transplants",
        "SELECT h.patient_id, h.hct_date AS exposure_date FROM stg_transplants h, load_parameters p "
        "WHERE h.hct_date <= p.data_cutoff",
    ),
    "car_t": (
        "stg_treatment_lines",
        "SELECT l.patient_id, l.start_date AS exposure_date FROM stg_treatment_lines l, load_parameters p "
        "WHERE l.regimen IN ('CAR_T_CD19', 'CAR_T_CD7') AND l.start_date <= p.data_cutoff",
    ),
    # VOD/SOS of any grade after any line (often after the transplant inotuzumab bridges to), by its onset
    "vod_sos": (
        "stg_adverse_events",
        "SELECT a.patient_id, a.onset_date AS exposure_date FROM stg_adverse_events a, load_parameters p "
        "WHERE a.event = 'VOD_SOS' AND a.onset_date <= p.data_cutoff",
    ),
}
assert set(_EXPOSURE_DATES) == set(EXPOSURES), "every exposure of ayaall.exposures has its dates"


def exposure_frame(
    con_or_db: Any,
    cohort: Any,
    endpoint: str,
    origin: str,
    exposure: str,
    columns: Sequence[str] = (),
    *,
    identifiers: bool = True,
    keys: bool = False,
) -> pd.DataFrame:
    """The cohort's rows of an endpoint with ``exposure_days``: days from time zero to the exposure.

    Parameters
    ----------
    con_or_db : DuckDB connection or path
    cohort : CohortSpec
    endpoint, origin : str
    exposure : {"hct", "car_t", "vod_sos"}
        A transplant (``transplants``), a CAR-T line (``treatment_lines``) or VOD/SOS of any grade
        (``adverse_events``, by its onset), observed by the data cut-off.
        The exposure is the first one **on or after time zero**: one before it (a transplant in CR1,
        for OS from the start of salvage) is a baseline fact, ``prior_exposure``, not the exposure.
    columns : sequence of str
        Further ``analysis_patients`` columns (covariates).
    identifiers : bool
        False leaves out the text columns patient_id and event_desc (as
        :func:`load_analysis_frame`: the analyses need neither); rows are in patient_id
        order either way.
    keys : bool
        Add each patient's record key (:func:`key_join`), for ``disclosure``.

    Returns
    -------
    DataFrame
        patient_id, time_days, event_code, event_desc, the ``columns``, ``exposure_days`` (days from
        time zero to the first exposure on or after it, 0 when on the day itself; missing when there is
        none) and ``prior_exposure`` (True when the patient had one before time zero).
    """
    if exposure not in EXPOSURES:
        raise UserError(f"Unknown exposure {exposure!r}; expected one of {', '.join(EXPOSURES)}.")
    try:
        endpoint_spec(endpoint, origin)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from exc
    own = not isinstance(con_or_db, duckdb.DuckDBPyConnection)
    con = connect_readonly(con_or_db) if own else con_or_db
    try:
        known = analysis_columns(con)
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise UserError(f"{', '.join(map(repr, unknown))} not a column of analysis_patients.")
        where, params = cohort_patients_sql(con, cohort, known)
        table, dates = _EXPOSURE_DATES[exposure]
        (present,) = con.execute(  # type: ignore[misc]
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()
        if not present:
            raise UserError(
                f"this database has no {table.removeprefix('stg_')} table, which the exposure "
                f"{exposure} is dated in; load the extract again with this version."
            )
        extra = "".join(f', ap."{c}"' for c in dict.fromkeys(columns) if c != "patient_id" or not identifiers)
        fields = "t.patient_id, t.time_days, t.event_code, t.event_desc" if identifiers else "t.time_days, t.event_code"
        key_term, key_sql = key_join(con, keys)
        sql = (
            f"WITH exposure_dates AS ({dates}) "
            f"SELECT {fields}{extra}{key_term}, "
            "CAST(date_diff('day', t.origin_date, x.first_after) AS DOUBLE) AS exposure_days, "
            "coalesce(x.any_before, false) AS prior_exposure "
            f"FROM time_to_event t JOIN analysis_patients ap USING (patient_id){key_sql} "
            "LEFT JOIN LATERAL (SELECT min(e.exposure_date) FILTER (WHERE e.exposure_date >= t.origin_date) "
            "AS first_after, bool_or(e.exposure_date < t.origin_date) AS any_before FROM exposure_dates e "
            "WHERE e.patient_id = t.patient_id) x ON true "
            f"WHERE t.endpoint = ? AND t.origin = ? AND {where} ORDER BY t.patient_id"
        )
        return read_frame(con, sql, [endpoint, origin, *params])
    finally:
        if own:
            con.close()


def response_frame(
    con_or_db: Any, cohort: Any, line: int, columns: Sequence[str] = (), *, keys: bool = False
) -> pd.DataFrame:
    """One row per cohort patient who started ``line`` (1 frontline, 2 salvage), with the outcomes.

    Returns
    -------
    DataFrame
        patient_id, the ``columns``, assessments (observed assessments of the line, on or before the
        data cut-off), cr (any CR/CRi/CRh), mrd_negative (any remission with MRD NEG), not_assessed; with
        ``keys`` each patient's record key (:func:`key_join`).
    """
    if line not in (1, 2):
        raise UserError(f"--line must be 1 (frontline) or 2 (salvage), not {line}.")
    own = not isinstance(con_or_db, duckdb.DuckDBPyConnection)
    con = connect_readonly(con_or_db) if own else con_or_db
    try:
        known = analysis_columns(con)
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise UserError(
                f"{', '.join(map(repr, unknown))} not a column of analysis_patients (columns: {', '.join(known)})."
            )
        where, params = cohort_patients_sql(con, cohort)
        extra = "".join(f', ap."{c}"' for c in dict.fromkeys(columns) if c != "patient_id")
        started = "TRUE" if line == 1 else "ap.line2_date IS NOT NULL"
        key_term, key_sql = key_join(con, keys)
        sql = f"""
            WITH a AS (
                SELECT r.patient_id, r.response IN {_REMISSION} AS remission, coalesce(r.mrd, 'UNK') AS mrd
                FROM stg_responses r, load_parameters p
                WHERE r.line_no = ? AND r.assessment_date <= p.data_cutoff
            )
            SELECT ap.patient_id{extra}{key_term},
                   count(a.patient_id) AS assessments,
                   coalesce(bool_or(a.remission), FALSE) AS cr,
                   coalesce(bool_or(a.remission AND a.mrd = 'NEG'), FALSE) AS mrd_negative,
                   count(a.patient_id) = 0 AS not_assessed
            FROM analysis_patients ap LEFT JOIN a USING (patient_id){key_sql}
            WHERE {where} AND {started}
            GROUP BY ALL ORDER BY ap.patient_id
        """
        return read_frame(con, sql, [line, *params])
    finally:
        if own:
            con.close()


def load_toxicity_frame(
    db: Any,
    cohort: Any,
    line: int,
    events: Sequence[str] | None = None,
    min_grades: Sequence[int] = (1, 3),
    *,
    window_days: int | None = None,
    columns: Sequence[str] = (),
    keys: bool = False,
) -> pd.DataFrame:
    """The toxicity rows of a cohort's patients (``etl.toxicity.toxicity_frame`` for a ``CohortSpec``).

    ``db`` is a database path or an open connection; ``events`` default to every toxicity of the
    extract. ``keys`` adds each patient's record key (:func:`key_join`; server side only), from which
    ``disclosure.toxicity`` computes the cell key of every (group, event, threshold) cell.
    """
    from ayaall.contract import AE_EVENTS
    from etl.toxicity import toxicity_frame

    own = not isinstance(db, duckdb.DuckDBPyConnection)
    con = connect_readonly(db) if own else db
    try:
        where, params = cohort_patients_sql(con, cohort)
        frame = toxicity_frame(
            con,
            line,
            AE_EVENTS if events is None else events,
            min_grades,
            window_days=window_days,
            where=where,
            params=params,
            columns=columns,
        )
        if not keys:
            return frame
        key_term, key_sql = key_join(con, True)
        patients = read_frame(
            con, f"SELECT ap.patient_id{key_term} FROM analysis_patients ap{key_sql} WHERE {where}", params
        )
        found = frame["patient_id"].map(patients.set_index("patient_id")[RECORD_KEY])
        return frame.assign(**{RECORD_KEY: found.to_numpy()})
    finally:
        if own:
            con.close()
