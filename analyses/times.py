"""Times that differ only by floating-point rounding are one time, as R's ``survival`` package takes them.

Follow-up computed in floating point can make one day two: ``0.1 + 0.2`` is 0.30000000000000004, not
0.3, so a sort puts an event "at 0.3" and a censoring "at 0.3" at two times, and every estimator that
groups tied times (Kaplan–Meier, the log-rank test, Cox's risk sets, the cumulative incidence) gets a
different answer from R. R's ``survfit``, ``survdiff``, ``coxph`` and ``concordance`` merge such times
first (their ``timefix = TRUE`` default, function ``survival:::aeqSurv``); :func:`timefix` is that
function, and every estimator in ``analyses/`` that sorts times calls it on its input.

The rule (``aeqSurv``): sort the distinct finite values ``y``; a gap ``dy`` between neighbours is a
rounding tie when ``dy <= tol`` or ``dy / mean(|y|) <= tol`` (``tol = sqrt(machine epsilon)``, about
1.5e-8); a run of such ties becomes its smallest value. Integer-valued times (days) have no such gaps
and are returned untouched without sorting. For counting-process data the start and stop times are
merged on one grid (:func:`timefix_intervals`), and an interval that the merge would make empty is an
error, as in R. ``cmprsk`` (``cuminc``, ``crr``) does not merge; the project's competing-risks
estimators do, so they agree with ``cmprsk`` run on merged times and with ``survfit``'s Aalen–Johansen
estimate on the raw ones.

References
----------
Therneau TM (2023). A package for survival analysis in R, version 3.5; ``?aeqSurv`` and the vignette
"Roundoff error and tied times".
"""

from __future__ import annotations

import numpy as np

from analyses.results import AnalysisError

__all__ = ["TIME_TOLERANCE", "rounding_runs", "timefix", "timefix_intervals"]

#: R's default tolerance, ``sqrt(.Machine$double.eps)``.
TIME_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def rounding_runs(distinct: np.ndarray, *, tolerance: float = TIME_TOLERANCE) -> np.ndarray:
    """For sorted distinct finite values, the index (0, 1, ...) of the run of rounding ties each is in.

    ``aeqSurv``'s rule: neighbours closer than ``tolerance``, absolute or relative to the mean absolute
    value, are in one run. :func:`timefix` replaces each run by its smallest value;
    :func:`analyses.concordance.concordance` ranks linear predictors by it.
    """
    if distinct.size < 2 or tolerance <= 0:
        return np.zeros(distinct.size, dtype=np.int64)
    dy = np.diff(distinct)
    with np.errstate(divide="ignore", invalid="ignore"):
        tied = (dy <= tolerance) | (dy / np.abs(distinct).mean() <= tolerance)
    return np.r_[0, np.cumsum(~tied)]


def _grid(values: np.ndarray, tolerance: float) -> np.ndarray | None:
    """The merged grid of ``aeqSurv`` (each run's smallest value), or None when nothing merges."""
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return None
    if np.abs(finite).max() * tolerance < 1 and np.array_equal(finite, np.round(finite)):
        return None  # whole numbers below 1/tolerance: every gap is >= 1, far above both tolerances
    y = np.unique(finite)
    runs = rounding_runs(y, tolerance=tolerance)
    if runs[-1] == y.size - 1:
        return None
    return y[np.r_[True, np.diff(runs) > 0]]


def _snap(values: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Each finite value replaced by the grid point at or below it (R's ``cuts[findInterval(x, cuts)]``)."""
    out = values.copy()
    finite = np.isfinite(values)
    out[finite] = cuts[np.searchsorted(cuts, values[finite], side="right") - 1]
    return out


def timefix(time: np.ndarray, *, tolerance: float = TIME_TOLERANCE) -> np.ndarray:
    """Merge times equal within rounding, as R's ``survival:::aeqSurv`` does (``timefix = TRUE``).

    Parameters
    ----------
    time : ndarray of float
        Follow-up times (non-finite values are left as they are).
    tolerance : float
        R's ``tolerance``; 0 or less turns the merge off.

    Returns
    -------
    ndarray
        ``time`` itself when nothing merges, else a copy in which each run of values closer than the
        tolerance (absolute, or relative to the mean absolute value) holds its smallest value.

    References
    ----------
    Therneau (2023), ``?aeqSurv``.
    """
    time = np.asarray(time, dtype=float)
    if tolerance <= 0:
        return time
    cuts = _grid(time, tolerance)
    return time if cuts is None else _snap(time, cuts)


def timefix_intervals(
    start: np.ndarray, stop: np.ndarray, *, tolerance: float = TIME_TOLERANCE
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`timefix` for counting-process ``(start, stop]`` intervals: one grid for both columns.

    Raises
    ------
    AnalysisError
        An interval of positive length that the merge would make empty (R stops with "aeqSurv
        exception, an interval has effective length 0").

    References
    ----------
    Therneau (2023), ``?aeqSurv``.
    """
    start, stop = np.asarray(start, dtype=float), np.asarray(stop, dtype=float)
    if tolerance <= 0:
        return start, stop
    cuts = _grid(np.concatenate([start, stop]), tolerance)
    if cuts is None:
        return start, stop
    new_start, new_stop = _snap(start, cuts), _snap(stop, cuts)
    collapsed = (new_start == new_stop) & (start != stop)
    if collapsed.any():
        i = int(np.flatnonzero(collapsed)[0])
        raise AnalysisError(
            f"Row {i + 1} has an interval ({start[i]!r}, {stop[i]!r}] shorter than rounding error; "
            "its start and stop are the same time."
        )
    return new_start, new_stop
