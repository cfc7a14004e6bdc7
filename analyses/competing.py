"""Competing-risks analyses: one import for cumulative incidence, Gray's test, Fine–Gray and
cause-specific Cox.

The estimators live in ``analyses.cif`` (Aalen–Johansen cumulative incidence, cmprsk's variance),
``analyses.gray`` (Gray's K-sample test) and ``analyses.finegray`` (Fine–Gray regression); this module
re-exports them and adds the cause-specific Cox model, a Cox model of one cause in which the other
cause censors (``analyses.cox.fit_cox`` on ``status == event``). Status codes follow endpoints.md:
0 censored, 1 the endpoint's event, 2 the competing event.

References
----------
.. [1] Aalen OO, Johansen S (1978). An empirical transition matrix for non-homogeneous Markov chains
   based on censored observations. Scand J Stat 5:141–150.
.. [2] Gray RJ (1988). A class of K-sample tests for comparing the cumulative incidence of a competing
   risk. Ann Stat 16:1141–1154.
.. [3] Fine JP, Gray RJ (1999). A proportional hazards model for the subdistribution of a competing
   risk. J Am Stat Assoc 94:496–509.
.. [4] Putter H, Fiocco M, Geskus RB (2007). Tutorial in biostatistics: competing risks and multi-state
   models. Stat Med 26:2389–2430.
"""

from __future__ import annotations

import pandas as pd

from analyses.cif import DEFAULT_TIMES_DAYS, CIFResult, clean_status, cumulative_incidence
from analyses.cox import CoxResult, fit_cox
from analyses.finegray import FineGrayResult, fit_fine_gray
from analyses.gray import GrayTestResult, gray_test
from analyses.results import AnalysisError, AnalysisWarning

__all__ = [
    "DEFAULT_TIMES_DAYS",
    "AnalysisError",
    "AnalysisWarning",
    "CIFResult",
    "FineGrayResult",
    "GrayTestResult",
    "cumulative_incidence",
    "fit_cause_specific_cox",
    "fit_fine_gray",
    "gray_test",
]


def fit_cause_specific_cox(
    df: pd.DataFrame,
    duration_col: str,
    status_col: str,
    covariates: list[str],
    *,
    event: int = 1,
    competing: int = 2,
    ref_levels: dict[str, str] | None = None,
    strata: list[str] | str | None = None,
    robust: bool = False,
    conf_level: float = 0.95,
) -> CoxResult:
    """Cox model of the cause-specific hazard of ``event``; the competing event censors.

    Equivalent to R's ``coxph(Surv(time, status == event) ~ covariates, ties = "efron")``. The hazard
    ratios describe the rate of the event among patients still free of both events; unlike Fine–Gray
    subdistribution hazard ratios they do not translate directly into cumulative incidence.

    Parameters
    ----------
    df : pandas.DataFrame
    duration_col, status_col : str
        Follow-up time (days) and status (0 censored, ``event``, ``competing``).
    covariates : list of str
        As for ``analyses.cox.fit_cox`` (text covariates coded against a reference level).
    event, competing : int
        The cause modelled and the other cause (treated as censoring).
    ref_levels, strata, robust, conf_level
        Passed to ``analyses.cox.fit_cox`` (ties are Efron's, as coxph's default).

    Returns
    -------
    CoxResult
        As ``analyses.cox.fit_cox`` returns it; ``events`` counts events of this cause only.

    Raises
    ------
    AnalysisError
        Unknown status codes or missing columns, no events of the cause, and the errors of ``fit_cox``.

    References
    ----------
    .. [1] Putter H, Fiocco M, Geskus RB (2007). Stat Med 26:2389–2430, section 3.
    """
    _, _, code = clean_status(df, duration_col, status_col, event, competing)
    if not (code == 1).any():
        raise AnalysisError(f"The cause-specific Cox model needs at least one event (code {event}); there are none.")
    indicator = f"_{status_col}_is_{event}"
    frame = df.assign(**{indicator: (df[status_col] == event).astype(int)})
    return fit_cox(
        frame,
        duration_col,
        indicator,
        list(covariates),
        ref_levels=ref_levels,
        strata=strata,
        robust=robust,
        conf_level=conf_level,
    )
