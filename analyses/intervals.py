"""Pointwise confidence intervals for a survival probability, R's ``conf.type`` choices.

``survival_ci`` is ``survival:::survfit_confint`` (survival 3.5) for the three types the project
offers, from the estimate ``S`` and the standard error of ``log S`` (Greenwood's for Kaplan–Meier):

* ``"log-log"`` (the project's default, as in the KMunicate figures): a symmetric interval for
  ``log(-log S)``, ``S ** exp(±z se / log S)``; missing where S is 0 or 1.
* ``"log"`` (R's default): ``exp(log S ± z se)``, the upper limit capped at 1; missing where S is 0.
* ``"plain"``: ``S ± z se S``, limited to [0, 1].

References
----------
Kalbfleisch JD, Prentice RL (2002). The Statistical Analysis of Failure Time Data, 2nd ed. Wiley,
section 1.4 (log-log).
Collett D (2015). Modelling Survival Data in Medical Research, 3rd ed., section 2.2.3.
Therneau TM (2023). A package for survival analysis in R, version 3.5 (``survfit_confint``).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analyses.results import AnalysisError

__all__ = ["CONF_TYPES", "check_conf_type", "survival_ci"]

#: The interval types of :func:`survival_ci`, the default first.
CONF_TYPES = ("log-log", "log", "plain")


def check_conf_type(conf_type: str) -> str:
    """``conf_type`` itself when it is one of :data:`CONF_TYPES`, else an :class:`AnalysisError`."""
    if conf_type not in CONF_TYPES:
        raise AnalysisError(f"The interval type must be one of {', '.join(CONF_TYPES)}, not {conf_type!r}.")
    return conf_type


def survival_ci(
    surv: np.ndarray, se_log: np.ndarray, conf_level: float, conf_type: str = "log-log"
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper pointwise limits for S from the standard error of log S (R ``conf.type``).

    Parameters
    ----------
    surv : ndarray
        Survival probabilities.
    se_log : ndarray
        Standard errors of ``log S``.
    conf_level : float
    conf_type : {"log-log", "log", "plain"}

    Returns
    -------
    tuple of ndarray
        NaN where the interval is undefined (see the module docstring).

    References
    ----------
    Therneau (2023), ``survival:::survfit_confint``.
    """
    check_conf_type(conf_type)
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    surv, se_log = np.asarray(surv, dtype=float), np.asarray(se_log, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = z * se_log * surv
            return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        if conf_type == "log":
            p = np.where(surv == 0, np.nan, surv)
            return np.exp(np.log(p) - z * se_log), np.minimum(np.exp(np.log(p) + z * se_log), 1.0)
        p = np.where((surv <= 0) | (surv >= 1), np.nan, surv)
        loglog = np.log(-np.log(p))
        shift = z * se_log / np.log(p)
        return np.exp(-np.exp(loglog - shift)), np.exp(-np.exp(loglog + shift))
