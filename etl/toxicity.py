"""The toxicity endpoints of endpoints.md (format 1.1), derived at query time for a cohort's patients.

For a line of therapy ``k`` (time zero: its start date), a toxicity ``X`` and a grade threshold ``g``
(1 = any grade, where grade UNK or an empty grade counts; 3 = severe, grades 3-5):

- **event** (event_code 1): the first ``adverse_events`` row attributed to line ``k`` with event
  ``X`` and grade >= ``g``, at its onset date;
- **competing event** (2): death ``D`` before it;
- **censoring** (0): the earliest of the start of the next line (the earliest later-numbered line
  starting on or after line ``k``), the end of follow-up ``L`` and, when asked, a fixed window of
  ``window_days`` after the start. A transplant does not end the window.

Ties: an event on the day the window closes counts (a toxicity on the day the next line starts is
attributed to line ``k``, as the registry recorded it); a death on that day is the competing event.
Only events up to ``L`` (which the data cut-off bounds) are observed. A row dated before its line's
start or after ``D`` excludes the patient at load time (``int_exclusions``), so every time is >= 0.

The rows are computed from the staged tables when asked, not stored: one row per cohort patient
who started line ``k`` × event × threshold is 24 rows per line at two thresholds and twelve events,
more than the whole of ``time_to_event`` (BENCHMARKS.md, "Toxicity endpoints: stored or at query
time"). ``worst_grade`` is the worst grade of ``X`` attributed to the line within its window (5 to 1,
then UNK, else NONE), the grade distribution the spec asks for per patient and line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ayaall.contract import AE_EVENTS
from ayaall.errors import UserError

__all__ = ["CENSOR_REASONS", "TOXICITY_COLUMNS", "WORST_GRADES", "toxicity_frame"]

#: Why a censored row ended (``censor_reason``); on a tie, the first listed.
CENSOR_REASONS = ("NEXT_LINE", "WINDOW", "END_OF_FOLLOW_UP")
#: ``worst_grade`` values, best to worst.
WORST_GRADES = ("NONE", "UNK", "1", "2", "3", "4", "5")
#: The columns of :func:`toxicity_frame` before the requested ``analysis_patients`` columns.
TOXICITY_COLUMNS = (
    "patient_id",
    "line_no",
    "regimen",
    "line_start",
    "event",
    "min_grade",
    "end_date",
    "time_days",
    "event_code",
    "event_desc",
    "censor_reason",
    "grade",
    "worst_grade",
)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check(
    con: duckdb.DuckDBPyConnection,
    line: int,
    events: Sequence[str],
    min_grades: Sequence[int],
    window_days: int | None,
    columns: Sequence[str],
) -> None:
    if isinstance(line, bool) or not isinstance(line, int) or line < 1:
        raise UserError(f"the line of therapy must be a whole number of at least 1 (1 = frontline), not {line!r}.")
    unknown = [e for e in events if e not in AE_EVENTS]
    if unknown or not events:
        raise UserError(
            f"{', '.join(map(repr, unknown)) or 'no event'} is not a toxicity of the extract; "
            f"choose among {', '.join(AE_EVENTS)}."
        )
    bad = [g for g in min_grades if isinstance(g, bool) or not isinstance(g, int) or not 1 <= g <= 5]
    if bad or not min_grades:
        raise UserError(f"grade thresholds are whole numbers from 1 (any grade) to 5, not {bad or 'none'}.")
    if window_days is not None and (
        isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 0
    ):
        raise UserError(f"the window must be a whole number of days of at least 0, not {window_days!r}.")
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "stg_adverse_events" not in tables:
        raise UserError("this database has no adverse_events table; load the extract again with this version.")
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'analysis_patients'"
        ).fetchall()
    )
    missing = [c for c in columns if c not in types and c not in TOXICITY_COLUMNS]
    if missing:
        raise UserError(
            f"{', '.join(map(repr, missing))} not a column of analysis_patients (columns: {', '.join(types)})."
        )


def _enum(values: Sequence[str]) -> str:
    """An inline ENUM type of ``values``: a coded result column reaches pandas as codes, not text."""
    return "ENUM(" + ", ".join(f"'{v}'" for v in values) + ")"


def _toxicity_sql(
    events: Sequence[str], min_grades: Sequence[int], window_days: int | None, where: str, columns: Sequence[str]
) -> str:
    """The query of :func:`toxicity_frame`; its parameters: the line, the ``where`` ones, the line again.

    ``events`` and ``min_grades`` are checked values written into the SQL; ``where`` is a condition
    on ``analysis_patients`` as ``ap``; ``columns`` are its columns to add. Each line gets an integer
    key ``k`` in patient order, which the joins and the final sort use instead of the patient's text;
    coded columns stay ENUMs (the events and regimens of the staged tables, and inline ones).
    """
    event_rows = ", ".join(f"('{e}')" for e in events)
    grade_rows = ", ".join(f"({int(g)})" for g in min_grades)
    window = f"line.line_start + INTERVAL {int(window_days)} DAY" if window_days is not None else "NULL"
    extra = "".join(f", ap.{_q(c)}" for c in columns)
    extra_out = "".join(f", {_q(c)}" for c in columns)
    descs = _enum(sorted({*events, "DEATH", "CENSORED"}))
    return f"""
