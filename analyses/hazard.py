"""Nelson–Aalen cumulative hazard with its standard error and a log-scale interval.

``nelson_aalen`` gives, per group and at every distinct time at which anything happened (after a
time-0 row), the cumulative hazard ``H(t) = sum over event times s <= t of d(s) / n(s)`` as R's
``survfit`` reports it (``summary(fit)$cumhaz``, survival 3.x), and its standard error:

* ``variance="poisson"`` (default): ``Var H = sum d / n^2``, R's ``std.chaz`` (Aalen's estimator;
  Klein & Moeschberger 2003, eq. 4.2.4);
* ``variance="binomial"``: ``Var H = sum d (n - d) / n^3``, lifelines' ``NelsonAalenFitter`` without
  smoothing (Klein 1991); the two agree when no events are tied and the risk sets are large.

The pointwise interval is ``H exp(±z se / H)``, the log transform lifelines uses (R gives none for the
cumulative hazard); it is [0, 0] before the first event. Counts, groups, the handling of event codes
(only 1 is an event) and of times equal within rounding are those of :func:`analyses.km.fit_km`.

References
----------
Nelson W (1972). Theory and applications of hazard plotting for censored failure data.
Technometrics 14:945–966.
Aalen OO (1978). Nonparametric inference for a family of counting processes. Ann Stat 6:701–726.
Klein JP (1991). Small sample moments of some estimators of the variance of the Kaplan–Meier and
Nelson–Aalen estimators. Scand J Stat 18:333–340.
Klein JP, Moeschberger ML (2003). Survival Analysis, 2nd ed. Springer, section 4.2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analyses.km import fit_km
from analyses.results import AnalysisError

__all__ = ["NelsonAalenResult", "nelson_aalen"]

_VARIANCES = ("poisson", "binomial")


@dataclass(frozen=True)
class NelsonAalenResult:
    """Nelson–Aalen cumulative hazard curves.

    Attributes
    ----------
    curve : DataFrame
        group, time_days, at_risk, events, censored, cumhaz, std_err, ci_lower, ci_upper; a time-0 row
        per group first, as :class:`analyses.km.KMResult` ``curve``.
    group_col : str or None
    conf_level : float
    variance : str
        ``"poisson"`` or ``"binomial"``.
    conf_type : str
        ``"log"``.
    """

    curve: pd.DataFrame
    group_col: str | None
    conf_level: float
    variance: str
    conf_type: str = "log"


def nelson_aalen(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str | None = None,
    *,
    variance: str = "poisson",
    conf_level: float = 0.95,
) -> NelsonAalenResult:
    """Nelson–Aalen cumulative hazard, overall or by group (R ``survfit``'s ``cumhaz``, ``std.chaz``).

    Parameters
    ----------
    df : DataFrame
    duration_col, event_col : str
        Follow-up time (days) and event (1 = event, any other code censored).
    group_col : str, optional
    variance : {"poisson", "binomial"}
        The variance estimator (module docstring); ``"poisson"`` is R's.
    conf_level : float

    Returns
    -------
    NelsonAalenResult

    Raises
    ------
    AnalysisError
        Bad input (as :func:`analyses.km.fit_km`) or an unknown variance.

    References
    ----------
    Nelson (1972); Aalen (1978); Klein (1991).
    """
    if variance not in _VARIANCES:
        raise AnalysisError(f"The variance must be one of {', '.join(_VARIANCES)}, not {variance!r}.")
    km = fit_km(df, duration_col, event_col, group_col, times=(), conf_level=conf_level)
    curve = km.curve[["group", "time_days", "at_risk", "events", "censored"]].copy()
    n = curve["at_risk"].to_numpy(dtype=float)
    d = curve["events"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(d > 0, d / n, 0.0)
        var_step = np.where(d > 0, d / n**2 if variance == "poisson" else d * (n - d) / n**3, 0.0)
    group = curve.groupby("group", sort=False).ngroup().to_numpy()
    cumhaz = pd.Series(step).groupby(group).cumsum().to_numpy()
    se = np.sqrt(pd.Series(var_step).groupby(group).cumsum().to_numpy())
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.exp(z * se / np.where(cumhaz > 0, cumhaz, 1.0))
    curve["cumhaz"] = cumhaz
    curve["std_err"] = se
    curve["ci_lower"] = cumhaz / factor
    curve["ci_upper"] = cumhaz * factor
    return NelsonAalenResult(curve=curve, group_col=group_col, conf_level=conf_level, variance=variance)
