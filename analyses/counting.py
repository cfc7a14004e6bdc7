"""Counting-process data: each patient's follow-up split at an exposure into (start, stop] intervals.

An exposure that starts after time zero (transplant, CAR-T) makes a patient unexposed on ``(0, e]`` and
exposed on ``(e, T]``; the Simon–Makuch curves, the Mantel–Byar test (:mod:`analyses.landmark`) and the
time-varying Cox model (:mod:`analyses.cox_counting`) take these rows.

Risk sets follow R's counting-process convention: an interval ``(start, stop]`` is at risk at time t
when ``start < t <= stop``. One exception, stated here because R differs: an interval that starts at the
origin (start 0) is at risk from before time 0, so an event on day 0 has the whole cohort at risk, as in
:func:`analyses.km.fit_km` (R would drop a ``(0, 0]`` interval). Without any exposure change the
estimators therefore reproduce ``fit_km``, ``logrank_test`` and ``fit_cox`` exactly (tested).

References
----------
Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model. Springer, ch. 3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyses.results import AnalysisError, survival_arrays
from analyses.times import timefix_intervals

__all__ = ["counting_arrays", "start_stop_frame"]


def start_stop_frame(df: pd.DataFrame, duration_col: str, event_col: str, exposure_time_col: str) -> pd.DataFrame:
    """Split each patient's follow-up at the exposure time into counting-process rows.

    Parameters
    ----------
    df : DataFrame
        One row per patient.
    duration_col, event_col : str
        Follow-up in days from the origin, and the event (1 = event, any other code censored).
    exposure_time_col : str
        Days from the origin to the exposure; missing when never exposed. An exposure on or after the
        end of follow-up is treated as never; one at or before time 0 as exposed from the start.

    Returns
    -------
    DataFrame
        The input columns (the patient's values repeated on each of its rows) plus ``row_id`` (the
        input row position, for clustering), ``start``, ``stop``, ``event`` (0/1, only on the last
        row) and ``exposed`` (0/1), sorted by row_id and start.
    """
    time, event = survival_arrays(df, duration_col, event_col)
    if exposure_time_col not in df.columns:
        raise AnalysisError(f"The data has no column named {exposure_time_col!r}.")
    expo = pd.to_numeric(df[exposure_time_col], errors="coerce").to_numpy(dtype=float)
    never = np.isnan(expo) | (expo >= time)
    split = ~never & (expo > 0)
    # one row per patient, two for a split one: its unexposed (0, e] row, then its exposed (e, T] row
    rows = np.repeat(np.arange(len(df)), np.where(split, 2, 1))
    second = np.zeros(len(rows), dtype=bool)
    second[1:] = rows[1:] == rows[:-1]
    cut = split[rows] & ~second  # the unexposed row of a split patient, ending at exposure
    return (
        df.iloc[rows]
        .reset_index(drop=True)
        .assign(
            row_id=rows,
            start=np.where(second, expo[rows], 0.0),
            stop=np.where(cut, expo[rows], time[rows]),
            event=np.where(cut, 0, event[rows].astype(int)),
            exposed=np.where(second | ~(never | split)[rows], 1, 0),
        )
    )


def counting_arrays(data: pd.DataFrame, start_col: str, stop_col: str, event_col: str):
    """Entry (``-inf`` for an interval from the origin), stop and event arrays of (start, stop] rows, checked.

    Start and stop times equal within rounding are merged on one grid (:func:`analyses.times.timefix_intervals`,
    R's ``timefix``), for the Simon–Makuch curves, the Mantel–Byar test and the time-varying Cox model alike.
    """
    start, event = survival_arrays(data, start_col, event_col)
    stop, _ = survival_arrays(data, stop_col, event_col)
    if (stop < start).any() or ((stop == start) & (start > 0)).any():
        raise AnalysisError(f"Every interval needs {stop_col!r} after {start_col!r} (found an empty interval).")
    start, stop = timefix_intervals(start, stop)
    entry = np.where(start <= 0, -np.inf, start)  # intervals from the origin are at risk at time 0
    return entry, stop, event