WITH line AS (
    SELECT row_number() OVER (ORDER BY ap.patient_id) AS k, ap.patient_id, l.line_no, l.regimen,
           l.start_date AS line_start, ap.death_date AS d, ap.followup_end AS l_end{extra}
    FROM analysis_patients AS ap JOIN stg_treatment_lines AS l USING (patient_id) CROSS JOIN load_parameters AS p
    WHERE l.line_no = ? AND l.start_date <= p.data_cutoff AND ap.excluded_reason IS NULL AND ({where})
),
next_line AS (
    SELECT line.k, min(l2.start_date) AS next_start
    FROM stg_treatment_lines AS l2 JOIN line USING (patient_id) CROSS JOIN load_parameters AS p
    WHERE l2.line_no > line.line_no AND l2.start_date >= line.line_start AND l2.start_date <= p.data_cutoff
    GROUP BY line.k
),
w AS (
    SELECT line.*, n.next_start, CAST({window} AS DATE) AS window_end,
           least(n.next_start, line.l_end, CAST({window} AS DATE)) AS censor_date
    FROM line LEFT JOIN next_line AS n USING (k)
),
asked AS (SELECT CAST(v.e AS event_code) AS event FROM (VALUES {event_rows}) AS v(e)),
thresholds AS (SELECT v.g AS min_grade FROM (VALUES {grade_rows}) AS v(g)),
-- The line's events of the types asked, within its window; g is the grade, 0 for UNK or none.
ae AS (
    SELECT w.k, a.event, a.onset_date,
           CASE WHEN a.grade IS NULL OR a.grade = 'UNK' THEN 0 ELSE CAST(CAST(a.grade AS VARCHAR) AS INTEGER) END AS g
    FROM stg_adverse_events AS a JOIN w USING (patient_id)
    WHERE a.line_no = ? AND a.onset_date <= w.censor_date AND a.event IN (SELECT event FROM asked)
),
worst AS (
    SELECT k, event, max(g) AS worst_g FROM ae GROUP BY ALL
),
firsts AS (
    SELECT ae.k, ae.event, t.min_grade, min(ae.onset_date) AS first_onset, arg_min(ae.g, ae.onset_date) AS first_g
    FROM ae JOIN thresholds AS t ON ae.g >= t.min_grade OR t.min_grade = 1
    GROUP BY ALL
),
rows AS (
    SELECT w.*, x.event, t.min_grade, f.first_onset, f.first_g, wo.worst_g,
           CASE WHEN f.first_onset IS NOT NULL THEN 1 WHEN w.d IS NOT NULL AND w.d <= w.censor_date THEN 2 ELSE 0 END
               AS code
    FROM w CROSS JOIN asked AS x CROSS JOIN thresholds AS t
    LEFT JOIN firsts AS f ON f.k = w.k AND f.event = x.event AND f.min_grade = t.min_grade
    LEFT JOIN worst AS wo ON wo.k = w.k AND wo.event = x.event
)
SELECT patient_id, line_no, regimen, line_start, event, CAST(min_grade AS INTEGER) AS min_grade,
       CASE code WHEN 1 THEN first_onset WHEN 2 THEN d ELSE censor_date END AS end_date,
       CAST(date_diff('day', line_start, CASE code WHEN 1 THEN first_onset WHEN 2 THEN d ELSE censor_date END)
            AS INTEGER) AS time_days,
       CAST(code AS TINYINT) AS event_code,
       CAST(CASE code WHEN 1 THEN CAST(event AS VARCHAR) WHEN 2 THEN 'DEATH' ELSE 'CENSORED' END AS {descs})
           AS event_desc,
       CAST(CASE WHEN code <> 0 THEN NULL
                 WHEN censor_date = next_start THEN 'NEXT_LINE'
                 WHEN censor_date = window_end THEN 'WINDOW'
                 ELSE 'END_OF_FOLLOW_UP' END AS {_enum(CENSOR_REASONS)}) AS censor_reason,
       CAST(CASE WHEN code = 1 THEN CASE WHEN first_g = 0 THEN 'UNK' ELSE CAST(first_g AS VARCHAR) END END
            AS {_enum(WORST_GRADES[1:])}) AS grade,
       CAST(CASE WHEN worst_g IS NULL THEN 'NONE' WHEN worst_g = 0 THEN 'UNK' ELSE CAST(worst_g AS VARCHAR) END
            AS {_enum(WORST_GRADES)}) AS worst_grade{extra_out}
