"""Median follow-up by the reverse Kaplan–Meier method, and conditional survival.

**Median follow-up** (:func:`median_follow_up`): the Kaplan–Meier estimate in which censoring is the
"event" and an event (of any cause) censors, so it estimates how long patients would have been
followed had none of them had the event (Schemper & Smith 1996). Its median, with the median's
confidence interval, is R's ``print(survfit(Surv(time, 1 - status) ~ group))`` (equal to prodlim's
``reverse = TRUE``). A patient whose status is 0 is censored; every other code (1, or a competing
event 2) ends follow-up by an event, so it counts as censored in the reverse estimate. The median is
missing when fewer than half the patients are censored in the end.

**Conditional survival** (:func:`conditional_survival`): for patients alive and event-free at
``given_days`` (t0), the probability of ``t`` more days, ``S(t | t0) = S(t0 + t) / S(t0)``. The
Kaplan–Meier estimate among the patients still followed after t0 (time > t0), with time counted from
t0, *is* this ratio of the whole cohort's estimates, and its Greenwood variance is that of
``log S(t0 + t) - log S(t0)``: the sum of ``d / (n (n - d))`` over the event times in (t0, t0 + t],
the delta method for the cumulative hazard accrued after t0. The interval is then the chosen
``conf_type`` (log-log by default). The reference is R's ``survfit(Surv(time - t0, status) ~ group,
subset = time > t0)``, checked equal to ``S(t0 + t) / S(t0)`` of the full fit
(``tests/r/km_extras_reference.R``).

References
----------
Schemper M, Smith TL (1996). A note on quantifying follow-up in studies of failure time. Control
Clin Trials 17:343–346.
Zabor EC, Gonen M, Chapman PB, Panageas KS (2013). Dynamic prognostication using conditional
survival estimates. Cancer 119:3589–3592.
Hieke S, Kleber M, König C, Engelhardt M, Schumacher M (2015). Conditional survival: a useful concept
to provide information on how prognosis evolves over time. Clin Cancer Res 21:1530–1536.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses.km import KMResult, fit_km
from analyses.results import AnalysisError, survival_arrays
from analyses.times import timefix

__all__ = ["ConditionalSurvivalResult", "conditional_survival", "median_follow_up"]

_REVERSED = "_censored"


def median_follow_up(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    group_col: str | None = None,
    *,
    conf_level: float = 0.95,
    conf_type: str = "log-log",
) -> pd.DataFrame:
    """Median follow-up by reverse Kaplan–Meier, overall or by group.

    Parameters
    ----------
    df : DataFrame
    duration_col, event_col : str
        Follow-up time (days) and status (0 censored; any other code an event).
    group_col : str, optional
    conf_level : float
    conf_type : {"log-log", "log", "plain"}
        The interval of the reverse curve, hence of its median (R's default is ``"log"``).

    Returns
    -------
    DataFrame
        group, n, censored (patients whose follow-up ended without an event), median_days,
        ci_lower, ci_upper (NaN when not reached).

    Raises
    ------
    AnalysisError
        Bad input (as :func:`analyses.km.fit_km`).

    References
    ----------
    Schemper & Smith (1996).
    """
    survival_arrays(df, duration_col, event_col)  # the checks, naming the caller's columns
    status = pd.to_numeric(df[event_col])
    frame = df.assign(**{_REVERSED: (status == 0).astype(int)})
    reverse = fit_km(frame, duration_col, _REVERSED, group_col, times=(), conf_level=conf_level, conf_type=conf_type)
    return reverse.summary.rename(
        columns={"events": "censored", "median_ci_lower": "ci_lower", "median_ci_upper": "ci_upper"}
    )


@dataclass(frozen=True)
class ConditionalSurvivalResult:
    """Survival from ``given_days`` on, for patients event-free and followed beyond it.

    Attributes
    ----------
    given_days : float
        t0.
    km : KMResult
        The Kaplan–Meier fit of those patients with time counted from t0: its ``curve`` and
        ``milestones`` are ``S(t | t0)`` at ``t`` days after t0, with standard errors and intervals;
        ``summary`` gives the median residual time.
    at_given : DataFrame
        group, n (patients in the group), n_at_risk (followed beyond t0), survival (``S(t0)`` of the
        whole group, the denominator).
    """

    given_days: float
    km: KMResult
    at_given: pd.DataFrame


def conditional_survival(
    df: pd.DataFrame,
    duration_col: str,
    event_col: str,
    given_days: float,
    group_col: str | None = None,
    *,
    times: Sequence[float] = (365.25, 730.5, 1095.75, 1826.25),
    conf_level: float = 0.95,
    conf_type: str = "log-log",
) -> ConditionalSurvivalResult:
    """Conditional survival ``S(t | t0) = S(t0 + t) / S(t0)`` with confidence intervals.

    Parameters
    ----------
    df : DataFrame
    duration_col, event_col : str
        Follow-up time (days) and event (1 = event, any other code censored).
    given_days : float
        t0: survival is conditional on being event-free and in follow-up beyond this day.
    group_col : str, optional
    times : sequence of float
        Days after t0 at which to report ``S(t | t0)`` (default 1, 2, 3 and 5 more years).
    conf_level : float
    conf_type : {"log-log", "log", "plain"}

    Returns
    -------
    ConditionalSurvivalResult

    Raises
    ------
    AnalysisError
        Bad input, a negative or non-finite t0, or nobody (in some group) followed beyond t0.

    References
    ----------
    Zabor et al. (2013); Hieke et al. (2015).
    """
    if not np.isfinite(given_days) or given_days < 0:
        raise AnalysisError(f"The conditioning time must be a non-negative number of days, not {given_days!r}.")
    time = timefix(survival_arrays(df, duration_col, event_col)[0])
    beyond = time > given_days
    whole = fit_km(df, duration_col, event_col, group_col, times=(given_days,), conf_level=conf_level)
    empty = [g for g in whole.groups if not beyond[_rows(df, group_col, g)].any()]
    if empty:
        raise AnalysisError(
            f"Nobody{'' if group_col is None else f' in group {empty[0]!r}'} is event-free and in follow-up "
            f"after day {given_days:g}, so survival beyond it cannot be estimated."
        )
    frame = df.loc[beyond].assign(**{duration_col: time[beyond] - given_days})
    km = fit_km(frame, duration_col, event_col, group_col, times=times, conf_level=conf_level, conf_type=conf_type)
    at_given = pd.DataFrame(
        {
            "group": whole.groups,
            "n": whole.summary["n"].to_numpy(),
            "n_at_risk": [int(beyond[_rows(df, group_col, g)].sum()) for g in whole.groups],
            "survival": whole.milestones["survival"].to_numpy(),
        }
    )
    return ConditionalSurvivalResult(given_days=float(given_days), km=km, at_given=at_given)


def _rows(df: pd.DataFrame, group_col: str | None, group: str) -> np.ndarray:
    """Rows of one group, by the text of the group column (as :func:`analyses.km.fit_km` names groups)."""
    if group_col is None:
        return np.ones(len(df), dtype=bool)
    return df[group_col].astype(str).to_numpy() == group