FROM rows
ORDER BY k, event, min_grade
"""


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns (from ENUMs) as text, ``None`` where missing, as ``analyses.cohort.read_frame``
    gives coded columns: pandas groups, compares and sorts a Categorical otherwise than text."""
    for i, dtype in enumerate(frame.dtypes):
        if isinstance(dtype, pd.CategoricalDtype):
            cat = frame.iloc[:, i].array
            lookup = np.empty(len(cat.categories) + 1, dtype=object)
            lookup[:-1] = cat.categories.to_numpy(dtype=object)  # code -1 (missing) picks the None at the end
            frame.isetitem(i, lookup[cat.codes])
    return frame


def toxicity_frame(
    con: duckdb.DuckDBPyConnection,
    line: int,
    events: Sequence[str] = AE_EVENTS,
    min_grades: Sequence[int] = (1, 3),
    *,
    window_days: int | None = None,
    where: str = "TRUE",
    params: Sequence[Any] = (),
    columns: Sequence[str] = (),
) -> pd.DataFrame:
    """The toxicity endpoint rows of line ``line``: one per patient who started it × event × threshold.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A database written by ``ayaall load`` (format 1.1 or later loader).
    line : int
        The line of therapy (1 frontline, 2 first salvage, ...); a patient is in when the line
        started on or before the data cut-off.
    events : sequence of str
        Toxicities (``ayaall.contract.AE_EVENTS``).
    min_grades : sequence of int
        Grade thresholds: 1 = any grade (grade UNK or empty counts), 2-5 = that grade or worse.
    window_days : int, optional
        Censor at this many days after the line's start as well (e.g. 100: CRS, ICANS, VOD/SOS).
    where, params : str, sequence
        An SQL condition on ``analysis_patients`` as ``ap`` with its parameters (the cohort, from
        ``analyses.cohort.cohort_patients_sql``, which binds every value as a parameter: the text is
        code's, never a user's); excluded patients are always left out.
    columns : sequence of str
        ``analysis_patients`` columns to add (grouping variables); coded columns come as text. A name
        of ``TOXICITY_COLUMNS`` (``regimen``: the line's own) is there already.

    Returns
    -------
    pandas.DataFrame
        ``TOXICITY_COLUMNS`` + ``columns``, sorted by patient_id, event, min_grade: time_days
        (``end_date - line_start``), event_code (0 censored, 1 the toxicity, 2 death first),
        event_desc (the event, DEATH or CENSORED), censor_reason (``CENSOR_REASONS``, censored rows
        only), grade (of the counted event: 1-5 or UNK) and worst_grade (``WORST_GRADES``).

    Raises
    ------
    ayaall.errors.UserError
        An invalid line, event, threshold, window or column, or a database loaded before format 1.1.
    """
    _check(con, line, list(events), list(min_grades), window_days, list(columns))
    extra = [c for c in dict.fromkeys(columns) if c not in TOXICITY_COLUMNS]
    sql = _toxicity_sql(list(dict.fromkeys(events)), sorted(set(min_grades)), window_days, where, extra)
    return _as_text(con.execute(sql, [line, *params, line]).df())
